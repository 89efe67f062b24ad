// JPEG decoding: channel order, progressive, grayscale, CMYK/YCCK, DCT scaling.
#include "absl/strings/str_cat.h"
#include "atelier/common/status_matchers.h"
#include "atelier/imaging/image.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_images.h"

namespace atelier::imaging {
namespace {

using ::atelier::imaging::testing::Distance;
using ::atelier::imaging::testing::EncodeJpegWith;
using ::atelier::imaging::testing::JpegOptions;
using ::atelier::imaging::testing::kBlue;
using ::atelier::imaging::testing::kGreen;
using ::atelier::imaging::testing::kRed;
using ::atelier::imaging::testing::PixelAt;
using ::atelier::imaging::testing::RgbBands;

// Centre of each band of a 96-wide RgbBands image.
void ExpectBands(const Image& image, int tolerance) {
  const int y = image.height / 2;
  const int third = image.width / 3;
  EXPECT_LE(Distance(PixelAt(image, third / 2, y), kRed), tolerance);
  EXPECT_LE(Distance(PixelAt(image, third + third / 2, y), kGreen), tolerance);
  EXPECT_LE(Distance(PixelAt(image, 2 * third + third / 2, y), kBlue), tolerance);
}

TEST(DecodeJpegTest, RedGreenBlueRegionsLandInChannels012) {
  const std::string jpeg = EncodeJpegWith(RgbBands(96, 32), {});
  ASSERT_OK_AND_ASSIGN(DecodedImage decoded, DecodeImage(jpeg));
  EXPECT_EQ(decoded.codec, Codec::kJpeg);
  EXPECT_EQ(decoded.image.width, 96);
  EXPECT_EQ(decoded.image.height, 32);
  EXPECT_EQ(decoded.original_width, 96);
  EXPECT_EQ(decoded.original_height, 32);
  ASSERT_EQ(decoded.image.rgb.size(), 96u * 32 * 3);
  ExpectBands(decoded.image, 12);
}

TEST(DecodeJpegTest, Progressive) {
  JpegOptions options;
  options.progressive = true;
  const std::string jpeg = EncodeJpegWith(RgbBands(96, 48), options);
  ASSERT_OK_AND_ASSIGN(DecodedImage decoded, DecodeImage(jpeg));
  EXPECT_EQ(decoded.image.width, 96);
  EXPECT_EQ(decoded.image.height, 48);
  ExpectBands(decoded.image, 12);
}

TEST(DecodeJpegTest, GrayscaleGivesEqualChannels) {
  Image ramp = testing::Solid(64, 16, testing::kWhite);
  for (int x = 0; x < 64; ++x) {
    for (int y = 0; y < 16; ++y) ramp.rgb[(y * 64 + x) * 3] = static_cast<uint8_t>(x * 4);
  }
  JpegOptions options;
  options.grayscale = true;
  ASSERT_OK_AND_ASSIGN(DecodedImage decoded, DecodeImage(EncodeJpegWith(ramp, options)));
  ASSERT_EQ(decoded.image.width, 64);
  for (size_t i = 0; i < decoded.image.rgb.size(); i += 3) {
    ASSERT_EQ(decoded.image.rgb[i], decoded.image.rgb[i + 1]) << "pixel " << i / 3;
    ASSERT_EQ(decoded.image.rgb[i], decoded.image.rgb[i + 2]) << "pixel " << i / 3;
  }
  // The ramp survives: dark on the left, bright on the right.
  EXPECT_LT(PixelAt(decoded.image, 2, 8).r, 30);
  EXPECT_GT(PixelAt(decoded.image, 61, 8).r, 220);
}

class CmykJpegTest : public ::testing::TestWithParam<bool> {};

TEST_P(CmykJpegTest, AdobeInvertedCmykDecodesToTheRightColours) {
  JpegOptions options;
  options.cmyk = true;
  options.ycck = GetParam();
  ASSERT_OK_AND_ASSIGN(DecodedImage decoded, DecodeImage(EncodeJpegWith(RgbBands(96, 32), options)));
  ExpectBands(decoded.image, 16);
}

TEST_P(CmykJpegTest, BlackInkDarkens) {
  JpegOptions options;
  options.cmyk = true;
  options.ycck = GetParam();
  options.cmyk_stored_k = 128;  // about half black ink, no C/M/Y ink on white
  ASSERT_OK_AND_ASSIGN(DecodedImage decoded,
                       DecodeImage(EncodeJpegWith(testing::Solid(32, 32, testing::kWhite), options)));
  EXPECT_LE(Distance(PixelAt(decoded.image, 16, 16), testing::Rgb{128, 128, 128}), 4);
}

INSTANTIATE_TEST_SUITE_P(CmykAndYcck, CmykJpegTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Ycck" : "Cmyk"; });

TEST(DecodeJpegTest, ScaledDecodeKeepsShorterSideAndReportsFullSize) {
  const std::string jpeg = EncodeJpegWith(testing::PhotoLike(1024, 768, 1), {});
  struct Case {
    int min_shorter_side;
    int width, height;
  };
  for (const Case& c : {Case{0, 1024, 768}, Case{200, 512, 384}, Case{384, 512, 384}, Case{385, 1024, 768},
                        Case{100, 256, 192}, Case{96, 128, 96}, Case{1, 128, 96}, Case{5000, 1024, 768}}) {
    DecodeOptions options;
    options.min_shorter_side = c.min_shorter_side;
    ASSERT_OK_AND_ASSIGN(DecodedImage decoded, DecodeImage(jpeg, options));
    SCOPED_TRACE(absl::StrCat("min_shorter_side ", c.min_shorter_side));
    EXPECT_EQ(decoded.image.width, c.width);
    EXPECT_EQ(decoded.image.height, c.height);
    EXPECT_EQ(decoded.image.rgb.size(), static_cast<size_t>(c.width) * c.height * 3);
    EXPECT_GE(std::min(decoded.image.width, decoded.image.height), std::min(c.min_shorter_side, 768));
    EXPECT_EQ(decoded.original_width, 1024);
    EXPECT_EQ(decoded.original_height, 768);
  }
}

TEST(DecodeJpegTest, ScaledDecodeKeepsColours) {
  DecodeOptions options;
  options.min_shorter_side = 16;
  ASSERT_OK_AND_ASSIGN(DecodedImage decoded, DecodeImage(EncodeJpegWith(RgbBands(384, 128), {}), options));
  EXPECT_EQ(decoded.image.width, 48);
  EXPECT_EQ(decoded.image.height, 16);
  ExpectBands(decoded.image, 16);
}

TEST(DecodeJpegTest, ScaledDecodeWithRotationSwapsOriginalSize) {
  JpegOptions jpeg_options;
  jpeg_options.exif_orientation = 6;
  const std::string jpeg = EncodeJpegWith(testing::PhotoLike(800, 400, 2), jpeg_options);
  DecodeOptions options;
  options.min_shorter_side = 100;
  ASSERT_OK_AND_ASSIGN(DecodedImage decoded, DecodeImage(jpeg, options));
  EXPECT_EQ(decoded.image.width, 100);
  EXPECT_EQ(decoded.image.height, 200);
  EXPECT_EQ(decoded.original_width, 400);
  EXPECT_EQ(decoded.original_height, 800);
}

TEST(ProbeImageTest, JpegHeaderOnly) {
  JpegOptions options;
  options.exif_orientation = 6;
  ASSERT_OK_AND_ASSIGN(ImageInfo info, ProbeImage(EncodeJpegWith(RgbBands(96, 32), options)));
  EXPECT_EQ(info.codec, Codec::kJpeg);
  EXPECT_EQ(info.width, 96);  // as stored, before orientation
  EXPECT_EQ(info.height, 32);
}

}  // namespace
}  // namespace atelier::imaging
