// Failure reasons: not an image, truncated, corrupt, decompression bombs.
#include "absl/strings/cord.h"
#include "atelier/common/status_matchers.h"
#include "atelier/imaging/image.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_images.h"

namespace atelier::imaging {
namespace {

using ::atelier::testing::StatusIs;
using ::testing::HasSubstr;

std::string Prefix(const std::string& bytes, double fraction) {
  return bytes.substr(0, static_cast<size_t>(bytes.size() * fraction));
}

TEST(FailureReasonTest, ReadsThePayload) {
  EXPECT_EQ(FailureReason(absl::InternalError("boom")), "error");
  EXPECT_EQ(FailureReason(absl::OkStatus()), "");
  absl::Status status = DecodeImage("").status();
  EXPECT_EQ(FailureReason(status), kReasonNotAnImage);
  EXPECT_EQ(status.GetPayload(kFailureReasonTypeUrl).value_or(absl::Cord("none")), "not_an_image");
}

TEST(DecodeErrorsTest, EmptyInputIsNotAnImage) {
  absl::StatusOr<DecodedImage> decoded = DecodeImage("");
  EXPECT_THAT(decoded, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
  EXPECT_EQ(FailureReason(decoded.status()), kReasonNotAnImage);
  EXPECT_EQ(FailureReason(ProbeImage("").status()), kReasonNotAnImage);
}

TEST(DecodeErrorsTest, HtmlAndTextAreNotImages) {
  for (const std::string bytes : {"<!DOCTYPE html><html><head><title>429 Too Many Requests</title></head></html>",
                                  "hello, world\n", "\xFF", "RIFF", "\x89PN"}) {
    absl::StatusOr<DecodedImage> decoded = DecodeImage(bytes);
    EXPECT_EQ(FailureReason(decoded.status()), kReasonNotAnImage) << bytes;
    EXPECT_EQ(FailureReason(ProbeImage(bytes).status()), kReasonNotAnImage) << bytes;
  }
}

TEST(DecodeErrorsTest, TruncatedJpeg) {
  const std::string jpeg = testing::EncodeJpegWith(testing::PhotoLike(256, 256, 3), {});
  for (double fraction : {0.02, 0.5, 0.9}) {
    absl::StatusOr<DecodedImage> decoded = DecodeImage(Prefix(jpeg, fraction));
    EXPECT_THAT(decoded, StatusIs(absl::StatusCode::kDataLoss)) << fraction;
    EXPECT_EQ(FailureReason(decoded.status()), kReasonTruncated) << fraction;
  }
}

TEST(DecodeErrorsTest, TruncatedProgressiveJpeg) {
  testing::JpegOptions options;
  options.progressive = true;
  const std::string jpeg = testing::EncodeJpegWith(testing::PhotoLike(256, 256, 4), options);
  EXPECT_EQ(FailureReason(DecodeImage(Prefix(jpeg, 0.6)).status()), kReasonTruncated);
}

// Finding 10 of issue 13: only the final EOI marker missing is complete data
// (libjpeg's end-of-file warning alone); a cut into the scan data is not.
TEST(DecodeErrorsTest, JpegMissingOnlyItsEoiIsAccepted) {
  for (bool progressive : {false, true}) {
    SCOPED_TRACE(progressive);
    testing::JpegOptions options;
    options.progressive = progressive;
    const std::string jpeg = testing::EncodeJpegWith(testing::PhotoLike(256, 200, 6), options);
    ASSERT_EQ(jpeg.substr(jpeg.size() - 2), "\xFF\xD9");
    const std::string no_eoi = jpeg.substr(0, jpeg.size() - 2);
    ASSERT_OK_AND_ASSIGN(DecodedImage full, DecodeImage(jpeg));
    ASSERT_OK_AND_ASSIGN(DecodedImage cut, DecodeImage(no_eoi));
    EXPECT_EQ(cut.image.width, full.image.width);
    EXPECT_EQ(cut.image.height, full.image.height);
    EXPECT_TRUE(cut.image.rgb == full.image.rgb);
    EXPECT_OK(DecodeAndResize(no_eoi, ResizeMode::kCenterCrop, 64).status());
    // A few bytes of scan data gone as well: truncated.
    const std::string short_scan = jpeg.substr(0, jpeg.size() - 12);
    EXPECT_EQ(FailureReason(DecodeImage(short_scan).status()), kReasonTruncated);
    EXPECT_EQ(FailureReason(DecodeAndResize(short_scan, ResizeMode::kCenterCrop, 64).status()), kReasonTruncated);
  }
}

TEST(DecodeErrorsTest, CorruptJpeg) {
  std::string jpeg = testing::EncodeJpegWith(testing::PhotoLike(64, 64, 5), {});
  const size_t sof = jpeg.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  jpeg[sof + 4] = 3;  // sample precision 3 bits: no decoder supports it
  absl::StatusOr<DecodedImage> decoded = DecodeImage(jpeg);
  EXPECT_EQ(FailureReason(decoded.status()), kReasonCorrupt) << decoded.status();
}

TEST(DecodeErrorsTest, TruncatedPng) {
  const Image photo = testing::PhotoLike(128, 128, 6);
  const std::string png = testing::EncodePngRaw(128, 128, photo.rgb, {});
  for (double fraction : {0.01, 0.3, 0.5, 0.95}) {
    absl::StatusOr<DecodedImage> decoded = DecodeImage(Prefix(png, fraction));
    EXPECT_EQ(FailureReason(decoded.status()), kReasonTruncated) << fraction << " " << decoded.status();
  }
}

TEST(DecodeErrorsTest, CorruptPngCrc) {
  const Image photo = testing::PhotoLike(32, 32, 7);
  std::string png = testing::EncodePngRaw(32, 32, photo.rgb, {});
  png[20] ^= 0x01;  // inside IHDR: its CRC no longer matches
  absl::StatusOr<DecodedImage> decoded = DecodeImage(png);
  EXPECT_EQ(FailureReason(decoded.status()), kReasonCorrupt) << decoded.status();
}

TEST(DecodeErrorsTest, TruncatedWebp) {
  const std::string webp = testing::EncodeWebpLossy(testing::PhotoLike(128, 128, 8), 90);
  for (double fraction : {0.1, 0.5, 0.9}) {
    absl::StatusOr<DecodedImage> decoded = DecodeImage(Prefix(webp, fraction));
    EXPECT_EQ(FailureReason(decoded.status()), kReasonTruncated) << fraction << " " << decoded.status();
  }
}

TEST(DecodeErrorsTest, PngBombIsRefusedBeforeDecoding) {
  const std::string bomb = testing::PngBomb(100000, 100000);
  ASSERT_LT(bomb.size(), 200u);
  absl::StatusOr<DecodedImage> decoded = DecodeImage(bomb);
  EXPECT_THAT(decoded, StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("100000x100000")));
  EXPECT_EQ(FailureReason(decoded.status()), kReasonTooLarge);
  ASSERT_OK_AND_ASSIGN(ImageInfo info, ProbeImage(bomb));
  EXPECT_EQ(info.width, 100000);
  EXPECT_EQ(info.height, 100000);
}

TEST(DecodeErrorsTest, JpegBombIsRefusedBeforeDecoding) {
  const std::string bomb = testing::JpegBomb(65000, 65000);
  absl::StatusOr<DecodedImage> decoded = DecodeImage(bomb);
  EXPECT_EQ(FailureReason(decoded.status()), kReasonTooLarge) << decoded.status();
  DecodeOptions scaled;
  scaled.min_shorter_side = 64;  // DCT scaling does not lift the limit
  EXPECT_EQ(FailureReason(DecodeImage(bomb, scaled).status()), kReasonTooLarge);
  ASSERT_OK_AND_ASSIGN(ImageInfo info, ProbeImage(bomb));
  EXPECT_EQ(info.width, 65000);
  EXPECT_EQ(info.height, 65000);
}

TEST(DecodeErrorsTest, MaxPixelsAppliesToEveryCodec) {
  const Image photo = testing::PhotoLike(40, 30, 9);
  DecodeOptions tight;
  tight.max_pixels = 40 * 30 - 1;
  DecodeOptions exact;
  exact.max_pixels = 40 * 30;
  DecodeOptions unlimited;
  unlimited.max_pixels = 0;
  for (const std::string& bytes : {testing::EncodeJpegWith(photo, {}), testing::EncodePngRaw(40, 30, photo.rgb, {}),
                                   testing::EncodeWebpLossy(photo, 80)}) {
    EXPECT_EQ(FailureReason(DecodeImage(bytes, tight).status()), kReasonTooLarge);
    EXPECT_OK(DecodeImage(bytes, exact));
    EXPECT_OK(DecodeImage(bytes, unlimited));
  }
}

}  // namespace
}  // namespace atelier::imaging
