// Clock: the one source of time in atelier. Every component that reads the time,
// waits, or measures a deadline takes a Clock& so tests can drive it with a
// FakeClock and never sleep.
//
// Thread safety: all implementations are safe to call from any thread.
// Ownership: callers hold a reference; the clock must outlive its users.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

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
  // Waits on `cv` (with `lock` held) until `pred()` is true or `deadline` passes
  // on this clock. Returns pred(). A FakeClock wakes waiters when it advances.
  virtual bool WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                         absl::Time deadline, const std::function<bool()>& pred) = 0;

  int64_t NowMillis() const { return absl::ToUnixMillis(Now()); }

  // The process-wide real clock.
  static Clock& Real();
};

// The real system clock.
class RealClock final : public Clock {
 public:
  absl::Time Now() const override;
  void SleepFor(absl::Duration d) override;
  bool WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                 absl::Time deadline, const std::function<bool()>& pred) override;
};

}  // namespace atelier
