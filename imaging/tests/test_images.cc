#include "test_images.h"

#include <png.h>
#include <webp/encode.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include <jpeglib.h>

namespace atelier::imaging::testing {

Image Solid(int width, int height, Rgb colour) {
  Image image;
  image.width = width;
  image.height = height;
  image.rgb.resize(static_cast<size_t>(width) * height * 3);
  for (size_t i = 0; i < image.rgb.size(); i += 3) {
    image.rgb[i] = colour.r;
    image.rgb[i + 1] = colour.g;
    image.rgb[i + 2] = colour.b;
  }
  return image;
}

Image RgbBands(int width, int height) {
  Image image = Solid(width, height, kRed);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const Rgb c = x < width / 3 ? kRed : (x < 2 * width / 3 ? kGreen : kBlue);
      uint8_t* p = &image.rgb[(static_cast<size_t>(y) * width + x) * 3];
      p[0] = c.r;
      p[1] = c.g;
      p[2] = c.b;
    }
  }
  return image;
}

Image PhotoLike(int width, int height, uint32_t seed) {
  Image image = Solid(width, height, kWhite);
  uint32_t state = seed * 2654435761u + 1;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      state = state * 1664525u + 1013904223u;
      const int noise = static_cast<int>((state >> 24) % 25) - 12;
      const double fx = static_cast<double>(x) / width, fy = static_cast<double>(y) / height;
      const int r = static_cast<int>(128 + 100 * std::sin(6.0 * fx + seed) * std::cos(3.0 * fy)) + noise;
      const int g = static_cast<int>(40 + 180 * fy * fx) + noise;
      const int b = static_cast<int>(200 - 150 * fy + 30 * std::sin(20.0 * fx * fy)) + noise;
      uint8_t* p = &image.rgb[(static_cast<size_t>(y) * width + x) * 3];
      p[0] = static_cast<uint8_t>(std::clamp(r, 0, 255));
      p[1] = static_cast<uint8_t>(std::clamp(g, 0, 255));
      p[2] = static_cast<uint8_t>(std::clamp(b, 0, 255));
    }
  }
  return image;
}

Rgb PixelAt(const Image& image, int x, int y) {
  const uint8_t* p = &image.rgb.at((static_cast<size_t>(y) * image.width + x) * 3);
  return {p[0], p[1], p[2]};
}

int Distance(Rgb a, Rgb b) {
  return std::max({std::abs(a.r - b.r), std::abs(a.g - b.g), std::abs(a.b - b.b)});
}

std::string ExifPayload(int orientation, bool big_endian) {
  std::string p("Exif\0\0", 6);
  auto u16 = [&](uint16_t v) {
    if (big_endian) {
      p.push_back(static_cast<char>(v >> 8));
      p.push_back(static_cast<char>(v & 0xFF));
    } else {
      p.push_back(static_cast<char>(v & 0xFF));
      p.push_back(static_cast<char>(v >> 8));
    }
  };
  auto u32 = [&](uint32_t v) {
    if (big_endian) {
      u16(static_cast<uint16_t>(v >> 16));
      u16(static_cast<uint16_t>(v & 0xFFFF));
    } else {
      u16(static_cast<uint16_t>(v & 0xFFFF));
      u16(static_cast<uint16_t>(v >> 16));
    }
  };
  p += big_endian ? "MM" : "II";
  u16(42);
  u32(8);        // IFD0 right after the header
  u16(2);        // two entries: ImageDescription-like filler, then Orientation
  u16(0x010E);   // ImageDescription, ASCII, 4 bytes inline
  u16(2);
  u32(4);
  p += std::string("abc\0", 4);
  u16(0x0112);   // Orientation, SHORT, count 1
  u16(3);
  u32(1);
  u16(static_cast<uint16_t>(orientation));
  u16(0);
  u32(0);        // no next IFD
  return p;
}

