#include "atelier/common/fake_clock.h"

#include <atomic>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace atelier {
namespace {

// A deadline-based wait on an absl::Mutex, as production code writes it
// against Clock&: true if `ready` became true before `timeout` on `clock`.
struct Flag {
  absl::Mutex mu;
  bool ready ABSL_GUARDED_BY(mu) = false;
};

bool WaitReady(Clock& clock, Flag& flag, absl::Duration timeout) {
  absl::MutexLock lock(&flag.mu);
  return clock.WaitUntil(flag.mu, clock.Now() + timeout,
                         [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(flag.mu) { return flag.ready; });
}

TEST(FakeClockTest, NowMovesOnlyWhenAdvanced) {
  FakeClock clock;
  const absl::Time t0 = clock.Now();
  EXPECT_EQ(clock.Now(), t0);
  clock.Advance(absl::Seconds(5));
  EXPECT_EQ(clock.Now() - t0, absl::Seconds(5));
}

TEST(FakeClockTest, SleepForBlocksUntilAdvanced) {
  FakeClock clock;
  std::atomic<bool> woke{false};
  std::thread sleeper([&] {
    clock.SleepFor(absl::Seconds(10));
    woke = true;
  });
  clock.WaitForSleepers(1);
  clock.Advance(absl::Seconds(9));
  EXPECT_FALSE(woke.load());
  clock.Advance(absl::Seconds(1));
  sleeper.join();
  EXPECT_TRUE(woke.load());
}

TEST(FakeClockTest, AutoAdvanceSleepsInstantlyAndCountsTime) {
  FakeClock clock;
  clock.SetAutoAdvance(true);
  const absl::Time t0 = clock.Now();
  clock.SleepFor(absl::Minutes(1));
  clock.SleepFor(absl::Seconds(30));
  EXPECT_EQ(clock.Now() - t0, absl::Seconds(90));
  EXPECT_EQ(clock.TotalSlept(), absl::Seconds(90));
}

TEST(FakeClockTest, MutexWaitTimesOutWhenTimeIsAdvancedPastItsDeadline) {
  FakeClock clock;
  Flag flag;
  std::atomic<int> result{-1};
  std::thread waiter([&] { result = WaitReady(clock, flag, absl::Seconds(30)) ? 1 : 0; });
  clock.WaitForSleepers(1);
  clock.Advance(absl::Seconds(29));
  EXPECT_EQ(result.load(), -1) << "timed out before its deadline";
  clock.Advance(absl::Seconds(2));
  waiter.join();
  EXPECT_EQ(result.load(), 0);
}

TEST(FakeClockTest, MutexWaitReturnsTrueWhenStateChangesUnderTheMutex) {
  FakeClock clock;
  Flag flag;
  std::atomic<int> result{-1};
  std::thread waiter([&] { result = WaitReady(clock, flag, absl::Seconds(30)) ? 1 : 0; });
  clock.WaitForSleepers(1);
  {
    absl::MutexLock l(&flag.mu);  // no notify: the unlock re-evaluates the wait
    flag.ready = true;
  }
  waiter.join();
  EXPECT_EQ(result.load(), 1);
}

TEST(FakeClockTest, AutoAdvanceTimesOutMutexWaits) {
  FakeClock clock;
  clock.SetAutoAdvance(true);
  Flag flag;
  const absl::Time t0 = clock.Now();
  EXPECT_FALSE(WaitReady(clock, flag, absl::Seconds(7)));
  EXPECT_EQ(clock.Now() - t0, absl::Seconds(7));
}

TEST(RealClockTest, MutexWaitKeepsItsDeadline) {
  Flag flag;
  const absl::Time t0 = absl::Now();
  EXPECT_FALSE(WaitReady(Clock::Real(), flag, absl::Milliseconds(50)));
  EXPECT_GE(absl::Now() - t0, absl::Milliseconds(50));
  {
    absl::MutexLock l(&flag.mu);
    flag.ready = true;
  }
  EXPECT_TRUE(WaitReady(Clock::Real(), flag, absl::Seconds(30)));
}

}  // namespace
}  // namespace atelier
