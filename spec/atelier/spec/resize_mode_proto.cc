#include "atelier/spec/resize_mode_proto.h"

namespace atelier {

v1::ResizeMode ResizeModeToProto(imaging::ResizeMode mode) {
  switch (mode) {
    case imaging::ResizeMode::kKeep: return v1::RESIZE_MODE_KEEP;
    case imaging::ResizeMode::kShorterSide: return v1::RESIZE_MODE_SHORTER_SIDE;
    case imaging::ResizeMode::kLongerSide: return v1::RESIZE_MODE_LONGER_SIDE;
    case imaging::ResizeMode::kCenterCrop: return v1::RESIZE_MODE_CENTER_CROP;
  }
  return v1::RESIZE_MODE_CENTER_CROP;
}

imaging::ResizeMode ResizeModeFromProto(v1::ResizeMode mode) {
  switch (mode) {
    case v1::RESIZE_MODE_KEEP: return imaging::ResizeMode::kKeep;
    case v1::RESIZE_MODE_SHORTER_SIDE: return imaging::ResizeMode::kShorterSide;
    case v1::RESIZE_MODE_LONGER_SIDE: return imaging::ResizeMode::kLongerSide;
    default: return imaging::ResizeMode::kCenterCrop;
  }
}

}  // namespace atelier
