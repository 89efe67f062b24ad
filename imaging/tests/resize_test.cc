// Resize modes, exact uniform colour, colour regions, centre crop window.
#include <array>

#include "absl/strings/str_cat.h"
#include "atelier/common/status_matchers.h"
#include "atelier/imaging/image.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_images.h"

namespace atelier::imaging {
namespace {

using ::atelier::testing::StatusIs;
using testing::Distance;
using testing::PixelAt;
using testing::Rgb;

struct ModeCase {
  int in_w, in_h;
  ResizeMode mode;
  int size;
  int out_w, out_h;
};

TEST(ResizeTest, ModesProduceTheDocumentedSizes) {
  const std::vector<ModeCase> cases = {
      {300, 200, ResizeMode::kKeep, 100, 300, 200},
      {300, 200, ResizeMode::kShorterSide, 100, 150, 100},
      {200, 300, ResizeMode::kShorterSide, 100, 100, 150},
      {300, 200, ResizeMode::kLongerSide, 100, 100, 67},
      {200, 300, ResizeMode::kLongerSide, 100, 67, 100},
      {300, 200, ResizeMode::kCenterCrop, 100, 100, 100},
      {200, 300, ResizeMode::kCenterCrop, 64, 64, 64},
      {50, 40, ResizeMode::kShorterSide, 80, 100, 80},  // upscales
      {1000, 10, ResizeMode::kLongerSide, 50, 50, 1},   // never below one pixel
      {64, 64, ResizeMode::kCenterCrop, 64, 64, 64},
  };
  for (const ModeCase& c : cases) {
    SCOPED_TRACE(absl::StrCat(c.in_w, "x", c.in_h, " ", ResizeModeName(c.mode), " ", c.size));
    const Image input = testing::PhotoLike(c.in_w, c.in_h, 11);
    ASSERT_OK_AND_ASSIGN(Image out, Resize(input, c.mode, c.size));
    EXPECT_EQ(out.width, c.out_w);
    EXPECT_EQ(out.height, c.out_h);
    EXPECT_EQ(out.rgb.size(), static_cast<size_t>(c.out_w) * c.out_h * 3);
    ASSERT_OK_AND_ASSIGN(ImageSize predicted, ResizedSize(c.in_w, c.in_h, c.mode, c.size));
    EXPECT_EQ(predicted.width, c.out_w);
    EXPECT_EQ(predicted.height, c.out_h);
  }
}

TEST(ResizeTest, KeepReturnsACopy) {
  const Image input = testing::PhotoLike(31, 17, 12);
  ASSERT_OK_AND_ASSIGN(Image out, Resize(input, ResizeMode::kKeep, 256));
  EXPECT_EQ(out.rgb, input.rgb);
}

TEST(ResizeTest, SameSizeIsIdentity) {
  const Image input = testing::PhotoLike(40, 30, 13);
  ASSERT_OK_AND_ASSIGN(Image out, ResizeTo(input, 40, 30));
  EXPECT_EQ(out.rgb, input.rgb);
  ASSERT_OK_AND_ASSIGN(Image same, Resize(input, ResizeMode::kShorterSide, 30));
  EXPECT_EQ(same.rgb, input.rgb);
}

TEST(ResizeTest, InvalidArguments) {
  const Image input = testing::PhotoLike(10, 10, 14);
  EXPECT_THAT(Resize(input, ResizeMode::kShorterSide, 0), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Resize(input, ResizeMode::kKeep, -1), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Resize(Image{}, ResizeMode::kCenterCrop, 10), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ResizeTo(input, 0, 5), StatusIs(absl::StatusCode::kInvalidArgument));
  Image broken = input;
  broken.rgb.pop_back();
  EXPECT_THAT(ResizeTo(broken, 5, 5), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ResizedSize(0, 10, ResizeMode::kKeep, 10), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ResizeTest, UniformColourIsKeptExactly) {
  const Rgb colour{201, 17, 96};
  const Image input = testing::Solid(257, 133, colour);
  const std::vector<std::array<int, 2>> sizes = {{64, 33}, {256, 256}, {13, 7}, {1, 1}, {600, 300}, {257, 1}};
  for (const auto& [w, h] : sizes) {
    ASSERT_OK_AND_ASSIGN(Image out, ResizeTo(input, w, h));
    for (int i = 0; i < w * h; ++i) {
      ASSERT_EQ(Distance(PixelAt(out, i % w, i / w), colour), 0) << w << "x" << h << " pixel " << i;
    }
  }
  for (ResizeMode mode : {ResizeMode::kShorterSide, ResizeMode::kLongerSide, ResizeMode::kCenterCrop}) {
    ASSERT_OK_AND_ASSIGN(Image out, Resize(input, mode, 50));
    for (int i = 0; i < out.width * out.height; ++i) {
      ASSERT_EQ(Distance(PixelAt(out, i % out.width, i / out.width), colour), 0);
    }
  }
}

// Fraction of pixels within `tolerance` of each of red, green, blue.
std::array<double, 3> BandHistogram(const Image& image, int tolerance) {
  std::array<int, 3> counts{};
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      const Rgb p = PixelAt(image, x, y);
      if (Distance(p, testing::kRed) <= tolerance) ++counts[0];
      if (Distance(p, testing::kGreen) <= tolerance) ++counts[1];
      if (Distance(p, testing::kBlue) <= tolerance) ++counts[2];
    }
  }
  const double total = static_cast<double>(image.width) * image.height;
  return {counts[0] / total, counts[1] / total, counts[2] / total};
}

TEST(ResizeTest, DownscalingKeepsRegionColours) {
  const Image bands = testing::RgbBands(900, 300);
  for (const auto& [w, h] : std::vector<std::array<int, 2>>{{300, 100}, {90, 30}, {150, 50}, {450, 150}}) {
    ASSERT_OK_AND_ASSIGN(Image out, ResizeTo(bands, w, h));
    const std::array<double, 3> histogram = BandHistogram(out, 8);
    SCOPED_TRACE(absl::StrCat(w, "x", h));
    for (double fraction : histogram) {
      EXPECT_GT(fraction, 0.28);  // each band a third, minus the blended edges
      EXPECT_LT(fraction, 0.34);
    }
    EXPECT_LE(Distance(PixelAt(out, w / 6, h / 2), testing::kRed), 0);
    EXPECT_LE(Distance(PixelAt(out, w / 2, h / 2), testing::kGreen), 0);
    EXPECT_LE(Distance(PixelAt(out, w - 1 - w / 6, h / 2), testing::kBlue), 0);
  }
}

TEST(ResizeTest, CenterCropKeepsTheMiddle) {
  // Left half red, right half blue, with a 10-pixel green strip on each edge
  // that the crop must cut away.
  Image input = testing::Solid(400, 200, testing::kRed);
  for (int y = 0; y < 200; ++y) {
    for (int x = 0; x < 400; ++x) {
      const Rgb c = (x < 10 || x >= 390) ? testing::kGreen : (x < 200 ? testing::kRed : testing::kBlue);
      uint8_t* p = &input.rgb[(y * 400 + x) * 3];
      p[0] = c.r, p[1] = c.g, p[2] = c.b;
    }
  }
  ASSERT_OK_AND_ASSIGN(Image out, Resize(input, ResizeMode::kCenterCrop, 100));
  ASSERT_EQ(out.width, 100);
  ASSERT_EQ(out.height, 100);
  const std::array<double, 3> histogram = BandHistogram(out, 8);
  EXPECT_EQ(histogram[1], 0.0);  // no green: the edges were cropped
  EXPECT_GT(histogram[0], 0.45);
  EXPECT_GT(histogram[2], 0.45);
  EXPECT_EQ(Distance(PixelAt(out, 2, 50), testing::kRed), 0);
  EXPECT_EQ(Distance(PixelAt(out, 97, 50), testing::kBlue), 0);
}

TEST(ResizeTest, CenterCropOfPortraitMatchesCroppingTheFullResize) {
  const Image input = testing::PhotoLike(120, 300, 15);
  ASSERT_OK_AND_ASSIGN(Image crop, Resize(input, ResizeMode::kCenterCrop, 60));
  ASSERT_OK_AND_ASSIGN(Image full, Resize(input, ResizeMode::kShorterSide, 60));
  ASSERT_EQ(full.width, 60);
  ASSERT_EQ(full.height, 150);
  const int off_y = (150 - 60) / 2;
  for (int y = 0; y < 60; ++y) {
    for (int x = 0; x < 60; ++x) {
      ASSERT_EQ(Distance(PixelAt(crop, x, y), PixelAt(full, x, y + off_y)), 0) << x << "," << y;
    }
  }
}

TEST(ResizeTest, UpscalingInterpolates) {
  Image input = testing::Solid(2, 1, testing::kWhite);
  input.rgb = {0, 0, 0, 255, 255, 255};
  ASSERT_OK_AND_ASSIGN(Image out, ResizeTo(input, 8, 1));
  EXPECT_LT(PixelAt(out, 0, 0).r, 20);
  EXPECT_GT(PixelAt(out, 7, 0).r, 235);
  for (int x = 1; x < 8; ++x) EXPECT_GE(PixelAt(out, x, 0).r + 8, PixelAt(out, x - 1, 0).r);  // roughly monotone
}

}  // namespace
}  // namespace atelier::imaging
