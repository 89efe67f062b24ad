// Internal: the separable Lanczos-3 resampler behind Resize and ResizeTo.
// Stateless and thread-safe.
#pragma once

#include "atelier/imaging/image.h"

namespace atelier::imaging::internal {

// Scales `image` (which must pass ValidateImage) to scaled_w x scaled_h and
// returns the out_w x out_h window starting at (off_x, off_y) of the scaled
// image; only that window is computed. The window must lie inside the scaled
// image. `kernels` picks the loops: the best the CPU has (AVX2, else SSE2 on
// x86-64), SSE2 only, or portable scalar code. All give bit-identical
// results; tests compare them.
enum class Kernels { kBest, kSse2, kScalar };
Image ResampleWindow(const Image& image, int scaled_w, int scaled_h, int off_x, int off_y, int out_w, int out_h,
                     Kernels kernels = Kernels::kBest);

// The source pixels [begin, end) that outputs [offset, offset + out_size) of
// an in_size -> scaled_size axis read (with non-zero weight).
struct Span {
  int begin = 0;
  int end = 0;
};
Span SourceSpan(int in_size, int scaled_size, int offset, int out_size);

// ResampleWindow of a full_w x full_h source of which only `region`, the
// part at (region_x, region_y), was decoded. The region must contain the
// SourceSpan of both axes; the result equals ResampleWindow on the full source.
Image ResampleRegion(const Image& region, int region_x, int region_y, int full_w, int full_h, int scaled_w,
                     int scaled_h, int off_x, int off_y, int out_w, int out_h, Kernels kernels = Kernels::kBest);

// Resize(kCenterCrop)'s geometry for a width x height image: the shorter side
// scaled to `size`, and the offset of the centred size x size window.
struct CropGeometry {
  int scaled_w = 0;
  int scaled_h = 0;
  int off_x = 0;
  int off_y = 0;
};
CropGeometry CenterCropGeometry(int width, int height, int size);  // resize.cc

}  // namespace atelier::imaging::internal
