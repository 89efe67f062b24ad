// DecodeImage: dispatch by magic bytes, then EXIF orientation.
#include <optional>
#include <utility>

#include "atelier/imaging/image.h"
#include "atelier/imaging/internal/codec_internal.h"

namespace atelier::imaging {
namespace internal {

absl::StatusOr<RawDecode> DecodeAny(absl::string_view bytes, const CodecOptions& options, Image* pixels,
                                    Codec* codec) {
  std::optional<Codec> sniffed = SniffCodec(bytes);
  if (!sniffed.has_value()) return NotAnImage(bytes);
  *codec = *sniffed;
  absl::StatusOr<RawDecode> raw;
  switch (*sniffed) {
    case Codec::kJpeg:
      raw = DecodeJpeg(bytes, options, pixels);
      break;
    case Codec::kPng:
      raw = DecodePng(bytes, options, pixels);
      break;
    case Codec::kWebp:
      raw = DecodeWebp(bytes, options, pixels);
      break;
  }
  if (raw.ok() && raw->decoded_width == 0) {  // the decoder produced the whole image
    raw->decoded_width = pixels->width;
    raw->decoded_height = pixels->height;
    raw->region = Rect{0, 0, pixels->width, pixels->height};
  }
  return raw;
}

}  // namespace internal

absl::StatusOr<DecodedImage> DecodeImage(absl::string_view bytes, const DecodeOptions& options) {
  internal::CodecOptions codec_options;
  codec_options.max_pixels = options.max_pixels;
  codec_options.min_shorter_side = options.min_shorter_side;
  DecodedImage out;
  absl::StatusOr<internal::RawDecode> raw = internal::DecodeAny(bytes, codec_options, &out.image, &out.codec);
  if (!raw.ok()) return raw.status();
  const bool swap = internal::OrientationSwapsAxes(raw->orientation);
  out.original_width = swap ? raw->stored_height : raw->stored_width;
  out.original_height = swap ? raw->stored_width : raw->stored_height;
  out.image = internal::ApplyOrientation(std::move(out.image), raw->orientation);
  return out;
}

}  // namespace atelier::imaging
