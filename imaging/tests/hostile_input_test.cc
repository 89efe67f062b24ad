// Hostile input: deterministic byte flips and cuts of valid JPEG, PNG and
// WebP files never crash (run under ASan/UBSan too) and every failure carries
// one of the module's reasons.
#include <random>

#include "atelier/imaging/image.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_images.h"

namespace atelier::imaging {
namespace {

using ::testing::AnyOf;
using ::testing::Eq;

void ExpectOkOrKnownReason(const std::string& bytes) {
  DecodeOptions options;
  options.max_pixels = 4'000'000;  // flipped size fields must not allocate gigabytes
  const absl::StatusOr<DecodedImage> decoded = DecodeImage(bytes, options);
  if (decoded.ok()) {
    EXPECT_EQ(decoded->image.rgb.size(), static_cast<size_t>(decoded->image.width) * decoded->image.height * 3);
    return;
  }
  EXPECT_THAT(FailureReason(decoded.status()),
              AnyOf(Eq(kReasonCorrupt), Eq(kReasonTruncated), Eq(kReasonTooLarge), Eq(kReasonNotAnImage)))
      << decoded.status();
  const absl::StatusOr<DecodedImage> resized = DecodeAndResize(bytes, ResizeMode::kCenterCrop, 32, options);
  EXPECT_EQ(FailureReason(resized.status()), FailureReason(decoded.status()));
}

TEST(HostileInputTest, FlippedAndCutFilesFailCleanly) {
  const Image photo = testing::PhotoLike(64, 48, 61);
  testing::JpegOptions progressive;
  progressive.progressive = true;
  testing::JpegOptions exif;
  exif.exif_orientation = 6;
  std::vector<uint8_t> rgba;
  for (size_t i = 0; i < photo.rgb.size(); i += 3) {
    rgba.insert(rgba.end(), {photo.rgb[i], photo.rgb[i + 1], photo.rgb[i + 2], static_cast<uint8_t>(i % 256)});
  }
  testing::PngOptions interlaced;
  interlaced.interlaced = true;
  const std::vector<std::string> originals = {
      testing::EncodeJpegWith(photo, {}), testing::EncodeJpegWith(photo, progressive),
      testing::EncodeJpegWith(photo, exif), testing::EncodePngRaw(64, 48, photo.rgb, {}),
      testing::EncodePngRaw(64, 48, photo.rgb, interlaced), testing::EncodeWebpLossy(photo, 80),
      testing::EncodeWebpLosslessRgba(64, 48, rgba)};
  std::mt19937 rng(1234);
  for (const std::string& original : originals) {
    for (int trial = 0; trial < 150; ++trial) {
      std::string bytes = original;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) {
        bytes[rng() % bytes.size()] = static_cast<char>(rng() & 0xFF);
      }
      if (trial % 3 == 0) bytes.resize(rng() % bytes.size());
      ExpectOkOrKnownReason(bytes);
    }
  }
}

}  // namespace
}  // namespace atelier::imaging
