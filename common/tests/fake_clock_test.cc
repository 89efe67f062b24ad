#include "atelier/common/fake_clock.h"

#include <atomic>
#include <thread>

#include "gtest/gtest.h"

namespace atelier {
namespace {

// A deadline-based wait, as production code writes it against Clock&.
// Returns true if `ready` became true before `timeout` elapsed on `clock`.
bool WaitReady(Clock& clock, std::mutex& mu, std::condition_variable& cv, const bool& ready,
               absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu);
  return clock.WaitUntil(cv, lock, clock.Now() + timeout, [&] { return ready; });
}

TEST(FakeClockTest, NowMovesOnlyWhenAdvanced) {
  FakeClock clock;
  const absl::Time t0 = clock.Now();
  EXPECT_EQ(clock.Now(), t0);
  clock.Advance(absl::Seconds(5));
  EXPECT_EQ(clock.Now() - t0, absl::Seconds(5));
}

TEST(FakeClockTest, TimeoutFiresWhenTimeIsAdvancedWithoutSleeping) {
  FakeClock clock;
  std::mutex mu;
  std::condition_variable cv;
  bool ready = false;
  std::atomic<int> result{-1};
  std::thread waiter([&] { result = WaitReady(clock, mu, cv, ready, absl::Seconds(30)) ? 1 : 0; });
  clock.WaitForSleepers(1);
  clock.Advance(absl::Seconds(29));
  EXPECT_EQ(result.load(), -1) << "timed out before its deadline";
  clock.Advance(absl::Seconds(2));
  waiter.join();
  EXPECT_EQ(result.load(), 0);
}

TEST(FakeClockTest, WaitReturnsTrueWhenPredicateBecomesTrue) {
  FakeClock clock;
  std::mutex mu;
  std::condition_variable cv;
  bool ready = false;
  std::atomic<int> result{-1};
  std::thread waiter([&] { result = WaitReady(clock, mu, cv, ready, absl::Seconds(30)) ? 1 : 0; });
  clock.WaitForSleepers(1);
  {
    std::lock_guard<std::mutex> l(mu);
    ready = true;
  }
  cv.notify_all();
  waiter.join();
  EXPECT_EQ(result.load(), 1);
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

TEST(FakeClockTest, AutoAdvanceTimesOutWaits) {
  FakeClock clock;
  clock.SetAutoAdvance(true);
  std::mutex mu;
  std::condition_variable cv;
  bool ready = false;
  const absl::Time t0 = clock.Now();
  EXPECT_FALSE(WaitReady(clock, mu, cv, ready, absl::Seconds(7)));
  EXPECT_EQ(clock.Now() - t0, absl::Seconds(7));
}

}  // namespace
}  // namespace atelier
