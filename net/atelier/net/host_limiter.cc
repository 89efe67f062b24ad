#include "atelier/net/host_limiter.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"

namespace atelier::net {

HostLimiter::HostLimiter(HostLimits limits) : limits_(limits) {}

bool HostLimiter::TryAcquire(const std::string& host, absl::Time now, absl::Time* retry_at) {
  absl::MutexLock l(&mu_);
  HostState& h = hosts_[host];
  const double burst = std::max(1.0, limits_.burst);
  if (h.refilled == absl::InfinitePast()) {
    h.tokens = burst;
    h.refilled = now;
  }
  if (now < h.paused_until) {
    *retry_at = h.paused_until;
    return false;
  }
  if (limits_.max_in_flight > 0 && h.in_flight >= limits_.max_in_flight) {
    *retry_at = absl::InfiniteFuture();
    return false;
  }
  if (const double rate = RateOf(h); rate > 0) {
    Refill(h, now);
    if (h.tokens < 1.0) {
      const double wait_s = (1.0 - h.tokens) / rate;
      // Round up to the microsecond so the token is really there at retry_at.
      *retry_at = now + absl::Microseconds(static_cast<int64_t>(std::ceil(wait_s * 1e6)));
      return false;
    }
    h.tokens -= 1.0;
  }
  ++h.in_flight;
  return true;
}

void HostLimiter::Release(const std::string& host) {
  absl::MutexLock l(&mu_);
  auto it = hosts_.find(host);
  if (it != hosts_.end() && it->second.in_flight > 0) --it->second.in_flight;
}

void HostLimiter::PauseUntil(const std::string& host, absl::Time until) {
  absl::MutexLock l(&mu_);
  HostState& h = hosts_[host];
  h.paused_until = std::max(h.paused_until, until);
}

void HostLimiter::Refill(HostState& h, absl::Time now) const {
  const double rate = RateOf(h);
  if (rate > 0 && h.refilled != absl::InfinitePast() && now > h.refilled) {
    h.tokens = std::min(std::max(1.0, limits_.burst), h.tokens + absl::ToDoubleSeconds(now - h.refilled) * rate);
    h.refilled = now;
  }
}

void HostLimiter::Throttle(const std::string& host, absl::Time now, absl::Duration retry_after) {
  absl::MutexLock l(&mu_);
  HostState& h = hosts_[host];
  if (h.throttled_rate > 0 && now - h.throttled_at < h.throttled_for) return;
  const double limit = limits_.requests_per_second > 0 ? limits_.requests_per_second : limits_.unlimited_base;
  Refill(h, now);  // tokens earned at the old rate
  const double current = h.throttled_rate > 0 ? h.throttled_rate : limit;
  h.throttled_rate = std::max(limit / 64, current * 0.75);
  h.throttled_at = now;
  h.throttled_for = std::clamp(retry_after, limits_.throttle_cooldown, 10 * limits_.throttle_cooldown);
}

void HostLimiter::Succeeded(const std::string& host) {
  absl::MutexLock l(&mu_);
  auto it = hosts_.find(host);
  if (it == hosts_.end() || it->second.throttled_rate <= 0) return;
  HostState& h = it->second;
  const double limit = limits_.requests_per_second > 0 ? limits_.requests_per_second : limits_.unlimited_base;
  h.throttled_rate *= 1.0 + 1.0 / 16;
  if (h.throttled_rate >= limit) h.throttled_rate = 0;  // recovered
}

double HostLimiter::Rate(const std::string& host) const {
  absl::MutexLock l(&mu_);
  auto it = hosts_.find(host);
  return it == hosts_.end() ? limits_.requests_per_second : RateOf(it->second);
}

int HostLimiter::InFlight(const std::string& host) const {
  absl::MutexLock l(&mu_);
  auto it = hosts_.find(host);
  return it == hosts_.end() ? 0 : it->second.in_flight;
}

std::string HostOfUrl(absl::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == absl::string_view::npos) return "";
  absl::string_view rest = url.substr(scheme + 3);
  const size_t end = rest.find_first_of("/?#");
  if (end != absl::string_view::npos) rest = rest.substr(0, end);
  const size_t at = rest.rfind('@');
  if (at != absl::string_view::npos) rest = rest.substr(at + 1);
  return absl::AsciiStrToLower(rest);
}

}  // namespace atelier::net
