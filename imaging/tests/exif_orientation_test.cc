// EXIF orientation: all eight orientations move marked corners where the EXIF
// specification says, in both TIFF byte orders; malformed EXIF is ignored.
#include "absl/strings/str_cat.h"
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

enum Corner { kTopLeft, kTopRight, kBottomLeft, kBottomRight };

Rgb CornerPixel(const Image& image, Corner corner) {
  const int inset = 8;
  const int x = (corner == kTopLeft || corner == kBottomLeft) ? inset : image.width - 1 - inset;
  const int y = (corner == kTopLeft || corner == kTopRight) ? inset : image.height - 1 - inset;
  return PixelAt(image, x, y);
}

// 96x48 blue image; stored top-left 24x24 red, stored top-right 24x24 green.
Image Marked() {
  Image image = testing::Solid(96, 48, testing::kBlue);
  for (int y = 0; y < 24; ++y) {
    for (int x = 0; x < 24; ++x) {
      uint8_t* tl = &image.rgb[(y * 96 + x) * 3];
      tl[0] = 255, tl[1] = 0, tl[2] = 0;
      uint8_t* tr = &image.rgb[(y * 96 + 95 - x) * 3];
      tr[0] = 0, tr[1] = 255, tr[2] = 0;
    }
  }
  return image;
}

struct OrientationCase {
  int orientation;
  Corner red;    // where the stored top-left ends up
  Corner green;  // where the stored top-right ends up
  bool swapped;
};

class ExifOrientationCornersTest : public ::testing::TestWithParam<std::tuple<OrientationCase, bool>> {};

TEST_P(ExifOrientationCornersTest, MarkedCornersMove) {
  const auto& [c, big_endian] = GetParam();
  testing::JpegOptions options;
  options.exif_orientation = c.orientation;
  options.exif_big_endian = big_endian;
  ASSERT_OK_AND_ASSIGN(DecodedImage decoded, DecodeImage(testing::EncodeJpegWith(Marked(), options)));
  EXPECT_EQ(decoded.image.width, c.swapped ? 48 : 96);
  EXPECT_EQ(decoded.image.height, c.swapped ? 96 : 48);
  EXPECT_EQ(decoded.original_width, decoded.image.width);
  EXPECT_EQ(decoded.original_height, decoded.image.height);
  EXPECT_LE(Distance(CornerPixel(decoded.image, c.red), testing::kRed), 12);
  EXPECT_LE(Distance(CornerPixel(decoded.image, c.green), testing::kGreen), 12);
}

INSTANTIATE_TEST_SUITE_P(
    AllOrientations, ExifOrientationCornersTest,
    ::testing::Combine(::testing::Values(OrientationCase{1, kTopLeft, kTopRight, false},
                                         OrientationCase{2, kTopRight, kTopLeft, false},
                                         OrientationCase{3, kBottomRight, kBottomLeft, false},
                                         OrientationCase{4, kBottomLeft, kBottomRight, false},
                                         OrientationCase{5, kTopLeft, kBottomLeft, true},
                                         OrientationCase{6, kTopRight, kBottomRight, true},
                                         OrientationCase{7, kBottomRight, kTopRight, true},
                                         OrientationCase{8, kBottomLeft, kTopLeft, true}),
                       ::testing::Bool()),
    [](const auto& info) {
      return absl::StrCat("Orientation", std::get<0>(info.param).orientation,
                          std::get<1>(info.param) ? "BigEndian" : "LittleEndian");
    });

TEST(ExifOrientationTest, InvalidOrientationValueIsIgnored) {
  testing::JpegOptions options;
  options.exif_orientation = 9;
  ASSERT_OK_AND_ASSIGN(DecodedImage decoded, DecodeImage(testing::EncodeJpegWith(Marked(), options)));
  EXPECT_EQ(decoded.image.width, 96);
  EXPECT_LE(Distance(CornerPixel(decoded.image, kTopLeft), testing::kRed), 12);
}

TEST(ExifOrientationTest, MalformedExifIsIgnored) {
  // Orientation 6 in a payload whose IFD offset points past the end.
  std::string jpeg = testing::EncodeJpegWith(Marked(), {.exif_orientation = 6});
  const size_t tiff = jpeg.find("II*");
  ASSERT_NE(tiff, std::string::npos);
  jpeg[tiff + 4] = static_cast<char>(0xF0);
  ASSERT_OK_AND_ASSIGN(DecodedImage decoded, DecodeImage(jpeg));
  EXPECT_EQ(decoded.image.width, 96);
  EXPECT_LE(Distance(CornerPixel(decoded.image, kTopLeft), testing::kRed), 12);
}

}  // namespace
}  // namespace atelier::imaging
