// Decoded images, image codecs and resizing shared by the crawler (decode,
// resize, re-encode) and the trainer (decode to training resolution).
//
// Pixels are always 8-bit RGB, interleaved, row-major (HWC), channel 0 = red,
// 1 = green, 2 = blue. Transparent pixels are composited on white, EXIF
// orientation is applied, CMYK/YCCK, grayscale, palette and 16-bit inputs are
// converted. All functions are pure and thread-safe; an Image owns its pixels.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "atelier/imaging/resize_mode.h"

namespace atelier::imaging {

struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;  // width * height * 3 bytes
};

enum class Codec { kJpeg, kPng, kWebp };
absl::string_view CodecName(Codec codec);  // "jpg", "png", "webp"

// What the header says, without decoding pixels.
struct ImageInfo {
  Codec codec = Codec::kJpeg;
  int width = 0;   // as stored, before EXIF orientation
  int height = 0;
};

struct DecodeOptions {
  // Refuse (before allocating) images whose declared canvas exceeds this many
  // pixels: decompression bombs. 0 = no limit.
  int64_t max_pixels = 64'000'000;
  // When > 0, a JPEG may be decoded with libjpeg-turbo's DCT scaling (1/2,
  // 1/4, 1/8) as long as the decoded shorter side stays >= this many pixels.
  int min_shorter_side = 0;
};

struct DecodedImage {
  Image image;
  Codec codec = Codec::kJpeg;
  int original_width = 0;   // full-resolution size after EXIF orientation
  int original_height = 0;
};

// Short machine-readable failure reasons, used in crawl stats and reports.
// Every error status returned by this module carries one as a payload.
inline constexpr absl::string_view kReasonNotAnImage = "not_an_image";  // unknown magic: HTML, text, empty
inline constexpr absl::string_view kReasonTruncated = "truncated_image";
inline constexpr absl::string_view kReasonCorrupt = "corrupt_image";
inline constexpr absl::string_view kReasonTooLarge = "image_too_large";  // bomb guard
// The reason of an error from this module, or "error" for any other status.
std::string FailureReason(const absl::Status& status);
// (Added.) Type URL of the status payload that holds the reason.
inline constexpr absl::string_view kFailureReasonTypeUrl = "type.atelier.dev/atelier.imaging.FailureReason";

absl::StatusOr<ImageInfo> ProbeImage(absl::string_view bytes);
absl::StatusOr<DecodedImage> DecodeImage(absl::string_view bytes, const DecodeOptions& options = {});

// Resizes with an antialiasing filter as the crawl spec says: kKeep returns a
// copy, kShorterSide / kLongerSide scale that side to `size` keeping the aspect
// ratio, kCenterCrop scales the shorter side to `size` then crops the centre
// size x size. InvalidArgument for size <= 0 or an empty image.
absl::StatusOr<Image> Resize(const Image& image, ResizeMode mode, int size);
// Resizes to exactly width x height (aspect not kept).
absl::StatusOr<Image> ResizeTo(const Image& image, int width, int height);

// (Added.) The size Resize() returns for a width x height input, without
// resizing anything. InvalidArgument as Resize.
struct ImageSize {
  int width = 0;
  int height = 0;
};
absl::StatusOr<ImageSize> ResizedSize(int width, int height, ResizeMode mode, int size);

// DecodeImage followed by Resize(mode, size), doing less work: a JPEG
// is DCT-scaled (1/2, 1/4, 1/8) as far as the resize allows (the decoded
// shorter side stays >= size for kShorterSide / kCenterCrop, the longer side
// >= size for kLongerSide; options.min_shorter_side is not used), for
// kCenterCrop the IDCT and colour conversion of JPEG pixels the crop never
// reads are skipped (everything is still entropy-decoded, so errors are as
// DecodeImage's), and the full-size pixels live in per-thread scratch buffers
// reused across calls (buffers above 32 MB are freed after each call). The
// pixels equal Resize(DecodeImage(...)) up to DCT scaling. `image` is the resized
// result; codec and original_width/height as DecodeImage. Errors as
// DecodeImage, or InvalidArgument as Resize (checked before decoding).
// Thread-safe. The crawler's and the trainer's decode + resize path.
absl::StatusOr<DecodedImage> DecodeAndResize(absl::string_view bytes, ResizeMode mode, int size,
                                             const DecodeOptions& options = {});

// (Added.) An upper bound of the bytes DecodeAndResize(bytes, mode, size,
// options) allocates (DecodeImage + EncodeJpeg for kKeep): the decoded pixels
// after DCT scaling, an EXIF-rotated copy, codec buffers (a progressive
// JPEG's coefficients, WebP's RGBA), the resampler's intermediate, the
// resized image and its JPEG. Reads only the header, so a caller can wait for
// that much memory before decoding. Errors as the decoders give them from
// the header: image_too_large above options.max_pixels, not_an_image,
// truncated_image, corrupt_image; InvalidArgument for a bad size.
absl::StatusOr<int64_t> EstimateDecodeMemory(absl::string_view bytes, ResizeMode mode, int size,
                                             const DecodeOptions& options = {});

absl::StatusOr<std::string> EncodeJpeg(const Image& image, int quality);
absl::StatusOr<std::string> EncodePng(const Image& image);

}  // namespace atelier::imaging
