// FakeClock: a Clock whose time moves only when a test says so.
//
// - Advance(d) moves time forward and wakes every SleepFor/WaitUntil whose
//   deadline has passed.
// - With SetAutoAdvance(true), SleepFor(d) advances the time by d and returns at
//   once, so single-threaded code under test (backoff loops) runs without waiting.
// - WaitForSleepers(n) blocks (on a condition variable, not on time) until n
//   threads are inside SleepFor/WaitUntil, so a test can advance at the right moment.
//
// Thread safety: every method may be called from any thread. Do not call
// Advance() while holding a mutex that a thread passes to WaitUntil.
#pragma once

#include <condition_variable>
#include <mutex>
#include <set>
#include <utility>

#include "atelier/common/clock.h"

namespace atelier {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'700'000'000));

  absl::Time Now() const override;
  void SleepFor(absl::Duration d) override;
  bool WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                 absl::Time deadline, const std::function<bool()>& pred) override;

  void Advance(absl::Duration d);
  void SetTime(absl::Time t);
  void SetAutoAdvance(bool on);
  // Blocks until at least `n` threads are waiting in SleepFor/WaitUntil.
  void WaitForSleepers(int n);
  // Sum of all durations passed to SleepFor (auto-advance or not).
  absl::Duration TotalSlept() const;

 private:
  void WakeAll();

  mutable std::mutex mu_;
  std::condition_variable changed_;
  absl::Time now_;
  bool auto_advance_ = false;
  int sleepers_ = 0;
  int waking_ = 0;  // WakeAll() calls still notifying external waiters
  absl::Duration total_slept_;
  // Condition variables (and their mutexes) of threads inside WaitUntil.
  std::set<std::pair<std::condition_variable*, std::mutex*>> external_waiters_;
};

}  // namespace atelier
