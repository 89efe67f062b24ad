#include "atelier/common/stop_signal_watcher.h"

#include <signal.h>

#include <atomic>
#include <chrono>
#include <future>

#include "gtest/gtest.h"

namespace atelier {
namespace {

TEST(StopSignalWatcherTest, RunsTheCallbackOnceForASignal) {
  std::promise<int> got;
  std::atomic<int> calls{0};
  {
    StopSignalWatcher watcher([&](int sig) {
      ++calls;
      got.set_value(sig);
    });
    kill(getpid(), SIGTERM);  // blocked in every thread but delivered to sigwait
    auto future = got.get_future();
    ASSERT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    EXPECT_EQ(future.get(), SIGTERM);
  }
  EXPECT_EQ(calls.load(), 1);
}

TEST(StopSignalWatcherTest, DestroyingWithoutASignalNeverCallsBack) {
  std::atomic<int> calls{0};
  { StopSignalWatcher watcher([&](int) { ++calls; }); }
  EXPECT_EQ(calls.load(), 0);
}

// The destructor waits for a callback that is still running.
TEST(StopSignalWatcherTest, DestructorWaitsForARunningCallback) {
  std::atomic<bool> started{false}, finished{false};
  {
    StopSignalWatcher watcher([&](int) {
      started = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      finished = true;
    });
    kill(getpid(), SIGINT);
    while (!started) std::this_thread::yield();
  }
  EXPECT_TRUE(finished.load());
}

}  // namespace
}  // namespace atelier
