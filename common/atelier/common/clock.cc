#include "atelier/common/clock.h"

#include <thread>

#include "absl/time/clock.h"

namespace atelier {

Clock& Clock::Real() {
  static RealClock* clock = new RealClock();
  return *clock;
}

absl::Time RealClock::Now() const { return absl::Now(); }

void RealClock::SleepFor(absl::Duration d) {
  if (d > absl::ZeroDuration()) std::this_thread::sleep_for(absl::ToChronoNanoseconds(d));
}

bool RealClock::WaitUntil(absl::Mutex& mu, absl::Time deadline, const std::function<bool()>& pred) {
  return mu.AwaitWithDeadline(absl::Condition(&pred), deadline);
}

}  // namespace atelier
