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
  const std::vector<std::string> originals = testing::EncodedEveryWay(testing::PhotoLike(64, 48, 61));
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