std::string EncodeJpegWith(const Image& image, const JpegOptions& options) {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr jerr;
  cinfo.err = jpeg_std_error(&jerr);
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = image.width;
  cinfo.image_height = image.height;
  int components = 3;
  if (options.grayscale) {
    components = 1;
    cinfo.in_color_space = JCS_GRAYSCALE;
  } else if (options.cmyk) {
    components = 4;
    cinfo.in_color_space = JCS_CMYK;
  } else {
    cinfo.in_color_space = JCS_RGB;
  }
  cinfo.input_components = components;
  jpeg_set_defaults(&cinfo);
  if (options.cmyk) jpeg_set_colorspace(&cinfo, options.ycck ? JCS_YCCK : JCS_CMYK);
  jpeg_set_quality(&cinfo, options.quality, TRUE);
  if (options.progressive) jpeg_simple_progression(&cinfo);
  jpeg_start_compress(&cinfo, TRUE);
  if (options.exif_orientation > 0) {
    const std::string exif = ExifPayload(options.exif_orientation, options.exif_big_endian);
    jpeg_write_marker(&cinfo, JPEG_APP0 + 1, reinterpret_cast<const JOCTET*>(exif.data()),
                      static_cast<unsigned>(exif.size()));
  }
  std::vector<uint8_t> row(static_cast<size_t>(image.width) * components);
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      const Rgb c = PixelAt(image, x, y);
      if (options.grayscale) {
        row[x] = c.r;
      } else if (options.cmyk) {
        // Adobe CMYK stores 255 - ink; with K = 0 ink, stored C/M/Y = R/G/B.
        row[x * 4] = c.r;
        row[x * 4 + 1] = c.g;
        row[x * 4 + 2] = c.b;
        row[x * 4 + 3] = options.cmyk_stored_k;
      } else {
        row[x * 3] = c.r;
        row[x * 3 + 1] = c.g;
        row[x * 3 + 2] = c.b;
      }
    }
    JSAMPROW ptr = row.data();
    jpeg_write_scanlines(&cinfo, &ptr, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::string out(reinterpret_cast<const char*>(buffer), size);
  std::free(buffer);
  return out;
}

namespace {
void AppendToString(png_structp png, png_bytep data, png_size_t length) {
  static_cast<std::string*>(png_get_io_ptr(png))->append(reinterpret_cast<const char*>(data), length);
}
void NoFlush(png_structp) {}

void Put32(std::string* s, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) s->push_back(static_cast<char>((v >> shift) & 0xFF));
}
void PutChunk(std::string* s, const char* type, const std::string& data) {
  Put32(s, static_cast<uint32_t>(data.size()));
  std::string body = std::string(type, 4) + data;
  *s += body;
  Put32(s, static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()),
                                       static_cast<uInt>(body.size()))));
}
}  // namespace

