// WebP decoding: lossy channel order, lossless alpha on white.
#include "atelier/common/status_matchers.h"
#include "atelier/imaging/image.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_images.h"

namespace atelier::imaging {
namespace {

using testing::Distance;
using testing::PixelAt;
using testing::Rgb;

TEST(DecodeWebpTest, RedGreenBlueRegionsLandInChannels012) {
  const std::string webp = testing::EncodeWebpLossy(testing::RgbBands(96, 32), 95);
  ASSERT_OK_AND_ASSIGN(DecodedImage decoded, DecodeImage(webp));
  EXPECT_EQ(decoded.codec, Codec::kWebp);
  EXPECT_EQ(decoded.image.width, 96);
  EXPECT_EQ(decoded.image.height, 32);
  EXPECT_EQ(decoded.original_width, 96);
  EXPECT_EQ(decoded.original_height, 32);
  EXPECT_LE(Distance(PixelAt(decoded.image, 16, 16), testing::kRed), 16);
  EXPECT_LE(Distance(PixelAt(decoded.image, 48, 16), testing::kGreen), 16);
  EXPECT_LE(Distance(PixelAt(decoded.image, 80, 16), testing::kBlue), 16);
}

TEST(DecodeWebpTest, LosslessAlphaIsCompositedOnWhite) {
  std::vector<uint8_t> rgba;
  for (int y = 0; y < 8; ++y) {
    for (int x = 0; x < 8; ++x) {
      if (x < 4) {
        rgba.insert(rgba.end(), {255, 0, 0, 255});  // opaque red
      } else {
        rgba.insert(rgba.end(), {0, 0, 255, 0});    // transparent blue
      }
    }
  }
  ASSERT_OK_AND_ASSIGN(DecodedImage decoded, DecodeImage(testing::EncodeWebpLosslessRgba(8, 8, rgba)));
  EXPECT_EQ(Distance(PixelAt(decoded.image, 1, 1), testing::kRed), 0);
  EXPECT_EQ(Distance(PixelAt(decoded.image, 6, 6), testing::kWhite), 0);
}

TEST(ProbeImageTest, Webp) {
  ASSERT_OK_AND_ASSIGN(ImageInfo info, ProbeImage(testing::EncodeWebpLossy(testing::RgbBands(96, 32), 80)));
  EXPECT_EQ(info.codec, Codec::kWebp);
  EXPECT_EQ(info.width, 96);
  EXPECT_EQ(info.height, 32);
}

}  // namespace
}  // namespace atelier::imaging
