#include "atelier/common/backoff.h"

#include <algorithm>

namespace atelier {

absl::Duration BackoffCeiling(const BackoffPolicy& policy, int retry) {
  absl::Duration ceiling = policy.base;
  for (int i = 1; i < retry && ceiling < policy.cap; ++i) ceiling *= 2;
  return std::min(ceiling, policy.cap);
}

absl::Duration BackoffDelay(const BackoffPolicy& policy, int retry, std::mt19937_64& rng) {
  const int64_t ceiling_us = absl::ToInt64Microseconds(BackoffCeiling(policy, retry));
  if (ceiling_us <= 0) return absl::ZeroDuration();
  std::uniform_int_distribution<int64_t> dist(0, ceiling_us);
  return absl::Microseconds(dist(rng));
}

}  // namespace atelier
