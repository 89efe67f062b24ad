// The AVX2, SSE2 and scalar resampling loops give bit-identical results.
#include "atelier/imaging/internal/resample.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "test_images.h"

namespace atelier::imaging {
namespace {

TEST(ResampleKernelsTest, SimdMatchesScalar) {
  const Image photo = testing::PhotoLike(203, 157, 31);
  struct Window {
    int scaled_w, scaled_h, off_x, off_y, out_w, out_h;
  };
  for (const Window& w : std::vector<Window>{{101, 78, 0, 0, 101, 78},
                                             {137, 106, 10, 3, 100, 100},
                                             {50, 39, 0, 0, 50, 39},
                                             {7, 5, 0, 0, 7, 5},
                                             {406, 314, 40, 20, 300, 250},
                                             {203, 80, 0, 0, 203, 80},
                                             {20, 157, 0, 0, 20, 157}}) {
    SCOPED_TRACE(absl::StrCat(w.scaled_w, "x", w.scaled_h, "+", w.off_x, "+", w.off_y));
    auto run = [&](internal::Kernels kernels) {
      return internal::ResampleWindow(photo, w.scaled_w, w.scaled_h, w.off_x, w.off_y, w.out_w, w.out_h, kernels);
    };
    const Image best = run(internal::Kernels::kBest);
    const Image sse2 = run(internal::Kernels::kSse2);
    const Image scalar = run(internal::Kernels::kScalar);
    ASSERT_EQ(best.width, w.out_w);
    ASSERT_EQ(best.height, w.out_h);
    EXPECT_EQ(best.rgb, scalar.rgb);
    EXPECT_EQ(sse2.rgb, scalar.rgb);
  }
}

}  // namespace
}  // namespace atelier::imaging
