#include "atelier/trainer/gpu/watchdog.h"

#include "absl/strings/str_cat.h"
#include "atelier/common/status_macros.h"

namespace atelier::trainer::gpu {

absl::Status WaitWithWatchdog(absl::string_view what, const WatchdogProbe& probe,
                              const WatchdogOptions& options, Clock& clock) {
  if (!probe.done) return absl::InvalidArgumentError(absl::StrCat(what, ": watchdog without a completion query"));
  const absl::Time deadline = clock.Now() + options.timeout;
  auto fail = [&](const absl::Status& status) {
    if (probe.abort) probe.abort();
    return status;
  };
  while (true) {
    absl::StatusOr<bool> done = probe.done();
    if (!done.ok()) return fail(Annotate(done.status(), what));
    if (*done) return absl::OkStatus();
    if (probe.health) {
      if (absl::Status health = probe.health(); !health.ok()) {
        return fail(Annotate(health, absl::StrCat(what, ": communicator failed, aborted")));
      }
    }
    if (clock.Now() >= deadline) {
      return fail(absl::DeadlineExceededError(
          absl::StrCat(what, ": not complete after ", absl::FormatDuration(options.timeout),
                       " (a peer may have died or stopped calling the same collectives); communicator aborted")));
    }
    clock.SleepFor(options.poll_interval);
  }
}

}  // namespace atelier::trainer::gpu
