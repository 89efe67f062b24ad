#include "atelier/common/backoff.h"

#include <algorithm>

#include <gtest/gtest.h>

namespace atelier {
namespace {

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
      EXPECT_GE(d, absl::ZeroDuration());
      EXPECT_LE(d, BackoffCeiling(policy, retry));
      lo = std::min(lo, d);
      hi = std::max(hi, d);
    }
    // Full jitter: the draws spread over the whole [0, ceiling] range.
    EXPECT_LT(lo, BackoffCeiling(policy, retry) / 10) << retry;
    EXPECT_GT(hi, BackoffCeiling(policy, retry) * 9 / 10) << retry;
  }
}

}  // namespace
}  // namespace atelier
