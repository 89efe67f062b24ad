// DecodeAndResize: same sizes and reasons as DecodeImage + Resize, DCT
// scaling that never goes below the target, orientation, thread safety.
#include <cstdlib>
#include <thread>

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

double MeanAbsDifference(const Image& a, const Image& b) {
  double total = 0;
  for (size_t i = 0; i < a.rgb.size(); ++i) total += std::abs(a.rgb[i] - b.rgb[i]);
  return total / static_cast<double>(a.rgb.size());
}

TEST(DecodeAndResizeTest, MatchesDecodeThenResize) {
  const Image photo = testing::PhotoLike(1024, 768, 41);
  const std::vector<std::string> inputs = {testing::EncodeJpegWith(photo, {}), testing::EncodePngRaw(1024, 768, photo.rgb, {}),
                                           testing::EncodeWebpLossy(photo, 90)};
  for (const std::string& bytes : inputs) {
    for (ResizeMode mode : {ResizeMode::kKeep, ResizeMode::kShorterSide, ResizeMode::kLongerSide, ResizeMode::kCenterCrop}) {
      for (int size : {64, 200, 256, 900}) {
        SCOPED_TRACE(absl::StrCat(ResizeModeName(mode), " ", size, " ", bytes.size(), " bytes"));
        ASSERT_OK_AND_ASSIGN(DecodedImage fused, DecodeAndResize(bytes, mode, size));
        ASSERT_OK_AND_ASSIGN(DecodedImage full, DecodeImage(bytes));
        ASSERT_OK_AND_ASSIGN(Image reference, Resize(full.image, mode, size));
        EXPECT_EQ(fused.codec, full.codec);
        EXPECT_EQ(fused.original_width, 1024);
        EXPECT_EQ(fused.original_height, 768);
        ASSERT_EQ(fused.image.width, reference.width);
        ASSERT_EQ(fused.image.height, reference.height);
        // DCT scaling changes the pixels a little, never the picture.
        EXPECT_LT(MeanAbsDifference(fused.image, reference), 4.0);
      }
    }
  }
}

TEST(DecodeAndResizeTest, UniformColourStaysExact) {
  const testing::Rgb colour{12, 200, 99};
  const std::string png = testing::EncodePngRaw(300, 200, testing::Solid(300, 200, colour).rgb, {});
  ASSERT_OK_AND_ASSIGN(DecodedImage out, DecodeAndResize(png, ResizeMode::kCenterCrop, 64));
  ASSERT_EQ(out.image.width, 64);
  for (int i = 0; i < 64 * 64; ++i) ASSERT_EQ(Distance(PixelAt(out.image, i % 64, i / 64), colour), 0);
}

TEST(DecodeAndResizeTest, AppliesOrientationBeforeCropping) {
  // 400x200 stored, red left half, blue right half; orientation 6 makes it
  // 200x400 with red on top. A centre crop of a portrait keeps the middle rows.
  Image stored = testing::Solid(400, 200, testing::kBlue);
  for (int y = 0; y < 200; ++y) {
    for (int x = 0; x < 200; ++x) stored.rgb[(y * 400 + x) * 3] = 255, stored.rgb[(y * 400 + x) * 3 + 2] = 0;
  }
  testing::JpegOptions options;
  options.exif_orientation = 6;
  ASSERT_OK_AND_ASSIGN(DecodedImage out, DecodeAndResize(testing::EncodeJpegWith(stored, options),
                                                         ResizeMode::kShorterSide, 50));
  EXPECT_EQ(out.original_width, 200);
  EXPECT_EQ(out.original_height, 400);
  ASSERT_EQ(out.image.width, 50);
  ASSERT_EQ(out.image.height, 100);
  EXPECT_LE(Distance(PixelAt(out.image, 25, 10), testing::kRed), 16);
  EXPECT_LE(Distance(PixelAt(out.image, 25, 90), testing::kBlue), 16);
}

