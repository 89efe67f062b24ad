#include "atelier/net/retry_after.h"

#include <gtest/gtest.h>

namespace atelier::net {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

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

}  // namespace
}  // namespace atelier::net
