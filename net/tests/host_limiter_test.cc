#include "atelier/net/host_limiter.h"

#include <gtest/gtest.h>

#include <cmath>

namespace atelier::net {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

TEST(HostLimiterTest, InFlightCapPerHost) {
  HostLimiter limiter({/*max_in_flight=*/2, /*requests_per_second=*/0, /*burst=*/1});
  absl::Time retry;
  EXPECT_TRUE(limiter.TryAcquire("a", kT0, &retry));
  EXPECT_TRUE(limiter.TryAcquire("a", kT0, &retry));
  EXPECT_FALSE(limiter.TryAcquire("a", kT0, &retry));
  EXPECT_EQ(retry, absl::InfiniteFuture());
  EXPECT_TRUE(limiter.TryAcquire("b", kT0, &retry));  // other hosts are independent
  limiter.Release("a");
  EXPECT_EQ(limiter.InFlight("a"), 1);
  EXPECT_TRUE(limiter.TryAcquire("a", kT0, &retry));
}

TEST(HostLimiterTest, RateLimitSpacesRequests) {
  HostLimiter limiter({/*max_in_flight=*/100, /*requests_per_second=*/4, /*burst=*/1});
  absl::Time retry;
  ASSERT_TRUE(limiter.TryAcquire("a", kT0, &retry));
  EXPECT_FALSE(limiter.TryAcquire("a", kT0, &retry));
  EXPECT_EQ(retry, kT0 + absl::Milliseconds(250));
  EXPECT_FALSE(limiter.TryAcquire("a", kT0 + absl::Milliseconds(249), &retry));
  EXPECT_TRUE(limiter.TryAcquire("a", kT0 + absl::Milliseconds(250), &retry));
  // An idle host does not bank more than `burst` tokens.
  EXPECT_TRUE(limiter.TryAcquire("a", kT0 + absl::Seconds(10), &retry));
  EXPECT_FALSE(limiter.TryAcquire("a", kT0 + absl::Seconds(10), &retry));
}

TEST(HostLimiterTest, PauseClosesTheHostUntilItsEnd) {
  HostLimiter limiter({4, 0, 1});
  limiter.PauseUntil("a", kT0 + absl::Seconds(60));
  limiter.PauseUntil("a", kT0 + absl::Seconds(5));  // never shortens
  absl::Time retry;
  EXPECT_FALSE(limiter.TryAcquire("a", kT0 + absl::Seconds(59), &retry));
  EXPECT_EQ(retry, kT0 + absl::Seconds(60));
  EXPECT_TRUE(limiter.TryAcquire("a", kT0 + absl::Seconds(60), &retry));
}

TEST(HostLimiterTest, ThrottleLowersTheRateOncePerCooldownAndSuccessesRestoreIt) {
  HostLimits limits{100, 8, 1};
  limits.throttle_cooldown = absl::Seconds(1);
  HostLimiter limiter(limits);
  EXPECT_EQ(limiter.Rate("a"), 8);
  limiter.Throttle("a", kT0);
  EXPECT_DOUBLE_EQ(limiter.Rate("a"), 6);
  limiter.Throttle("a", kT0 + absl::Milliseconds(500));  // within the cooldown: no change
  EXPECT_DOUBLE_EQ(limiter.Rate("a"), 6);
  limiter.Throttle("a", kT0 + absl::Seconds(1));
  EXPECT_DOUBLE_EQ(limiter.Rate("a"), 4.5);
  EXPECT_EQ(limiter.Rate("b"), 8);  // other hosts keep their rate
  // Requests are spaced by the lowered rate.
  absl::Time retry;
  const absl::Time t = kT0 + absl::Seconds(1);
  ASSERT_TRUE(limiter.TryAcquire("a", t, &retry));
  EXPECT_FALSE(limiter.TryAcquire("a", t, &retry));
  EXPECT_GT(retry - t, absl::Milliseconds(200));
  limiter.Release("a");
  // Answered requests bring it back to the configured rate, not beyond.
  limiter.Succeeded("a");
  EXPECT_DOUBLE_EQ(limiter.Rate("a"), 4.5 * 17 / 16);
  for (int i = 0; i < 20; ++i) limiter.Succeeded("a");
  EXPECT_EQ(limiter.Rate("a"), 8);
  // Never below 1/64 of the configured rate.
  for (int i = 0; i < 40; ++i) limiter.Throttle("c", kT0 + absl::Seconds(2 * i));
  EXPECT_DOUBLE_EQ(limiter.Rate("c"), 8.0 / 64);
}

// The refusals within one Retry-After window lower the rate once; the window
// counts at most 10 cooldowns.
TEST(HostLimiterTest, ThrottleLowersTheRateOncePerRetryAfterWindow) {
  HostLimits limits{100, 8, 1};
  limits.throttle_cooldown = absl::Seconds(1);
  HostLimiter limiter(limits);
  limiter.Throttle("a", kT0, absl::Seconds(3));
  EXPECT_DOUBLE_EQ(limiter.Rate("a"), 6);
  limiter.Throttle("a", kT0 + absl::Seconds(2), absl::Seconds(3));  // within Retry-After: no change
  EXPECT_DOUBLE_EQ(limiter.Rate("a"), 6);
  limiter.Throttle("a", kT0 + absl::Seconds(3), absl::Seconds(3));
  EXPECT_DOUBLE_EQ(limiter.Rate("a"), 4.5);
  limiter.Throttle("b", kT0, absl::Minutes(10));
  limiter.Throttle("b", kT0 + absl::Seconds(10));  // 10 cooldowns, not 10 minutes
  EXPECT_DOUBLE_EQ(limiter.Rate("b"), 4.5);
}

TEST(HostOfUrlTest, Hosts) {
  EXPECT_EQ(HostOfUrl("https://Images.Metmuseum.org/CRDImages/a.jpg"), "images.metmuseum.org");
  EXPECT_EQ(HostOfUrl("http://127.0.0.1:8080/x?y"), "127.0.0.1:8080");
  EXPECT_EQ(HostOfUrl("http://user:pw@host/x"), "host");
  EXPECT_EQ(HostOfUrl("not a url"), "");
}

}  // namespace
}  // namespace atelier::net
