// ValidateImage: the shape check every encoder and resizer starts with.
#include "absl/strings/str_cat.h"
#include "atelier/imaging/internal/codec_internal.h"

namespace atelier::imaging::internal {

absl::Status ValidateImage(const Image& image, absl::string_view what) {
  if (image.width <= 0 || image.height <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": empty image (", image.width, "x", image.height, ")"));
  }
  const size_t expected = static_cast<size_t>(image.width) * static_cast<size_t>(image.height) * 3;
  if (image.rgb.size() != expected) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": image ", image.width, "x", image.height,
                                                   " needs ", expected, " RGB bytes, has ",
                                                   image.rgb.size()));
  }
  return absl::OkStatus();
}

}  // namespace atelier::imaging::internal
