// StopSignalWatcher: turns the first SIGINT or SIGTERM into a call of
// `on_signal(sig)` on a thread of its own, for programs that stop cleanly.
//
// The constructor blocks both signals in the calling thread (call it in main
// before starting other threads, which inherit the mask) and starts the
// watcher thread. The destructor wakes that thread if no signal came and
// joins it, so objects `on_signal` uses must be declared BEFORE the watcher
// (destroyed after it): they are never destroyed while the callback runs.
// A signal arriving while the watcher is being destroyed is ignored.
// Not copyable; one per process.
#pragma once

#include <signal.h>

#include <atomic>
#include <functional>
#include <thread>

namespace atelier {

class StopSignalWatcher {
 public:
  explicit StopSignalWatcher(std::function<void(int)> on_signal);
  // Blocks SIGINT and SIGTERM in the calling thread (and so in the threads it
  // starts afterwards): call it first in main when objects that start threads
  // must be created before the watcher.
  static void BlockStopSignals();
  ~StopSignalWatcher();
  StopSignalWatcher(const StopSignalWatcher&) = delete;
  StopSignalWatcher& operator=(const StopSignalWatcher&) = delete;

 private:
  sigset_t signals_;
  std::atomic<bool> closing_{false};
  std::thread thread_;
};

}  // namespace atelier
