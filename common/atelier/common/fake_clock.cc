#include "atelier/common/fake_clock.h"

namespace atelier {

FakeClock::FakeClock(absl::Time start) : now_(start), total_slept_(absl::ZeroDuration()) {}

absl::Time FakeClock::Now() const {
  std::lock_guard<std::mutex> l(mu_);
  return now_;
}

void FakeClock::SleepFor(absl::Duration d) {
  std::unique_lock<std::mutex> l(mu_);
  total_slept_ += d;
  if (auto_advance_) {
    if (d > absl::ZeroDuration()) now_ += d;
    l.unlock();
    WakeAll();
    return;
  }
  const absl::Time deadline = now_ + d;
  ++sleepers_;
  changed_.notify_all();
  changed_.wait(l, [&] { return now_ >= deadline; });
  --sleepers_;
}

bool FakeClock::WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                          absl::Time deadline, const std::function<bool()>& pred) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (auto_advance_ && !pred() && now_ < deadline) {
      // Nothing else will make progress in auto mode: jump to the deadline.
      now_ = deadline;
    }
    external_waiters_.insert({&cv, lock.mutex()});
    ++sleepers_;
  }
  changed_.notify_all();
  while (!pred() && Now() < deadline) cv.wait(lock);
  // Deregister without holding the caller's mutex, and only once no WakeAll()
  // is still using this waiter's pointers.
  lock.unlock();
  {
    std::unique_lock<std::mutex> l(mu_);
    external_waiters_.erase({&cv, lock.mutex()});
    --sleepers_;
    changed_.wait(l, [&] { return waking_ == 0; });
  }
  lock.lock();
  return pred();
}

void FakeClock::Advance(absl::Duration d) {
  {
    std::lock_guard<std::mutex> l(mu_);
    now_ += d;
  }
  WakeAll();
}

void FakeClock::SetTime(absl::Time t) {
  {
    std::lock_guard<std::mutex> l(mu_);
    now_ = t;
  }
  WakeAll();
}

void FakeClock::SetAutoAdvance(bool on) {
  {
    std::lock_guard<std::mutex> l(mu_);
    auto_advance_ = on;
  }
  WakeAll();
}

void FakeClock::WaitForSleepers(int n) {
  std::unique_lock<std::mutex> l(mu_);
  changed_.wait(l, [&] { return sleepers_ >= n; });
}

absl::Duration FakeClock::TotalSlept() const {
  std::lock_guard<std::mutex> l(mu_);
  return total_slept_;
}

void FakeClock::WakeAll() {
  std::set<std::pair<std::condition_variable*, std::mutex*>> waiters;
  {
    std::lock_guard<std::mutex> l(mu_);
    waiters = external_waiters_;
    ++waking_;
    changed_.notify_all();
  }
  for (auto [cv, m] : waiters) {
    // Taking the waiter's mutex orders this notify after its predicate check,
    // so the wake-up cannot be lost.
    std::lock_guard<std::mutex> l(*m);
    cv->notify_all();
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    --waking_;
    changed_.notify_all();
  }
}

}  // namespace atelier
