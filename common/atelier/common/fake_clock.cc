#include "atelier/common/fake_clock.h"

namespace atelier {

FakeClock::FakeClock(absl::Time start) : now_(start), total_slept_(absl::ZeroDuration()) {}

absl::Time FakeClock::Now() const {
  absl::MutexLock l(&mu_);
  return now_;
}

void FakeClock::SleepFor(absl::Duration d) {
  mu_.Lock();
  total_slept_ += d;
  if (auto_advance_) {
    if (d > absl::ZeroDuration()) now_ += d;
    mu_.Unlock();
    WakeAll();
    return;
  }
  const absl::Time deadline = now_ + d;
  ++sleepers_;  // releasing mu_ below wakes WaitForSleepers
  auto reached = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return now_ >= deadline; };
  mu_.Await(absl::Condition(&reached));
  --sleepers_;
  mu_.Unlock();
}

bool FakeClock::WaitUntil(absl::Mutex& mu, absl::Time deadline, const std::function<bool()>& pred) {
  MutexWaiter waiter{&mu};
  {
    absl::MutexLock l(&mu_);
    if (auto_advance_ && !pred() && now_ < deadline) {
      // Nothing else will make progress in auto mode: jump to the deadline.
      now_ = deadline;
    }
    mutex_waiters_.insert(&waiter);
    ++sleepers_;
  }
  // WakeAll() sets `woken` under `mu` after moving the time, so a change of
  // the time after the check below cannot be missed; a change of the caller's
  // state is seen because absl::Mutex re-evaluates the condition on unlock.
  auto woken_or_ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return waiter.woken || pred(); };
  while (!pred() && Now() < deadline) {
    waiter.woken = false;
    mu.Await(absl::Condition(&woken_or_ready));
  }
  // Deregister without holding the caller's mutex, and only once no WakeAll()
  // is still using this waiter.
  mu.Unlock();
  {
    absl::MutexLock l(&mu_);
    mutex_waiters_.erase(&waiter);
    --sleepers_;
    auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return waking_ == 0; };
    mu_.Await(absl::Condition(&idle));
  }
  mu.Lock();
  return pred();
}

void FakeClock::Advance(absl::Duration d) {
  {
    absl::MutexLock l(&mu_);
    now_ += d;
  }
  WakeAll();
}

void FakeClock::SetTime(absl::Time t) {
  {
    absl::MutexLock l(&mu_);
    now_ = t;
  }
  WakeAll();
}

void FakeClock::SetAutoAdvance(bool on) {
  {
    absl::MutexLock l(&mu_);
    auto_advance_ = on;
  }
  WakeAll();
}

void FakeClock::WaitForSleepers(int n) {
  absl::MutexLock l(&mu_);
  auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return sleepers_ >= n; };
  mu_.Await(absl::Condition(&enough));
}

absl::Duration FakeClock::TotalSlept() const {
  absl::MutexLock l(&mu_);
  return total_slept_;
}

void FakeClock::WakeAll() {
  std::set<MutexWaiter*> mutex_waiters;
  {
    // Releasing mu_ wakes the SleepFor callers whose deadline passed.
    absl::MutexLock l(&mu_);
    mutex_waiters = mutex_waiters_;
    ++waking_;
  }
  for (MutexWaiter* w : mutex_waiters) {
    absl::MutexLock l(w->mu);
    w->woken = true;
  }
  {
    absl::MutexLock l(&mu_);
    --waking_;
  }
}

}  // namespace atelier
