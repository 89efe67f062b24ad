#include "atelier/net/retry_after.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"

namespace atelier::net {

std::optional<absl::Time> ParseRetryAfter(const std::string& value, absl::Time now) {
  absl::string_view v = absl::StripAsciiWhitespace(value);
  if (v.empty()) return std::nullopt;
  int64_t seconds = 0;
  if (absl::SimpleAtoi(v, &seconds)) {
    if (seconds < 0) return std::nullopt;
    return now + absl::Seconds(seconds);
  }
  // IMF-fixdate, RFC 850, asctime.
  for (const char* format : {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"}) {
    absl::Time t;
    std::string err;
    if (absl::ParseTime(format, std::string(v), absl::UTCTimeZone(), &t, &err)) {
      return std::max(t, now);
    }
  }
  return std::nullopt;
}

}  // namespace atelier::net
