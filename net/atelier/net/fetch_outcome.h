// The one classification of a fetch attempt's outcome, for the crawler's
// fetches and the coordinator's Met API searches. Pure; thread-safe.
//
//   200                                 -> kSuccess (the body is then validated)
//   404, 410                            -> kDead "http_404" / "http_410", never retried
//   429, 503                            -> kRetry, not before Retry-After (seconds or
//                                          HTTP date); the host's rate is lowered
//   408, other 5xx, timeout, connection,
//   truncated body, cancelled           -> kRetry with backoff (common/backoff.h)
//   body over max_bytes                 -> kFail "too_large"
//   redirect loop (> limit)             -> kFail "too_many_redirects"
//   bad URL or scheme                   -> kFail "bad_url"
//   address refused by the SSRF guard   -> kFail "blocked_address"
//   other statuses (401, 403, 3xx, 2xx) -> kFail "http_<status>"
// (and throttle_answer.h for block pages that come as 200 or 403)
#pragma once

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "atelier/net/fetcher.h"

namespace atelier::net {

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

}  // namespace atelier::net