TEST(DecodeAndResizeTest, ErrorsKeepTheirReasons) {
  const std::string jpeg = testing::EncodeJpegWith(testing::PhotoLike(256, 256, 42), {});
  EXPECT_EQ(FailureReason(DecodeAndResize(jpeg.substr(0, jpeg.size() / 2), ResizeMode::kCenterCrop, 64).status()),
            kReasonTruncated);
  EXPECT_EQ(FailureReason(DecodeAndResize("<html></html>", ResizeMode::kCenterCrop, 64).status()), kReasonNotAnImage);
  EXPECT_EQ(FailureReason(DecodeAndResize(testing::PngBomb(100000, 100000), ResizeMode::kCenterCrop, 64).status()),
            kReasonTooLarge);
  // Bad resize arguments are reported before anything is decoded.
  EXPECT_THAT(DecodeAndResize("<html></html>", ResizeMode::kCenterCrop, 0), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(DecodeAndResizeTest, TruncationBelowTheCropIsStillFound) {
  // A tall image: a centre crop reads only its middle rows, but a file cut
  // in its bottom rows is still reported as truncated.
  const std::string jpeg = testing::EncodeJpegWith(testing::PhotoLike(200, 800, 43), {});
  const std::string cut = jpeg.substr(0, jpeg.size() * 95 / 100);
  EXPECT_EQ(FailureReason(DecodeImage(cut).status()), kReasonTruncated);
  EXPECT_EQ(FailureReason(DecodeAndResize(cut, ResizeMode::kCenterCrop, 100).status()), kReasonTruncated);
  EXPECT_EQ(FailureReason(DecodeAndResize(cut, ResizeMode::kCenterCrop, 20).status()), kReasonTruncated);
}

TEST(DecodeAndResizeTest, ThreadsGetTheSameResults) {
  std::vector<std::string> inputs;
  for (int i = 0; i < 6; ++i) {
    inputs.push_back(testing::EncodeJpegWith(testing::PhotoLike(300 + 40 * i, 240 - 20 * i, 50 + i), {}));
  }
  std::vector<Image> expected;
  for (const std::string& bytes : inputs) {
    ASSERT_OK_AND_ASSIGN(DecodedImage out, DecodeAndResize(bytes, ResizeMode::kCenterCrop, 96));
    expected.push_back(out.image);
  }
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 10; ++round) {
        for (size_t i = 0; i < inputs.size(); ++i) {
          absl::StatusOr<DecodedImage> out = DecodeAndResize(inputs[(i + t) % inputs.size()], ResizeMode::kCenterCrop, 96);
          if (!out.ok() || out->image.rgb != expected[(i + t) % inputs.size()].rgb) ++mismatches[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_THAT(mismatches, ::testing::Each(0));
}

}  // namespace
}  // namespace atelier::imaging

namespace atelier::imaging {
namespace {

// The JPEG decoder only decodes the part a centre crop reads; the result must
// match decoding everything (at the same DCT scale) and cropping, for every
// orientation, landscape and portrait.
class CenterCropRegionTest : public ::testing::TestWithParam<std::tuple<int, bool, int>> {};

TEST_P(CenterCropRegionTest, MatchesFullDecodeThenCrop) {
  const auto [orientation, portrait, size] = GetParam();
  testing::JpegOptions options;
  options.exif_orientation = orientation;
  options.quality = 92;
  const Image photo = portrait ? testing::PhotoLike(360, 656, 70) : testing::PhotoLike(656, 360, 70);
  const std::string jpeg = testing::EncodeJpegWith(photo, options);
  ASSERT_OK_AND_ASSIGN(DecodedImage fused, DecodeAndResize(jpeg, ResizeMode::kCenterCrop, size));
  DecodeOptions same_scale;
  same_scale.min_shorter_side = size;
  ASSERT_OK_AND_ASSIGN(DecodedImage full, DecodeImage(jpeg, same_scale));
  ASSERT_OK_AND_ASSIGN(Image reference, Resize(full.image, ResizeMode::kCenterCrop, size));
  EXPECT_EQ(fused.original_width, full.original_width);
  EXPECT_EQ(fused.original_height, full.original_height);
  ASSERT_EQ(fused.image.width, size);
  ASSERT_EQ(fused.image.height, size);
  int max_difference = 0;
  for (size_t i = 0; i < reference.rgb.size(); ++i) {
    max_difference = std::max(max_difference, std::abs(fused.image.rgb[i] - reference.rgb[i]));
  }
  EXPECT_LE(max_difference, 2);
  EXPECT_LT(MeanAbsDifference(fused.image, reference), 0.05);
}

INSTANTIATE_TEST_SUITE_P(AllOrientations, CenterCropRegionTest,
                         ::testing::Combine(::testing::Range(1, 9), ::testing::Bool(), ::testing::Values(40, 100, 300)),
                         [](const auto& info) {
                           return absl::StrCat("Orientation", std::get<0>(info.param),
                                               std::get<1>(info.param) ? "Portrait" : "Landscape", "Size",
                                               std::get<2>(info.param));
                         });

}  // namespace
}  // namespace atelier::imaging
