#include "atelier/common/listen_address.h"

#include "atelier/common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace atelier {
namespace {

using ::atelier::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ListenAddressTest, AcceptsHostPortAndBracketedIpv6) {
  ASSERT_OK_AND_ASSIGN(HostPort a, ParseListenAddress("0.0.0.0:7070"));
  EXPECT_EQ(a.host, "0.0.0.0");
  EXPECT_EQ(a.port, 7070);
  ASSERT_OK_AND_ASSIGN(HostPort b, ParseListenAddress("[::1]:0"));
  EXPECT_EQ(b.host, "::1");
  EXPECT_EQ(b.port, 0);
  ASSERT_OK_AND_ASSIGN(HostPort c, ParseListenAddress("coordinator.local:65535"));
  EXPECT_EQ(c.host, "coordinator.local");
}

TEST(ListenAddressTest, RefusesMalformedAddressesNamingThem) {
  for (const char* bad : {"7070", ":7070", "host:", "host:70x", "host:65536", "host:-1", "::1:7070", "h:123456"}) {
    EXPECT_THAT(ParseListenAddress(bad), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(bad))) << bad;
  }
}

}  // namespace
}  // namespace atelier
