// FakeClock: a Clock whose time moves only when a test says so.
//
// - Advance(d) moves time forward and wakes every SleepFor/WaitUntil whose
//   deadline has passed.
// - With SetAutoAdvance(true), SleepFor(d) advances the time by d and returns at
//   once, so single-threaded code under test (backoff loops) runs without waiting.
// - WaitForSleepers(n) blocks (on a condition, not on time) until n threads are
//   inside SleepFor/WaitUntil, so a test can advance at the right moment.
//
// Thread safety: every method may be called from any thread. Do not call
// Advance() while holding a mutex that a thread passes to WaitUntil.
#pragma once

#include <set>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "atelier/common/clock.h"

namespace atelier {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'700'000'000));

  absl::Time Now() const override ABSL_LOCKS_EXCLUDED(mu_);
  void SleepFor(absl::Duration d) override ABSL_LOCKS_EXCLUDED(mu_);
  bool WaitUntil(absl::Mutex& mu, absl::Time deadline, const std::function<bool()>& pred) override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) ABSL_LOCKS_EXCLUDED(mu_);

  void Advance(absl::Duration d) ABSL_LOCKS_EXCLUDED(mu_);
  void SetTime(absl::Time t) ABSL_LOCKS_EXCLUDED(mu_);
  void SetAutoAdvance(bool on) ABSL_LOCKS_EXCLUDED(mu_);
  // Blocks until at least `n` threads are waiting in SleepFor/WaitUntil.
  void WaitForSleepers(int n) ABSL_LOCKS_EXCLUDED(mu_);
  // Sum of all durations passed to SleepFor (auto-advance or not).
  absl::Duration TotalSlept() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // A thread inside the absl::Mutex WaitUntil. `woken` is guarded by `*mu`
  // (the caller's mutex, an alias the thread-safety analysis cannot follow).
  struct MutexWaiter {
    absl::Mutex* mu;
    bool woken = false;
  };
  void WakeAll() ABSL_LOCKS_EXCLUDED(mu_);

  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  bool auto_advance_ ABSL_GUARDED_BY(mu_) = false;
  int sleepers_ ABSL_GUARDED_BY(mu_) = 0;
  int waking_ ABSL_GUARDED_BY(mu_) = 0;  // WakeAll() calls still waking WaitUntil waiters
  absl::Duration total_slept_ ABSL_GUARDED_BY(mu_);
  // Threads inside WaitUntil.
  std::set<MutexWaiter*> mutex_waiters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace atelier
