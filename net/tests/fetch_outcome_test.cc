#include "atelier/net/fetch_outcome.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace atelier::net {
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

}  // namespace
}  // namespace atelier::net
