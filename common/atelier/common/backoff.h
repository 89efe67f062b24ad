// The one retry backoff schedule of atelier: exponential with full jitter,
// for the crawler's fetch retries, its coordinator RPCs and disk faults, and
// the coordinator's Met API searches. Pure functions (BackoffDelay draws from
// the caller's generator); thread-safe.
#pragma once

#include <random>

#include "absl/time/time.h"

namespace atelier {

struct BackoffPolicy {
  absl::Duration base = absl::Seconds(1);  // cap of the first retry's delay
  absl::Duration cap = absl::Seconds(60);  // no delay is ever longer
};

// Delay before retry number `retry` (1 = first retry): uniform in
// [0, min(cap, base * 2^(retry-1))] ("full jitter").
absl::Duration BackoffDelay(const BackoffPolicy& policy, int retry, std::mt19937_64& rng);
// The upper bound BackoffDelay draws below, for tests and docs.
absl::Duration BackoffCeiling(const BackoffPolicy& policy, int retry);

}  // namespace atelier
