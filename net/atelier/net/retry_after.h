// Retry-After (RFC 9110 10.2.3): delta seconds ("120") or an HTTP date ("Wed,
// 21 Oct 2015 07:28:00 GMT", RFC 850 and asctime forms too). Pure; thread-safe.
#pragma once

#include <optional>
#include <string>

#include "absl/time/time.h"

namespace atelier::net {

// The absolute time the header names, or nullopt if the value is absent or
// unparsable. A date in the past yields `now`.
std::optional<absl::Time> ParseRetryAfter(const std::string& value, absl::Time now);

}  // namespace atelier::net
