// HostLimiter: per-host politeness shared by everything one worker fetches
// (all its shards): at most `max_in_flight` requests in flight per host and a
// token bucket of `requests_per_second` (bucket size `burst`) per host, plus
// host-wide pauses (block pages without Retry-After, e.g. Met API throttling).
//
// AutoThrottle: Throttle() (a 429/503) lowers the host's rate by a quarter,
// at most once per `throttle_cooldown`, or once per the answer's Retry-After
// when that is longer (up to 10 cooldowns: the refusals within one
// Retry-After window are one signal, as TCP counts the losses of one round
// trip once), never below 1/64 of the configured
// rate; every answered request (Succeeded) raises it by 1/16 until it is back
// at the configured rate. So a host that refuses most requests slows down
// quickly, and one that refuses a few now and then hardly at all. A host
// without a configured rate starts from `unlimited_base` requests per second
// when throttled.
//
// Time comes from the caller (`now`), so it runs on any Clock. Thread-safe.
#pragma once

#include <string>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace atelier::net {

struct HostLimits {
  int max_in_flight = 16;
  double requests_per_second = 80;  // <= 0: no rate limit
  double burst = 1;                 // tokens the bucket holds (>= 1)
  absl::Duration throttle_cooldown = absl::Seconds(1);
  double unlimited_base = 10;
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
  // The host said "too many requests" (with its Retry-After, zero when none):
  // lower its rate (AutoThrottle above).
  void Throttle(const std::string& host, absl::Time now, absl::Duration retry_after = absl::ZeroDuration());
  // The host answered a request: a throttled rate recovers a little.
  void Succeeded(const std::string& host);
  // The host's current request rate (<= 0: unlimited).
  double Rate(const std::string& host) const;

  int InFlight(const std::string& host) const;
  const HostLimits& limits() const { return limits_; }

 private:
  struct HostState {
    int in_flight = 0;
    double tokens = 0;
    absl::Time refilled = absl::InfinitePast();
    absl::Time paused_until = absl::InfinitePast();
    double throttled_rate = 0;  // 0: not throttled
    absl::Time throttled_at = absl::InfinitePast();
    absl::Duration throttled_for;  // the cooldown of the last lowering
  };
  double RateOf(const HostState& h) const {  // mu_ held
    return h.throttled_rate > 0 ? h.throttled_rate : limits_.requests_per_second;
  }
  void Refill(HostState& h, absl::Time now) const;  // mu_ held
  const HostLimits limits_;
  mutable absl::Mutex mu_;
  std::unordered_map<std::string, HostState> hosts_ ABSL_GUARDED_BY(mu_);
};

// The host[:port] of an http(s) URL, lower-cased; "" when it has none.
std::string HostOfUrl(absl::string_view url);

}  // namespace atelier::net
