// Clock: the one source of time in atelier. Every component that reads the time,
// waits, or measures a deadline takes a Clock& so tests can drive it with a
// FakeClock and never sleep.
//
// Thread safety: all implementations are safe to call from any thread.
// Ownership: callers hold a reference; the clock must outlive its users.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace atelier {

class Clock {
 public:
  virtual ~Clock() = default;
  // Current wall time (used for lease deadlines and records).
  virtual absl::Time Now() const = 0;
  // Blocks the calling thread for `d` of this clock's time. A FakeClock returns
  // when the fake time has been advanced past the deadline.
  virtual void SleepFor(absl::Duration d) = 0;
  // With `mu` held, waits until `pred()` is true or `deadline` passes on this
  // clock; returns pred(), with `mu` held again. `pred` is evaluated with `mu`
  // held (possibly by the thread that releases `mu`) and must read only state
  // that changes under `mu`: absl::Mutex re-evaluates it whenever `mu` is
  // released, so changing that state under `mu` is the wake-up (no notify).
  // A FakeClock also wakes waiters when it advances.
  virtual bool WaitUntil(absl::Mutex& mu, absl::Time deadline, const std::function<bool()>& pred)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) = 0;

  int64_t NowMillis() const { return absl::ToUnixMillis(Now()); }

  // The process-wide real clock.
  static Clock& Real();
};

// The real system clock.
class RealClock final : public Clock {
 public:
  absl::Time Now() const override;
  void SleepFor(absl::Duration d) override;
  bool WaitUntil(absl::Mutex& mu, absl::Time deadline, const std::function<bool()>& pred) override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
};

}  // namespace atelier
