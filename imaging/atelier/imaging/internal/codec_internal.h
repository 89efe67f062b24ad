// Internal helpers shared by the codec, probe and resize files of
// atelier_imaging. Not part of the public API: include only from imaging/*.cc.
// Everything here is stateless and thread-safe.
#pragma once

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "atelier/imaging/image.h"

namespace atelier::imaging::internal {

// An error status carrying `reason` (one of the kReason* constants) as the
// payload under kFailureReasonTypeUrl. Code: InvalidArgument for
// not_an_image, DataLoss for truncated/corrupt, ResourceExhausted for
// too_large.
absl::Status ImageError(absl::string_view reason, absl::string_view message);

// Which codec the magic bytes announce; nullopt when none does.
std::optional<Codec> SniffCodec(absl::string_view bytes);

// Refuses a declared canvas larger than `max_pixels` (0 = unlimited) or with a
// non-positive side, before anything is allocated for it.
absl::Status CheckCanvas(Codec codec, int64_t width, int64_t height, int64_t max_pixels);

// not_an_image error describing `bytes` (empty or without a known signature).
absl::Status NotAnImage(absl::string_view bytes);

// Per-codec header probes and decoders. The decoders write pixels as stored
// into *pixels (reusing its vector's capacity) and return the stored size and,
// for JPEG, the EXIF orientation; the callers apply it.
absl::StatusOr<ImageInfo> ProbeJpeg(absl::string_view bytes);
absl::StatusOr<ImageInfo> ProbePng(absl::string_view bytes);
absl::StatusOr<ImageInfo> ProbeWebp(absl::string_view bytes);

struct Rect {
  int x = 0;
  int y = 0;
  int width = 0;
  int height = 0;
};

struct RawDecode {
  int stored_width = 0;     // full-resolution size as stored
  int stored_height = 0;
  int orientation = 1;      // EXIF orientation 1..8
  // The pixels are `region` of a decoded_width x decoded_height image (the
  // stored image after DCT scaling); the whole of it unless the decoder was
  // allowed to crop (CodecOptions::center_crop_size).
  int decoded_width = 0;
  int decoded_height = 0;
  Rect region;
};
struct CodecOptions {
  int64_t max_pixels = 0;     // as DecodeOptions::max_pixels
  // JPEG DCT scaling may shrink the image as long as the decoded shorter side
  // stays >= min_shorter_side and the longer side >= min_longer_side. Both 0
  // = full size.
  int min_shorter_side = 0;
  int min_longer_side = 0;
  // > 0: the caller will only Resize(kCenterCrop, center_crop_size) the
  // oriented result, so a JPEG decoder may skip the IDCT and colour
  // conversion of pixels that resize never reads (it still entropy-decodes
  // everything, so truncation and corruption are found as without it).
  int center_crop_size = 0;
};
// What decoding an image costs in memory, from its header only: the size the
// decoder produces (after DCT scaling) and the bytes it allocates for that
// (pixels, an orientation copy for JPEG, codec buffers such as a progressive
// JPEG's coefficients or WebP's RGBA). Refuses a canvas over
// options.max_pixels as the decoder would.
struct DecodeFootprint {
  int decoded_width = 0;
  int decoded_height = 0;
  int64_t bytes = 0;
};
absl::StatusOr<DecodeFootprint> JpegFootprint(absl::string_view bytes, const CodecOptions& options);
absl::StatusOr<DecodeFootprint> PngFootprint(absl::string_view bytes, const CodecOptions& options);
absl::StatusOr<DecodeFootprint> WebpFootprint(absl::string_view bytes, const CodecOptions& options);

absl::StatusOr<RawDecode> DecodeJpeg(absl::string_view bytes, const CodecOptions& options, Image* pixels);
absl::StatusOr<RawDecode> DecodePng(absl::string_view bytes, const CodecOptions& options, Image* pixels);
absl::StatusOr<RawDecode> DecodeWebp(absl::string_view bytes, const CodecOptions& options, Image* pixels);
// Dispatches on the magic bytes; *codec receives the codec.
absl::StatusOr<RawDecode> DecodeAny(absl::string_view bytes, const CodecOptions& options, Image* pixels,
                                    Codec* codec);

// EXIF orientation (1..8) from the payload of an APP1 marker ("Exif\0\0" +
// TIFF). Returns 1 when absent, malformed or out of range.
int ParseExifOrientation(absl::string_view app1_payload);

// Applies EXIF orientation `orientation` (1..8; others = 1) to `image`.
Image ApplyOrientation(Image image, int orientation);
// The same into *dst (reusing its capacity); orientation must be 2..8 and
// dst must not be src.
void ApplyOrientationInto(const Image& src, int orientation, Image* dst);

// A per-thread scratch image (slot 0 or 1) whose buffer is reused across
// calls, so that hot paths do not fault in fresh pages for every image. Call
// TrimScratch after use: it frees buffers grown past a few tens of MB.
Image& ThreadScratch(int slot);
void TrimScratch(Image& scratch);
// The rectangle of a stored_w x stored_h stored image that holds rectangle
// `r` of the image shown with EXIF `orientation`, and the reverse.
Rect OrientedToStored(const Rect& r, int orientation, int stored_w, int stored_h);
Rect StoredToOriented(const Rect& r, int orientation, int stored_w, int stored_h);
// True for orientations that swap width and height (5..8).
inline bool OrientationSwapsAxes(int orientation) { return orientation >= 5 && orientation <= 8; }

// InvalidArgument naming `what` unless image has positive sides and exactly
// width * height * 3 bytes.
absl::Status ValidateImage(const Image& image, absl::string_view what);

// Converts `count` RGBA pixels to RGB composited on white.
void CompositeRgbaOnWhite(const uint8_t* rgba, int64_t count, uint8_t* rgb);

}  // namespace atelier::imaging::internal
