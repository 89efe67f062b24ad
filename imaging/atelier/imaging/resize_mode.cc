#include "atelier/imaging/resize_mode.h"

namespace atelier::imaging {

absl::string_view ResizeModeName(ResizeMode mode) {
  switch (mode) {
    case ResizeMode::kKeep: return "keep";
    case ResizeMode::kShorterSide: return "shorter_side";
    case ResizeMode::kLongerSide: return "longer_side";
    case ResizeMode::kCenterCrop: return "center_crop";
  }
  return "unknown";
}

std::optional<ResizeMode> ParseResizeMode(absl::string_view name) {
  for (ResizeMode mode : {ResizeMode::kKeep, ResizeMode::kShorterSide, ResizeMode::kLongerSide, ResizeMode::kCenterCrop}) {
    if (name == ResizeModeName(mode)) return mode;
  }
  return std::nullopt;
}

}  // namespace atelier::imaging
