// EstimateDecodeMemory: what DecodeAndResize / DecodeImage will allocate for
// an image, read from its header before any pixel buffer exists.
#include <algorithm>
#include <optional>

#include "atelier/common/status_macros.h"
#include "atelier/imaging/image.h"
#include "atelier/imaging/internal/codec_internal.h"

namespace atelier::imaging {

absl::StatusOr<int64_t> EstimateDecodeMemory(absl::string_view bytes, ResizeMode mode, int size,
                                             const DecodeOptions& options) {
  internal::CodecOptions codec_options;
  codec_options.max_pixels = options.max_pixels;
  if (mode == ResizeMode::kKeep) {
    codec_options.min_shorter_side = options.min_shorter_side;
  } else {
    RETURN_IF_ERROR(ResizedSize(1, 1, mode, size).status());
    if (mode == ResizeMode::kShorterSide || mode == ResizeMode::kCenterCrop) codec_options.min_shorter_side = size;
    if (mode == ResizeMode::kLongerSide) codec_options.min_longer_side = size;
  }
  std::optional<Codec> codec = internal::SniffCodec(bytes);
  if (!codec.has_value()) return internal::NotAnImage(bytes);
  absl::StatusOr<internal::DecodeFootprint> footprint;
  switch (*codec) {
    case Codec::kJpeg: footprint = internal::JpegFootprint(bytes, codec_options); break;
    case Codec::kPng: footprint = internal::PngFootprint(bytes, codec_options); break;
    case Codec::kWebp: footprint = internal::WebpFootprint(bytes, codec_options); break;
  }
  if (!footprint.ok()) return footprint.status();
  const int64_t decoded_pixels = int64_t{footprint->decoded_width} * footprint->decoded_height;
  int64_t total = footprint->bytes + (int64_t{64} << 10);  // filter weights, encoder state
  if (mode == ResizeMode::kKeep) {
    total += decoded_pixels * 3;  // the re-encoded JPEG, at most as large as the pixels
  } else {
    // The resampler's intermediate (every decoded column, output rows) and
    // filter weights (about 6 taps per source pixel of each axis, 10 bytes a
    // tap with their SIMD pairs), the resized image and its JPEG (at most as
    // large).
    ASSIGN_OR_RETURN(ImageSize out, ResizedSize(footprint->decoded_width, footprint->decoded_height, mode, size));
    const int64_t rows = std::max(out.height, size);
    const int64_t axes = int64_t{footprint->decoded_width} + footprint->decoded_height;
    total += int64_t{footprint->decoded_width} * rows * 3 + axes * 64 + (int64_t{out.width} + out.height + 2 * size) * 48 +
             2 * (int64_t{out.width} * out.height * 3);
  }
  return total;
}

}  // namespace atelier::imaging
