#include "atelier/crawler/host_limiter.h"

#include <gtest/gtest.h>

namespace atelier::crawler {
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

TEST(HostOfUrlTest, Hosts) {
  EXPECT_EQ(HostOfUrl("https://Images.Metmuseum.org/CRDImages/a.jpg"), "images.metmuseum.org");
  EXPECT_EQ(HostOfUrl("http://127.0.0.1:8080/x?y"), "127.0.0.1:8080");
  EXPECT_EQ(HostOfUrl("http://user:pw@host/x"), "host");
  EXPECT_EQ(HostOfUrl("not a url"), "");
}

}  // namespace
}  // namespace atelier::crawler
