// WaitWithWatchdog: waits for asynchronous device work (a CUDA event, a
// non-blocking NCCL call) by polling, so that a peer that died or a collective
// that never completes becomes an error instead of a hang.
//
// Each poll: done() -> return OK when true; health() -> on error, abort() and
// return that error; past the deadline -> abort() and return DeadlineExceeded;
// otherwise sleep poll_interval on the injected Clock. abort() is called at
// most once, and only on the error and timeout paths. Every message starts with
// `what`.
//
// Pure C++ (no CUDA): cuda_status.h and nccl_communicator.h plug the CUDA event
// query, ncclCommGetAsyncError and ncclCommAbort in. Thread-safe as far as the
// probe's functions are; the probe is borrowed for the duration of the call.
#pragma once

#include <functional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "atelier/common/clock.h"

namespace atelier::trainer::gpu {

struct WatchdogProbe {
  // True once the awaited work is complete; an error when the query failed.
  std::function<absl::StatusOr<bool>()> done;
  // OK while the communicator is healthy (may be empty: always healthy).
  std::function<absl::Status()> health;
  // Tears the communicator down so nothing blocks on it (may be empty).
  std::function<void()> abort;
};

struct WatchdogOptions {
  absl::Duration timeout = absl::Minutes(10);  // NCCL's and c10d's usual default
  absl::Duration poll_interval = absl::Microseconds(50);
};

absl::Status WaitWithWatchdog(absl::string_view what, const WatchdogProbe& probe,
                              const WatchdogOptions& options, Clock& clock);

}  // namespace atelier::trainer::gpu
