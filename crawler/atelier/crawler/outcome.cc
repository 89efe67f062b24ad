#include "atelier/crawler/outcome.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace atelier::crawler {

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

bool IsThrottleAnswer(const FetchResult& result, Expected expected) {
  if (result.error != FetchError::kNone) return false;
  if (expected == Expected::kJson && result.http_status == 403) return true;
  if (result.http_status != 200) return false;
  const absl::string_view body = absl::StripLeadingAsciiWhitespace(result.body);
  if (expected == Expected::kJson) return !absl::StartsWith(body, "{");
  if (auto it = result.headers.find("content-type"); it != result.headers.end()) {
    if (absl::StartsWithIgnoreCase(absl::StripLeadingAsciiWhitespace(it->second), "text/html")) return true;
  }
  return absl::StartsWithIgnoreCase(body, "<!doctype html") || absl::StartsWithIgnoreCase(body, "<html");
}

Classification ClassifyFetch(const FetchResult& result, absl::Time now) {
  Classification c;
  switch (result.error) {
    case FetchError::kNone:
      break;
    case FetchError::kTimeout:
    case FetchError::kConnection:
    case FetchError::kTruncated:
    case FetchError::kCancelled:
      c.verdict = Verdict::kRetry;
      c.reason = std::string(FetchErrorName(result.error));
      return c;
    case FetchError::kTooLarge:
    case FetchError::kTooManyRedirects:
    case FetchError::kBadUrl:
    case FetchError::kBlockedAddress:
      c.verdict = Verdict::kFail;
      c.reason = std::string(FetchErrorName(result.error));
      return c;
  }
  const int status = result.http_status;
  if (status == 200) {
    c.verdict = Verdict::kSuccess;
    return c;
  }
  c.reason = absl::StrCat("http_", status);
  if (status == 404 || status == 410) {
    c.verdict = Verdict::kDead;
  } else if (status == 429 || status == 503) {
    c.verdict = Verdict::kRetry;
    c.throttle_host = true;
    auto it = result.headers.find("retry-after");
    if (it != result.headers.end()) c.not_before = ParseRetryAfter(it->second, now);
  } else if (status == 408 || (status >= 500 && status <= 599)) {
    c.verdict = Verdict::kRetry;
  } else {
    c.verdict = Verdict::kFail;
  }
  return c;
}

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

}  // namespace atelier::crawler
