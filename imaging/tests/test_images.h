// Test-only image generators: build images in memory and encode them with
// libjpeg, libpng and libwebp directly (not through atelier_imaging), so the
// decoder is checked against independent encoders. Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "atelier/imaging/image.h"

namespace atelier::imaging::testing {

struct Rgb {
  uint8_t r, g, b;
};
inline constexpr Rgb kRed{255, 0, 0};
inline constexpr Rgb kGreen{0, 255, 0};
inline constexpr Rgb kBlue{0, 0, 255};
inline constexpr Rgb kWhite{255, 255, 255};

// Uniform image.
Image Solid(int width, int height, Rgb colour);
// Three vertical bands of equal width: red (left), green, blue (right).
Image RgbBands(int width, int height);
// Smooth gradients plus deterministic noise: photo-like content.
Image PhotoLike(int width, int height, uint32_t seed);
Rgb PixelAt(const Image& image, int x, int y);
// Max channel difference between a pixel and a colour.
int Distance(Rgb a, Rgb b);

struct JpegOptions {
  int quality = 95;
  bool progressive = false;
  bool grayscale = false;   // encode the red channel as a one-component JPEG
  bool cmyk = false;        // Adobe (inverted) CMYK, four components
  bool ycck = false;        // with cmyk: store as YCCK
  uint8_t cmyk_stored_k = 255;  // with cmyk: stored K (255 - black ink)
  int exif_orientation = 0; // 1..8 writes an APP1 Exif marker; 0 = none
  bool exif_big_endian = false;
};
std::string EncodeJpegWith(const Image& image, const JpegOptions& options);
// The APP1 payload ("Exif\0\0" + TIFF with one IFD0 Orientation entry).
std::string ExifPayload(int orientation, bool big_endian);

struct PngOptions {
  int color_type = 2;  // PNG_COLOR_TYPE_*
  int bit_depth = 8;
  bool interlaced = false;
  std::vector<Rgb> palette;      // for color_type 3
  std::vector<uint8_t> trns;     // raw tRNS chunk: palette alphas, or a 16-bit gray/RGB key (big endian)
};
// `rows` holds the raw PNG samples (big-endian for 16-bit), tightly packed.
std::string EncodePngRaw(int width, int height, const std::vector<uint8_t>& rows, const PngOptions& options);

std::string EncodeWebpLossy(const Image& image, int quality);
// Lossless WebP of RGBA pixels (width * height * 4 bytes).
std::string EncodeWebpLosslessRgba(int width, int height, const std::vector<uint8_t>& rgba);

// `image` encoded every way the decoders read: baseline, progressive and
// EXIF-rotated (6) JPEG, RGB, interlaced RGB and RGBA PNG, lossy WebP and
// lossless RGBA WebP (alpha a ramp over the pixels).
std::vector<std::string> EncodedEveryWay(const Image& image);

// A PNG whose IHDR declares width x height (8-bit RGB) followed by a tiny
// valid zlib IDAT and IEND: a decompression bomb.
std::string PngBomb(uint32_t width, uint32_t height);
// A small valid JPEG whose SOF0 is patched to declare width x height.
std::string JpegBomb(uint16_t width, uint16_t height);

}  // namespace atelier::imaging::testing
