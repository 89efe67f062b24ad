#include "atelier/trainer/gpu/watchdog.h"

#include "atelier/common/fake_clock.h"
#include "atelier/common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace atelier::trainer::gpu {
namespace {

using ::atelier::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

class WatchdogTest : public ::testing::Test {
 protected:
  WatchdogTest() { clock_.SetAutoAdvance(true); }
  FakeClock clock_;
  WatchdogOptions options_{.timeout = absl::Seconds(30), .poll_interval = absl::Milliseconds(100)};
  int polls_ = 0;
  int aborts_ = 0;
};

TEST_F(WatchdogTest, ReturnsOkWhenTheWorkCompletes) {
  WatchdogProbe probe{.done = [&]() -> absl::StatusOr<bool> { return ++polls_ >= 5; },
                      .health = [] { return absl::OkStatus(); },
                      .abort = [&] { ++aborts_; }};
  EXPECT_OK(WaitWithWatchdog("allreduce", probe, options_, clock_));
  EXPECT_EQ(polls_, 5);
  EXPECT_EQ(aborts_, 0);
  EXPECT_EQ(clock_.TotalSlept(), absl::Milliseconds(400));
}

TEST_F(WatchdogTest, TimeoutAbortsAndSaysSo) {
  WatchdogProbe probe{.done = [&]() -> absl::StatusOr<bool> { ++polls_; return false; },
                      .health = [] { return absl::OkStatus(); },
                      .abort = [&] { ++aborts_; }};
  const absl::Time start = clock_.Now();
  EXPECT_THAT(WaitWithWatchdog("allreduce of bucket 3", probe, options_, clock_),
              StatusIs(absl::StatusCode::kDeadlineExceeded,
                       AllOf(HasSubstr("allreduce of bucket 3"), HasSubstr("30s"), HasSubstr("aborted"))));
  EXPECT_EQ(aborts_, 1);
  EXPECT_GE(clock_.Now() - start, absl::Seconds(30));
  EXPECT_LE(clock_.Now() - start, absl::Seconds(30) + absl::Milliseconds(100));
  EXPECT_EQ(polls_, 301);
}

TEST_F(WatchdogTest, AsyncErrorAbortsAtOnce) {
  WatchdogProbe probe{.done = [&]() -> absl::StatusOr<bool> { return false; },
                      .health = [&]() -> absl::Status {
                        if (++polls_ < 3) return absl::OkStatus();
                        return absl::UnavailableError("NCCL error 6: remote process exited");
                      },
                      .abort = [&] { ++aborts_; }};
  EXPECT_THAT(WaitWithWatchdog("allreduce", probe, options_, clock_),
              StatusIs(absl::StatusCode::kUnavailable,
                       AllOf(HasSubstr("allreduce: communicator failed"), HasSubstr("remote process exited"))));
  EXPECT_EQ(aborts_, 1);
  EXPECT_EQ(polls_, 3);
  EXPECT_EQ(clock_.TotalSlept(), absl::Milliseconds(200));
}

TEST_F(WatchdogTest, QueryErrorAbortsAndKeepsItsCode) {
  WatchdogProbe probe{.done = [&]() -> absl::StatusOr<bool> { return absl::InternalError("illegal address"); },
                      .health = nullptr,
                      .abort = [&] { ++aborts_; }};
  EXPECT_THAT(WaitWithWatchdog("sync", probe, options_, clock_),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("sync: illegal address")));
  EXPECT_EQ(aborts_, 1);
}

TEST_F(WatchdogTest, CompletionWinsOverALateDeadline) {
  // Work that finishes exactly at the deadline poll is complete, not timed out.
  const absl::Time start = clock_.Now();
  WatchdogProbe probe{.done = [&]() -> absl::StatusOr<bool> { return clock_.Now() - start >= absl::Seconds(30); },
                      .health = nullptr,
                      .abort = [&] { ++aborts_; }};
  EXPECT_OK(WaitWithWatchdog("x", probe, options_, clock_));
  EXPECT_EQ(aborts_, 0);
}

TEST_F(WatchdogTest, RequiresACompletionQuery) {
  EXPECT_THAT(WaitWithWatchdog("x", WatchdogProbe{}, options_, clock_),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace atelier::trainer::gpu
