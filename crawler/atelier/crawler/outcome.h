// Outcome classification of one fetch attempt, Retry-After parsing and the
// retry backoff schedule. Pure functions (BackoffDelay draws from the caller's
// generator); thread-safe.
//
//   200                                 -> kSuccess (the body is then validated)
//   404, 410                            -> kDead "http_404" / "http_410", never retried
//   429, 503                            -> kRetry, not before Retry-After (seconds or
//                                          HTTP date); the host's rate is lowered
//   408, other 5xx, timeout, connection,
//   truncated body                      -> kRetry with exponential backoff + full jitter
//   body over max_bytes                 -> kFail "too_large"
//   redirect loop (> limit)             -> kFail "too_many_redirects"
//   bad URL or scheme                   -> kFail "bad_url"
//   address refused by the SSRF guard   -> kFail "blocked_address"
//   other statuses (401, 403, 3xx, 2xx) -> kFail "http_<status>"
// (and IsThrottleAnswer below for block pages that come as 200 or 403)
#pragma once

#include <optional>
#include <random>
#include <string>

#include "absl/time/time.h"
#include "atelier/crawler/fetcher.h"

namespace atelier::crawler {

enum class Verdict { kSuccess, kDead, kRetry, kFail };

struct Classification {
  Verdict verdict = Verdict::kFail;
  std::string reason;  // ItemResult.reason vocabulary; empty for kSuccess
  // kRetry: the earliest time of the next attempt demanded by the server
  // (Retry-After); unset when only the backoff schedule applies.
  std::optional<absl::Time> not_before;
  // True when the server throttles the whole host (429/503): the host's
  // request rate should be lowered (HostLimiter::Throttle).
  bool throttle_host = false;
};

Classification ClassifyFetch(const FetchResult& result, absl::Time now);

// What the request was for: the Met API's JSON or an image.
enum class Expected { kJson, kImage };

// A CDN throttling without 429/503 (DESIGN.md: the Met's CDN answers 403 with
// an HTML page, or 200 with an HTML body). The one rule for the Met API and
// image hosts: a 200 whose body is an HTML page (by its first bytes or a
// text/html Content-Type) is a block page; where JSON was expected, a 403 or
// any 200 body that is not a JSON object is one too. The caller pauses the
// host (CrawlConfig::throttle_pause) and retries the request.
bool IsThrottleAnswer(const FetchResult& result, Expected expected);

// Retry-After: delta seconds ("120") or an HTTP date ("Wed, 21 Oct 2015 07:28:00
// GMT", RFC 850 and asctime forms too). Returns the absolute time, or nullopt if
// the value is absent or unparsable. A date in the past yields `now`.
std::optional<absl::Time> ParseRetryAfter(const std::string& value, absl::Time now);

struct BackoffPolicy {
  absl::Duration base = absl::Seconds(1);  // cap of the first retry's delay
  absl::Duration cap = absl::Seconds(60);  // no delay is ever longer
};

// Delay before retry number `retry` (1 = first retry): uniform in
// [0, min(cap, base * 2^(retry-1))] ("full jitter").
absl::Duration BackoffDelay(const BackoffPolicy& policy, int retry, std::mt19937_64& rng);
// The upper bound BackoffDelay draws below, for tests and docs.
absl::Duration BackoffCeiling(const BackoffPolicy& policy, int retry);

}  // namespace atelier::crawler