std::string EncodePngRaw(int width, int height, const std::vector<uint8_t>& rows, const PngOptions& options) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  std::string out;
  if (setjmp(png_jmpbuf(png))) throw std::runtime_error("libpng failed writing a test image");
  png_set_write_fn(png, &out, AppendToString, NoFlush);
  png_set_IHDR(png, info, width, height, options.bit_depth, options.color_type,
               options.interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  std::vector<png_color> palette;
  for (const Rgb& c : options.palette) palette.push_back(png_color{c.r, c.g, c.b});
  if (!palette.empty()) png_set_PLTE(png, info, palette.data(), static_cast<int>(palette.size()));
  if (!options.trns.empty()) {
    if (options.color_type == PNG_COLOR_TYPE_PALETTE) {
      png_set_tRNS(png, info, options.trns.data(), static_cast<int>(options.trns.size()), nullptr);
    } else {
      png_color_16 key{};
      auto be16 = [&](size_t i) { return static_cast<png_uint_16>((options.trns[i] << 8) | options.trns[i + 1]); };
      if (options.color_type == PNG_COLOR_TYPE_GRAY) {
        key.gray = be16(0);
      } else {
        key.red = be16(0);
        key.green = be16(2);
        key.blue = be16(4);
      }
      png_set_tRNS(png, info, nullptr, 0, &key);
    }
  }
  png_write_info(png, info);
  const size_t stride = rows.size() / height;
  const int passes = png_set_interlace_handling(png);
  for (int pass = 0; pass < passes; ++pass) {
    for (int y = 0; y < height; ++y) png_write_row(png, rows.data() + y * stride);
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

std::string EncodeWebpLossy(const Image& image, int quality) {
  uint8_t* output = nullptr;
  const size_t size = WebPEncodeRGB(image.rgb.data(), image.width, image.height, image.width * 3,
                                    static_cast<float>(quality), &output);
  std::string out(reinterpret_cast<const char*>(output), size);
  WebPFree(output);
  return out;
}

std::string EncodeWebpLosslessRgba(int width, int height, const std::vector<uint8_t>& rgba) {
  uint8_t* output = nullptr;
  const size_t size = WebPEncodeLosslessRGBA(rgba.data(), width, height, width * 4, &output);
  std::string out(reinterpret_cast<const char*>(output), size);
  WebPFree(output);
  return out;
}

std::vector<std::string> EncodedEveryWay(const Image& image) {
  JpegOptions progressive;
  progressive.progressive = true;
  JpegOptions exif;
  exif.exif_orientation = 6;
  std::vector<uint8_t> rgba;
  for (size_t i = 0; i < image.rgb.size(); i += 3) {
    rgba.insert(rgba.end(), {image.rgb[i], image.rgb[i + 1], image.rgb[i + 2], static_cast<uint8_t>(i % 256)});
  }
  PngOptions interlaced;
  interlaced.interlaced = true;
  PngOptions with_alpha;
  with_alpha.color_type = PNG_COLOR_TYPE_RGB_ALPHA;
  return {EncodeJpegWith(image, {}),
          EncodeJpegWith(image, progressive),
          EncodeJpegWith(image, exif),
          EncodePngRaw(image.width, image.height, image.rgb, {}),
          EncodePngRaw(image.width, image.height, image.rgb, interlaced),
          EncodePngRaw(image.width, image.height, rgba, with_alpha),
          EncodeWebpLossy(image, 80),
          EncodeWebpLosslessRgba(image.width, image.height, rgba)};
}

std::string PngBomb(uint32_t width, uint32_t height) {
  std::string png("\x89PNG\r\n\x1a\n", 8);
  std::string ihdr;
  Put32(&ihdr, width);
  Put32(&ihdr, height);
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB, deflate, no filter, no interlace
  PutChunk(&png, "IHDR", ihdr);
  // One kilobyte of zeros (filter bytes and black pixels), compressed.
  std::vector<uint8_t> zeros(1024, 0);
  uLongf compressed_size = compressBound(zeros.size());
  std::string compressed(compressed_size, '\0');
  compress(reinterpret_cast<Bytef*>(compressed.data()), &compressed_size, zeros.data(), zeros.size());
  compressed.resize(compressed_size);
  PutChunk(&png, "IDAT", compressed);
  PutChunk(&png, "IEND", "");
  return png;
}

std::string JpegBomb(uint16_t width, uint16_t height) {
  std::string jpeg = EncodeJpegWith(Solid(16, 16, kRed), {});
  // SOF0: FF C0, length (2), precision (1), height (2), width (2).
  const size_t sof = jpeg.find("\xFF\xC0");
  if (sof == std::string::npos) throw std::runtime_error("no SOF0 in the test JPEG");
  jpeg[sof + 5] = static_cast<char>(height >> 8);
  jpeg[sof + 6] = static_cast<char>(height & 0xFF);
  jpeg[sof + 7] = static_cast<char>(width >> 8);
  jpeg[sof + 8] = static_cast<char>(width & 0xFF);
  return jpeg;
}

}  // namespace atelier::imaging::testing
