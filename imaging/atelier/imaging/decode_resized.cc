// DecodeAndResize: DecodeImage + Resize sharing work. The full-size pixels
// live in per-thread scratch buffers; JPEGs are DCT-scaled as far as the
// requested resize allows.
#include "absl/strings/str_cat.h"
#include "atelier/imaging/image.h"
#include "atelier/imaging/internal/codec_internal.h"
#include "atelier/imaging/internal/resample.h"

namespace atelier::imaging {
namespace internal {

Image& ThreadScratch(int slot) {
  thread_local Image scratch[2];
  return scratch[slot & 1];
}

void TrimScratch(Image& scratch) {
  constexpr size_t kMaxRetainedBytes = 32u << 20;
  if (scratch.rgb.capacity() > kMaxRetainedBytes) scratch.rgb = std::vector<uint8_t>();
}

}  // namespace internal

absl::StatusOr<DecodedImage> DecodeAndResize(absl::string_view bytes, ResizeMode mode, int size,
                                             const DecodeOptions& options) {
  // Check the arguments before decoding, as Resize would after.
  if (absl::StatusOr<ImageSize> check = ResizedSize(1, 1, mode, size); !check.ok()) return check.status();
  internal::CodecOptions codec_options;
  codec_options.max_pixels = options.max_pixels;
  if (mode == ResizeMode::kShorterSide || mode == ResizeMode::kCenterCrop) codec_options.min_shorter_side = size;
  if (mode == ResizeMode::kLongerSide) codec_options.min_longer_side = size;
  if (mode == ResizeMode::kCenterCrop) codec_options.center_crop_size = size;
  if (mode == ResizeMode::kKeep) return DecodeImage(bytes, options);

  Image& decoded = internal::ThreadScratch(0);
  DecodedImage out;
  absl::StatusOr<internal::RawDecode> raw = internal::DecodeAny(bytes, codec_options, &decoded, &out.codec);
  if (!raw.ok()) {
    internal::TrimScratch(decoded);
    return raw.status();
  }
  const bool swap = internal::OrientationSwapsAxes(raw->orientation);
  out.original_width = swap ? raw->stored_height : raw->stored_width;
  out.original_height = swap ? raw->stored_width : raw->stored_height;
  const Image* upright = &decoded;
  if (raw->orientation >= 2 && raw->orientation <= 8) {
    Image& rotated = internal::ThreadScratch(1);
    internal::ApplyOrientationInto(decoded, raw->orientation, &rotated);
    upright = &rotated;
  }
  absl::StatusOr<Image> resized;
  if (mode == ResizeMode::kCenterCrop) {
    // The decoder may have produced only the part the crop reads.
    const bool swap = internal::OrientationSwapsAxes(raw->orientation);
    const int full_w = swap ? raw->decoded_height : raw->decoded_width;
    const int full_h = swap ? raw->decoded_width : raw->decoded_height;
    const internal::Rect region =
        internal::StoredToOriented(raw->region, raw->orientation, raw->decoded_width, raw->decoded_height);
    if (region.width != upright->width || region.height != upright->height) {
      resized = absl::InternalError(absl::StrCat("decoded region ", upright->width, "x", upright->height,
                                                 " does not match its geometry ", region.width, "x", region.height));
    } else {
      const internal::CropGeometry crop = internal::CenterCropGeometry(full_w, full_h, size);
      resized = internal::ResampleRegion(*upright, region.x, region.y, full_w, full_h, crop.scaled_w, crop.scaled_h,
                                         crop.off_x, crop.off_y, size, size);
    }
  } else {
    resized = Resize(*upright, mode, size);
  }
  internal::TrimScratch(internal::ThreadScratch(0));
  internal::TrimScratch(internal::ThreadScratch(1));
  if (!resized.ok()) return resized.status();
  out.image = *std::move(resized);
  return out;
}

}  // namespace atelier::imaging
