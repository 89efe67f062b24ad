// PickFreePort: a TCP port on 127.0.0.1 that was free a moment ago (the OS
// picks it). Another process may take it before the caller binds; callers
// that start servers on it retry or fail with a clear message. Thread-safe.
#pragma once

#include "absl/status/statusor.h"

namespace atelier {

absl::StatusOr<int> PickFreePort();

}  // namespace atelier
