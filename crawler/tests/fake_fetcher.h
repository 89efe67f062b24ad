// FakeFetcher: a scripted Fetcher for unit tests, driven by a FakeClock.
//
// A handler maps (url, attempt number for that url) to a response and a
// latency. Start() records the request and holds it; CompleteDue(now) delivers
// every response whose latency has elapsed. The fetcher also checks politeness
// as it goes: the maximum number of requests in flight per host, and every
// request start time per host. Not thread-safe (tests drive it from one thread).
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "atelier/common/clock.h"
#include "atelier/crawler/fetcher.h"
#include "atelier/crawler/host_limiter.h"

namespace atelier::crawler::testing {

struct FakeResponse {
  FetchResult result;
  absl::Duration latency = absl::Milliseconds(50);
};

inline FakeResponse Status(int status, std::string body = "", absl::Duration latency = absl::Milliseconds(50)) {
  FakeResponse r;
  r.result.http_status = status;
  r.result.body = std::move(body);
  r.result.bytes = static_cast<int64_t>(r.result.body.size());
  r.latency = latency;
  return r;
}

inline FakeResponse Error(FetchError error, absl::Duration latency = absl::Milliseconds(50)) {
  FakeResponse r;
  r.result.error = error;
  r.latency = latency;
  return r;
}

class FakeFetcher final : public Fetcher {
 public:
  using Handler = std::function<FakeResponse(const std::string& url, int attempt)>;
  FakeFetcher(Clock& clock, Handler handler) : clock_(clock), handler_(std::move(handler)) {}

  void Start(FetchRequest request, Callback done) override {
    const absl::Time now = clock_.Now();
    const int attempt = ++attempts_[request.url];
    const std::string host = HostOfUrl(request.url);
    starts_[host].push_back(now);
    log_.push_back({request.url, now});
    max_in_flight_[host] = std::max(max_in_flight_[host], ++in_flight_[host]);
    FakeResponse response = handler_(request.url, attempt);
    pending_.push_back({now + response.latency, host, std::move(response.result), std::move(done)});
  }

  // Delivers the responses due at `now`; returns how many.
  int CompleteDue(absl::Time now) {
    int n = 0;
    for (size_t i = 0; i < pending_.size();) {
      if (pending_[i].due <= now) {
        Pending p = std::move(pending_[i]);
        pending_.erase(pending_.begin() + static_cast<long>(i));
        --in_flight_[p.host];
        p.done(std::move(p.result));
        ++n;
      } else {
        ++i;
      }
    }
    return n;
  }
  absl::Time NextDue() const {
    absl::Time t = absl::InfiniteFuture();
    for (const auto& p : pending_) t = std::min(t, p.due);
    return t;
  }

  int attempts(const std::string& url) const {
    auto it = attempts_.find(url);
    return it == attempts_.end() ? 0 : it->second;
  }
  int total_requests() const { return static_cast<int>(log_.size()); }
  int max_in_flight(const std::string& host) const {
    auto it = max_in_flight_.find(host);
    return it == max_in_flight_.end() ? 0 : it->second;
  }
  const std::vector<absl::Time>& starts(const std::string& host) { return starts_[host]; }
  // Start times of the requests for `url`, in order.
  std::vector<absl::Time> starts_of(const std::string& url) const {
    std::vector<absl::Time> out;
    for (const auto& [u, t] : log_) {
      if (u == url) out.push_back(t);
    }
    return out;
  }

 private:
  struct Pending {
    absl::Time due;
    std::string host;
    FetchResult result;
    Callback done;
  };
  Clock& clock_;
  Handler handler_;
  std::vector<Pending> pending_;
  std::map<std::string, int> attempts_, in_flight_, max_in_flight_;
  std::map<std::string, std::vector<absl::Time>> starts_;
  std::vector<std::pair<std::string, absl::Time>> log_;
};

}  // namespace atelier::crawler::testing
