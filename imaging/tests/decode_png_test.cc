// PNG decoding: RGB, RGBA and tRNS transparency on white, palette, 16-bit,
// grayscale (with alpha, low bit depths), interlacing.
#include <png.h>

#include "atelier/common/status_matchers.h"
#include "atelier/imaging/image.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_images.h"

namespace atelier::imaging {
namespace {

using testing::EncodePngRaw;
using testing::kBlue;
using testing::kGreen;
using testing::kRed;
using testing::kWhite;
using testing::PixelAt;
using testing::PngOptions;
using testing::Rgb;

void ExpectPixel(const Image& image, int x, int y, Rgb expected) {
  const Rgb got = PixelAt(image, x, y);
  EXPECT_EQ(got.r, expected.r) << "at " << x << "," << y;
  EXPECT_EQ(got.g, expected.g) << "at " << x << "," << y;
  EXPECT_EQ(got.b, expected.b) << "at " << x << "," << y;
}

std::vector<uint8_t> RawRows(const Image& image) { return image.rgb; }

TEST(DecodePngTest, RedGreenBlueRegionsLandInChannels012Exactly) {
  const Image bands = testing::RgbBands(90, 10);
  const std::string png = EncodePngRaw(90, 10, RawRows(bands), {});
  ASSERT_OK_AND_ASSIGN(DecodedImage decoded, DecodeImage(png));
  EXPECT_EQ(decoded.codec, Codec::kPng);
  EXPECT_EQ(decoded.original_width, 90);
  EXPECT_EQ(decoded.original_height, 10);
  EXPECT_EQ(decoded.image.rgb, bands.rgb);
  ExpectPixel(decoded.image, 5, 5, kRed);
  ExpectPixel(decoded.image, 45, 5, kGreen);
  ExpectPixel(decoded.image, 85, 5, kBlue);
}

TEST(DecodePngTest, InterlacedRgb) {
  const Image bands = testing::RgbBands(33, 17);
  PngOptions options;
  options.interlaced = true;
  ASSERT_OK_AND_ASSIGN(DecodedImage decoded, DecodeImage(EncodePngRaw(33, 17, RawRows(bands), options)));
  EXPECT_EQ(decoded.image.rgb, bands.rgb);
}

TEST(DecodePngTest, RgbaTransparencyIsCompositedOnWhite) {
  // Four pixels: opaque red, fully transparent green, half-transparent red, opaque blue.
  const std::vector<uint8_t> rgba = {255, 0, 0, 255, 0, 255, 0, 0, 255, 0, 0, 128, 0, 0, 255, 255};
  PngOptions options;
  options.color_type = PNG_COLOR_TYPE_RGB_ALPHA;
  ASSERT_OK_AND_ASSIGN(DecodedImage decoded, DecodeImage(EncodePngRaw(4, 1, rgba, options)));
  ASSERT_EQ(decoded.image.width, 4);
  ExpectPixel(decoded.image, 0, 0, kRed);
  ExpectPixel(decoded.image, 1, 0, kWhite);
  ExpectPixel(decoded.image, 2, 0, Rgb{255, 127, 127});
  ExpectPixel(decoded.image, 3, 0, kBlue);
}

TEST(DecodePngTest, InterlacedRgbaTransparency) {
  std::vector<uint8_t> rgba;
  for (int i = 0; i < 16 * 16; ++i) {
    const bool transparent = (i % 2) == 0;
    rgba.insert(rgba.end(), {0, 0, 255, static_cast<uint8_t>(transparent ? 0 : 255)});
  }
  PngOptions options;
  options.color_type = PNG_COLOR_TYPE_RGB_ALPHA;
  options.interlaced = true;
  ASSERT_OK_AND_ASSIGN(DecodedImage decoded, DecodeImage(EncodePngRaw(16, 16, rgba, options)));
  ExpectPixel(decoded.image, 0, 0, kWhite);
  ExpectPixel(decoded.image, 1, 0, kBlue);
  ExpectPixel(decoded.image, 14, 15, kWhite);
  ExpectPixel(decoded.image, 15, 15, kBlue);
}

TEST(DecodePngTest, PaletteWithTransparentEntry) {
  PngOptions options;
  options.color_type = PNG_COLOR_TYPE_PALETTE;
  options.palette = {kRed, kGreen, kBlue};
  options.trns = {255, 0};  // index 1 (green) fully transparent, index 2 opaque
  const std::vector<uint8_t> indices = {0, 1, 2, 2, 1, 0};
  ASSERT_OK_AND_ASSIGN(DecodedImage decoded, DecodeImage(EncodePngRaw(3, 2, indices, options)));
  ExpectPixel(decoded.image, 0, 0, kRed);
  ExpectPixel(decoded.image, 1, 0, kWhite);
  ExpectPixel(decoded.image, 2, 0, kBlue);
  ExpectPixel(decoded.image, 0, 1, kBlue);
  ExpectPixel(decoded.image, 2, 1, kRed);
}

TEST(DecodePngTest, FourBitPalette) {
  PngOptions options;
  options.color_type = PNG_COLOR_TYPE_PALETTE;
  options.bit_depth = 4;
  options.palette = {kRed, kGreen, kBlue};
  const std::vector<uint8_t> packed = {0x01, 0x20};  // indices 0 1 2 0
  ASSERT_OK_AND_ASSIGN(DecodedImage decoded, DecodeImage(EncodePngRaw(4, 1, packed, options)));
  ExpectPixel(decoded.image, 0, 0, kRed);
  ExpectPixel(decoded.image, 1, 0, kGreen);
  ExpectPixel(decoded.image, 2, 0, kBlue);
  ExpectPixel(decoded.image, 3, 0, kRed);
}

TEST(DecodePngTest, SixteenBitRgb) {
  // Big-endian samples: red (FFFF,0,0), green, blue, mid grey (8080,8080,8080).
  const std::vector<uint8_t> rows = {0xFF, 0xFF, 0, 0, 0, 0,       0, 0, 0xFF, 0xFF, 0, 0,
                                     0, 0, 0, 0, 0xFF, 0xFF,       0x80, 0x80, 0x80, 0x80, 0x80, 0x80};
  PngOptions options;
  options.bit_depth = 16;
  ASSERT_OK_AND_ASSIGN(DecodedImage decoded, DecodeImage(EncodePngRaw(4, 1, rows, options)));
  ExpectPixel(decoded.image, 0, 0, kRed);
  ExpectPixel(decoded.image, 1, 0, kGreen);
  ExpectPixel(decoded.image, 2, 0, kBlue);
  ExpectPixel(decoded.image, 3, 0, Rgb{128, 128, 128});
}

TEST(DecodePngTest, SixteenBitRgbaOnWhite) {
  const std::vector<uint8_t> rows = {0xFF, 0xFF, 0, 0, 0, 0, 0xFF, 0xFF,   0, 0, 0xFF, 0xFF, 0, 0, 0, 0};
  PngOptions options;
  options.color_type = PNG_COLOR_TYPE_RGB_ALPHA;
  options.bit_depth = 16;
  ASSERT_OK_AND_ASSIGN(DecodedImage decoded, DecodeImage(EncodePngRaw(2, 1, rows, options)));
  ExpectPixel(decoded.image, 0, 0, kRed);
  ExpectPixel(decoded.image, 1, 0, kWhite);
}

TEST(DecodePngTest, GrayscaleGivesEqualChannels) {
  const std::vector<uint8_t> rows = {0, 17, 128, 255};
  PngOptions options;
  options.color_type = PNG_COLOR_TYPE_GRAY;
  ASSERT_OK_AND_ASSIGN(DecodedImage decoded, DecodeImage(EncodePngRaw(4, 1, rows, options)));
  for (int x = 0; x < 4; ++x) ExpectPixel(decoded.image, x, 0, Rgb{rows[x], rows[x], rows[x]});
}

TEST(DecodePngTest, OneBitGray) {
  PngOptions options;
  options.color_type = PNG_COLOR_TYPE_GRAY;
  options.bit_depth = 1;
  ASSERT_OK_AND_ASSIGN(DecodedImage decoded, DecodeImage(EncodePngRaw(8, 1, {0b10100000}, options)));
  ExpectPixel(decoded.image, 0, 0, kWhite);
  ExpectPixel(decoded.image, 1, 0, Rgb{0, 0, 0});
  ExpectPixel(decoded.image, 2, 0, kWhite);
  ExpectPixel(decoded.image, 7, 0, Rgb{0, 0, 0});
}

TEST(DecodePngTest, GrayWithAlpha) {
  const std::vector<uint8_t> rows = {100, 255, 0, 0, 0, 255};  // grey opaque, black transparent, black opaque
  PngOptions options;
  options.color_type = PNG_COLOR_TYPE_GRAY_ALPHA;
  ASSERT_OK_AND_ASSIGN(DecodedImage decoded, DecodeImage(EncodePngRaw(3, 1, rows, options)));
  ExpectPixel(decoded.image, 0, 0, Rgb{100, 100, 100});
  ExpectPixel(decoded.image, 1, 0, kWhite);
  ExpectPixel(decoded.image, 2, 0, Rgb{0, 0, 0});
}

TEST(DecodePngTest, GrayWithTrnsKey) {
  PngOptions options;
  options.color_type = PNG_COLOR_TYPE_GRAY;
  options.trns = {0, 7};  // grey value 7 is transparent
  ASSERT_OK_AND_ASSIGN(DecodedImage decoded, DecodeImage(EncodePngRaw(2, 1, {7, 8}, options)));
  ExpectPixel(decoded.image, 0, 0, kWhite);
  ExpectPixel(decoded.image, 1, 0, Rgb{8, 8, 8});
}

TEST(DecodePngTest, RgbWithTrnsKey) {
  PngOptions options;
  options.trns = {0, 0, 0, 255, 0, 0};  // pure green is transparent
  ASSERT_OK_AND_ASSIGN(DecodedImage decoded, DecodeImage(EncodePngRaw(2, 1, {0, 255, 0, 255, 0, 0}, options)));
  ExpectPixel(decoded.image, 0, 0, kWhite);
  ExpectPixel(decoded.image, 1, 0, kRed);
}

TEST(ProbeImageTest, Png) {
  const Image bands = testing::RgbBands(90, 10);
  ASSERT_OK_AND_ASSIGN(ImageInfo info, ProbeImage(EncodePngRaw(90, 10, RawRows(bands), {})));
  EXPECT_EQ(info.codec, Codec::kPng);
  EXPECT_EQ(info.width, 90);
  EXPECT_EQ(info.height, 10);
}

}  // namespace
}  // namespace atelier::imaging
