// EncodeJpeg / EncodePng round trips and argument checks.
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

TEST(EncodeTest, PngRoundTripIsLossless) {
  const Image photo = testing::PhotoLike(123, 45, 21);
  ASSERT_OK_AND_ASSIGN(std::string png, EncodePng(photo));
  ASSERT_OK_AND_ASSIGN(ImageInfo info, ProbeImage(png));
  EXPECT_EQ(info.codec, Codec::kPng);
  ASSERT_OK_AND_ASSIGN(DecodedImage decoded, DecodeImage(png));
  EXPECT_EQ(decoded.image.width, 123);
  EXPECT_EQ(decoded.image.height, 45);
  EXPECT_EQ(decoded.image.rgb, photo.rgb);
}

TEST(EncodeTest, JpegRoundTripKeepsColours) {
  const Image bands = testing::RgbBands(96, 40);
  ASSERT_OK_AND_ASSIGN(std::string jpeg, EncodeJpeg(bands, 90));
  ASSERT_OK_AND_ASSIGN(DecodedImage decoded, DecodeImage(jpeg));
  EXPECT_EQ(decoded.codec, Codec::kJpeg);
  EXPECT_EQ(decoded.image.width, 96);
  EXPECT_EQ(decoded.image.height, 40);
  EXPECT_LE(Distance(PixelAt(decoded.image, 16, 20), testing::kRed), 12);
  EXPECT_LE(Distance(PixelAt(decoded.image, 48, 20), testing::kGreen), 12);
  EXPECT_LE(Distance(PixelAt(decoded.image, 80, 20), testing::kBlue), 12);
}

TEST(EncodeTest, JpegQualityChangesSize) {
  const Image photo = testing::PhotoLike(200, 150, 22);
  ASSERT_OK_AND_ASSIGN(std::string low, EncodeJpeg(photo, 20));
  ASSERT_OK_AND_ASSIGN(std::string high, EncodeJpeg(photo, 95));
  EXPECT_LT(low.size(), high.size());
}

TEST(EncodeTest, InvalidArguments) {
  const Image photo = testing::PhotoLike(8, 8, 23);
  EXPECT_THAT(EncodeJpeg(photo, 0), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(EncodeJpeg(photo, 101), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(EncodeJpeg(Image{}, 90), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(EncodePng(Image{}), StatusIs(absl::StatusCode::kInvalidArgument));
  Image broken = photo;
  broken.rgb.resize(10);
  EXPECT_THAT(EncodeJpeg(broken, 90), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(EncodePng(broken), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace atelier::imaging
