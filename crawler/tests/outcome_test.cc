#include "atelier/crawler/outcome.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace atelier::crawler {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

FetchResult Http(int status, std::map<std::string, std::string> headers = {}) {
  FetchResult r;
  r.http_status = status;
  r.headers = std::move(headers);
  return r;
}

FetchResult Failed(FetchError error) {
  FetchResult r;
  r.error = error;
  return r;
}

TEST(ClassifyFetchTest, SuccessDeadRetryFail) {
  EXPECT_EQ(ClassifyFetch(Http(200), kNow).verdict, Verdict::kSuccess);
  for (int status : {404, 410}) {
    Classification c = ClassifyFetch(Http(status), kNow);
    EXPECT_EQ(c.verdict, Verdict::kDead) << status;
    EXPECT_EQ(c.reason, "http_" + std::to_string(status));
  }
  for (int status : {500, 502, 504, 408}) {
    Classification c = ClassifyFetch(Http(status), kNow);
    EXPECT_EQ(c.verdict, Verdict::kRetry) << status;
    EXPECT_FALSE(c.not_before.has_value());
  }
  for (int status : {401, 403, 301, 204}) {
    EXPECT_EQ(ClassifyFetch(Http(status), kNow).verdict, Verdict::kFail) << status;
  }
  EXPECT_EQ(ClassifyFetch(Failed(FetchError::kTimeout), kNow).reason, "timeout");
  EXPECT_EQ(ClassifyFetch(Failed(FetchError::kTimeout), kNow).verdict, Verdict::kRetry);
  EXPECT_EQ(ClassifyFetch(Failed(FetchError::kConnection), kNow).verdict, Verdict::kRetry);
  EXPECT_EQ(ClassifyFetch(Failed(FetchError::kTruncated), kNow).verdict, Verdict::kRetry);
  EXPECT_EQ(ClassifyFetch(Failed(FetchError::kTooLarge), kNow).verdict, Verdict::kFail);
  EXPECT_EQ(ClassifyFetch(Failed(FetchError::kTooLarge), kNow).reason, "too_large");
  EXPECT_EQ(ClassifyFetch(Failed(FetchError::kTooManyRedirects), kNow).verdict, Verdict::kFail);
  EXPECT_EQ(ClassifyFetch(Failed(FetchError::kBadUrl), kNow).verdict, Verdict::kFail);
}

TEST(ClassifyFetchTest, RetryAfterSecondsAndDateThrottleTheHost) {
  Classification c = ClassifyFetch(Http(429, {{"retry-after", "120"}}), kNow);
  EXPECT_EQ(c.verdict, Verdict::kRetry);
  EXPECT_TRUE(c.throttle_host);
  ASSERT_TRUE(c.not_before.has_value());
  EXPECT_EQ(*c.not_before, kNow + absl::Seconds(120));

  // 2023-11-14T22:13:20Z is kNow; ask for 90 s later as an HTTP date.
  c = ClassifyFetch(Http(503, {{"retry-after", "Tue, 14 Nov 2023 22:14:50 GMT"}}), kNow);
  ASSERT_TRUE(c.not_before.has_value());
  EXPECT_EQ(*c.not_before, kNow + absl::Seconds(90));

  c = ClassifyFetch(Http(503), kNow);
  EXPECT_EQ(c.verdict, Verdict::kRetry);
  EXPECT_FALSE(c.not_before.has_value());
}

TEST(ParseRetryAfterTest, Forms) {
  EXPECT_EQ(ParseRetryAfter("0", kNow), kNow);
  EXPECT_EQ(ParseRetryAfter(" 7 ", kNow), kNow + absl::Seconds(7));
  EXPECT_EQ(ParseRetryAfter("Tuesday, 14-Nov-23 22:13:30 GMT", kNow), kNow + absl::Seconds(10));
  EXPECT_EQ(ParseRetryAfter("Tue Nov 14 22:13:40 2023", kNow), kNow + absl::Seconds(20));
  // A date in the past means "now".
  EXPECT_EQ(ParseRetryAfter("Mon, 13 Nov 2023 00:00:00 GMT", kNow), kNow);
  EXPECT_FALSE(ParseRetryAfter("", kNow).has_value());
  EXPECT_FALSE(ParseRetryAfter("soon", kNow).has_value());
  EXPECT_FALSE(ParseRetryAfter("-5", kNow).has_value());
}

TEST(BackoffTest, ExponentialCeilingWithFullJitter) {
  BackoffPolicy policy{absl::Seconds(1), absl::Seconds(30)};
  EXPECT_EQ(BackoffCeiling(policy, 1), absl::Seconds(1));
  EXPECT_EQ(BackoffCeiling(policy, 2), absl::Seconds(2));
  EXPECT_EQ(BackoffCeiling(policy, 3), absl::Seconds(4));
  EXPECT_EQ(BackoffCeiling(policy, 5), absl::Seconds(16));
  EXPECT_EQ(BackoffCeiling(policy, 6), absl::Seconds(30));
  EXPECT_EQ(BackoffCeiling(policy, 60), absl::Seconds(30));
  std::mt19937_64 rng(42);
  for (int retry = 1; retry <= 8; ++retry) {
    absl::Duration lo = absl::InfiniteDuration(), hi = absl::ZeroDuration();
    for (int i = 0; i < 2000; ++i) {
      const absl::Duration d = BackoffDelay(policy, retry, rng);
      ASSERT_GE(d, absl::ZeroDuration());
      ASSERT_LE(d, BackoffCeiling(policy, retry));
      lo = std::min(lo, d);
      hi = std::max(hi, d);
    }
    // Full jitter: the draws spread over the whole [0, ceiling] range.
    EXPECT_LT(lo, BackoffCeiling(policy, retry) / 10) << retry;
    EXPECT_GT(hi, BackoffCeiling(policy, retry) * 9 / 10) << retry;
  }
}

}  // namespace
}  // namespace atelier::crawler
