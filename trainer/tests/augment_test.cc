#include "atelier/trainer/augment.h"

#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace atelier::trainer {
namespace {

constexpr int kSize = 32;

std::vector<uint8_t> Augmented(const std::vector<uint8_t>& src, const AugmentOptions& options, uint64_t seed) {
  std::vector<uint8_t> dst(src.size());
  std::mt19937_64 rng(seed);
  AugmentImage(src.data(), dst.data(), kSize, 3, options, rng);
  return dst;
}

TEST(AugmentTest, SolidColourStaysExactlyTheSame) {
  std::vector<uint8_t> src(kSize * kSize * 3);
  for (size_t p = 0; p < src.size(); p += 3) src[p] = 200, src[p + 1] = 50, src[p + 2] = 120;
  AugmentOptions all;
  all.max_rotation_deg = 15;
  for (uint64_t seed = 0; seed < 20; ++seed) ASSERT_EQ(Augmented(src, all, seed), src) << "seed " << seed;
}

TEST(AugmentTest, ColourHistogramUnchangedWithinInterpolation) {
  // Fine random pattern of three colours: the mean colour is kept by any crop,
  // flip or rotation, and every pixel stays a blend of the palette (within the
  // per-channel range of the palette).
  const uint8_t palette[3][3] = {{220, 30, 40}, {30, 200, 60}, {50, 70, 210}};
  std::mt19937_64 pick(3);
  std::vector<uint8_t> src(kSize * kSize * 3);
  for (size_t p = 0; p < src.size(); p += 3) {
    const uint8_t* c = palette[pick() % 3];
    src[p] = c[0], src[p + 1] = c[1], src[p + 2] = c[2];
  }
  auto mean = [](const std::vector<uint8_t>& v, int ch) {
    double s = 0;
    for (size_t p = ch; p < v.size(); p += 3) s += v[p];
    return s / (v.size() / 3);
  };
  struct Case {
    bool crop, flip, rotate;
  } cases[] = {{true, false, false}, {false, true, false}, {false, false, true}, {true, true, true}};
  for (const Case& c : cases) {
    AugmentOptions options;
    options.crop = c.crop;
    options.hflip = c.flip;
    options.rotate = c.rotate;
    for (uint64_t seed = 0; seed < 10; ++seed) {
      auto out = Augmented(src, options, seed);
      for (int ch = 0; ch < 3; ++ch) {
        EXPECT_NEAR(mean(out, ch), mean(src, ch), 12.0) << "channel " << ch;
        uint8_t lo = std::min({palette[0][ch], palette[1][ch], palette[2][ch]});
        uint8_t hi = std::max({palette[0][ch], palette[1][ch], palette[2][ch]});
        for (size_t p = ch; p < out.size(); p += 3) {
          ASSERT_GE(out[p], lo);
          ASSERT_LE(out[p], hi);
        }
      }
    }
  }
}

TEST(AugmentTest, FlipOnlyMirrorsExactly) {
  std::vector<uint8_t> src(kSize * kSize * 3);
  for (size_t p = 0; p < src.size(); ++p) src[p] = static_cast<uint8_t>(p * 7);
  AugmentOptions flip_only;
  flip_only.crop = flip_only.rotate = false;
  int flipped = 0;
  for (uint64_t seed = 0; seed < 10; ++seed) {
    auto out = Augmented(src, flip_only, seed);
    if (out == src) continue;
    ++flipped;
    for (int y = 0; y < kSize; ++y)
      for (int x = 0; x < kSize; ++x)
        for (int c = 0; c < 3; ++c)
          ASSERT_EQ(out[(y * kSize + x) * 3 + c], src[(y * kSize + (kSize - 1 - x)) * 3 + c]);
  }
  EXPECT_GT(flipped, 0);
  EXPECT_LT(flipped, 10);
}

TEST(AugmentTest, AllOffCopies) {
  std::vector<uint8_t> src(kSize * kSize * 3);
  for (size_t p = 0; p < src.size(); ++p) src[p] = static_cast<uint8_t>(p);
  AugmentOptions none;
  none.crop = none.hflip = none.rotate = false;
  EXPECT_EQ(Augmented(src, none, 1), src);
}

}  // namespace
}  // namespace atelier::trainer
