// HostLimiter: per-host politeness shared by everything one worker fetches
// (all its shards): at most `max_in_flight` requests in flight per host and a
// token bucket of `requests_per_second` (bucket size `burst`) per host, plus
// host-wide pauses (Retry-After, Met API throttling).
//
// Time comes from the caller (`now`), so it runs on any Clock. Thread-safe.
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace atelier::crawler {

struct HostLimits {
  int max_in_flight = 16;
  double requests_per_second = 80;  // <= 0: no rate limit
  double burst = 1;                 // tokens the bucket holds (>= 1)
};

class HostLimiter {
 public:
  explicit HostLimiter(HostLimits limits);

  // Takes a slot and a token for `host` and returns true, or returns false and
  // sets *retry_at to the earliest time worth trying again (InfiniteFuture when
  // only a Release() can free a slot).
  bool TryAcquire(const std::string& host, absl::Time now, absl::Time* retry_at);
  // Gives back the in-flight slot taken by a successful TryAcquire.
  void Release(const std::string& host);
  // Closes the host until `until` (extends, never shortens, a pause).
  void PauseUntil(const std::string& host, absl::Time until);

  int InFlight(const std::string& host) const;
  const HostLimits& limits() const { return limits_; }

 private:
  struct HostState {
    int in_flight = 0;
    double tokens = 0;
    absl::Time refilled = absl::InfinitePast();
    absl::Time paused_until = absl::InfinitePast();
  };
  const HostLimits limits_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, HostState> hosts_;
};

// The host[:port] of an http(s) URL, lower-cased; "" when it has none.
std::string HostOfUrl(absl::string_view url);

}  // namespace atelier::crawler
