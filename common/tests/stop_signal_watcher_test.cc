#include "atelier/common/stop_signal_watcher.h"

#include <signal.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

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

// The destructor waits for a callback that is still running: the callback
// is held until the destroying thread is about to leave the scope, and is
// released from a helper thread (no timing involved; in the interleaving where
// the destructor starts first, a destructor that did not join would return
// before `finished` is set).
TEST(StopSignalWatcherTest, DestructorWaitsForARunningCallback) {
  StopSignalWatcher::BlockStopSignals();  // before the helper thread starts: it inherits the mask
  std::atomic<bool> started{false}, destroying{false}, finished{false};
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::thread releaser([&] {
    while (!destroying) std::this_thread::yield();
    release.set_value();
  });
  {
    StopSignalWatcher watcher([&](int) {
      started = true;
      released.wait();
      finished = true;
    });
    kill(getpid(), SIGINT);
    while (!started) std::this_thread::yield();
    destroying = true;
  }
  EXPECT_TRUE(finished.load());
  releaser.join();
}

}  // namespace
}  // namespace atelier
