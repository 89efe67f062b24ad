// Resize / ResizeTo / ResizedSize: the geometry of the crawl spec's resize
// modes on top of internal::ResampleWindow (resample.cc).
#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "atelier/imaging/image.h"
#include "atelier/imaging/internal/codec_internal.h"
#include "atelier/imaging/internal/resample.h"

namespace atelier::imaging {
namespace {

using internal::ResampleWindow;

// round(a * b / c) for positive values, at least 1.
int ScaledSide(int a, int b, int c) {
  const int64_t v = (static_cast<int64_t>(a) * b * 2 + c) / (static_cast<int64_t>(c) * 2);
  return static_cast<int>(std::max<int64_t>(v, 1));
}

absl::Status CheckSize(int size) {
  if (size <= 0) return absl::InvalidArgumentError(absl::StrCat("resize size must be positive, got ", size));
  return absl::OkStatus();
}

// The full scaled size for kShorterSide / kLongerSide / kCenterCrop.
ImageSize ScaledSize(int width, int height, ResizeMode mode, int size) {
  const bool width_is_target =
      mode == ResizeMode::kLongerSide ? width >= height : width <= height;
  if (width_is_target) return {size, ScaledSide(height, size, width)};
  return {ScaledSide(width, size, height), size};
}

}  // namespace

namespace internal {

CropGeometry CenterCropGeometry(int width, int height, int size) {
  const ImageSize scaled = ScaledSize(width, height, ResizeMode::kShorterSide, size);
  return {scaled.width, scaled.height, (scaled.width - size) / 2, (scaled.height - size) / 2};
}

}  // namespace internal

absl::StatusOr<ImageSize> ResizedSize(int width, int height, ResizeMode mode, int size) {
  if (width <= 0 || height <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("cannot resize an empty image (", width, "x", height, ")"));
  }
  if (absl::Status s = CheckSize(size); !s.ok()) return s;
  if (mode == ResizeMode::kKeep) return ImageSize{width, height};
  if (mode == ResizeMode::kCenterCrop) return ImageSize{size, size};
  return ScaledSize(width, height, mode, size);
}

absl::StatusOr<Image> Resize(const Image& image, ResizeMode mode, int size) {
  if (absl::Status s = internal::ValidateImage(image, "Resize"); !s.ok()) return s;
  if (absl::Status s = CheckSize(size); !s.ok()) return s;
  if (mode == ResizeMode::kKeep) return image;
  if (mode != ResizeMode::kCenterCrop) {
    const ImageSize scaled = ScaledSize(image.width, image.height, mode, size);
    return ResampleWindow(image, scaled.width, scaled.height, 0, 0, scaled.width, scaled.height);
  }
  const internal::CropGeometry crop = internal::CenterCropGeometry(image.width, image.height, size);
  return ResampleWindow(image, crop.scaled_w, crop.scaled_h, crop.off_x, crop.off_y, size, size);
}

absl::StatusOr<Image> ResizeTo(const Image& image, int width, int height) {
  if (absl::Status s = internal::ValidateImage(image, "ResizeTo"); !s.ok()) return s;
  if (width <= 0 || height <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("ResizeTo: target size must be positive, got ", width, "x", height));
  }
  return ResampleWindow(image, width, height, 0, 0, width, height);
}

}  // namespace atelier::imaging
