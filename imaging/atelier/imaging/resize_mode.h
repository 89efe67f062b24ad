// How an image is fitted to a target size (the crawler's resize, the
// trainer's centre crop). Owned by imaging/, which does the resizing; the job
// spec (spec/) and the wire (crawl.proto's ResizeMode, converted in
// spec/resize_mode_proto.h) name the same four modes.
#pragma once

#include <optional>

#include "absl/strings/string_view.h"

namespace atelier::imaging {

enum class ResizeMode { kKeep, kShorterSide, kLongerSide, kCenterCrop };

// "keep", "shorter_side", "longer_side", "center_crop".
absl::string_view ResizeModeName(ResizeMode mode);
// The mode of a name ResizeModeName gives; nullopt for any other text.
std::optional<ResizeMode> ParseResizeMode(absl::string_view name);

}  // namespace atelier::imaging
