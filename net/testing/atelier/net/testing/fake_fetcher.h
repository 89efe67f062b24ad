// FakeFetcher: the scripted Fetcher for unit tests (test-support only).
//
// A handler maps (url, attempt number for that url) to a response and a
// latency. Start() records the request and holds it; CompleteDue(now) delivers
// every response whose latency has elapsed (tests driven by a FakeClock). With
// set_immediate(true), Start() answers at once instead, from the calling thread
// (for FetchAndWait callers such as the coordinator's Met ingest).
// AnswersByUrl builds a handler from canned answers per URL. The fetcher also
// records politeness as it goes: the maximum number of requests in flight per
// host, and every request start time per host. Not thread-safe (tests drive it from one thread).
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "atelier/common/clock.h"
#include "atelier/net/fetcher.h"
#include "atelier/net/host_limiter.h"

namespace atelier::net::testing {

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

// An answer with `status`, `body` and a Content-Type header.
inline FakeResponse Typed(int status, std::string content_type, std::string body) {
  FakeResponse r = Status(status, std::move(body));
  r.result.headers["content-type"] = std::move(content_type);
  return r;
}

inline FakeResponse Error(FetchError error, absl::Duration latency = absl::Milliseconds(50)) {
  FakeResponse r;
  r.result.error = error;
  r.latency = latency;
  return r;
}

// The n-th request for a URL gets its n-th answer; the last answer repeats;
// a URL without answers gets a 404.
inline std::function<FakeResponse(const std::string&, int)> AnswersByUrl(
    std::map<std::string, std::vector<FakeResponse>> answers) {
  auto table = std::make_shared<std::map<std::string, std::vector<FakeResponse>>>(std::move(answers));
  return [table](const std::string& url, int attempt) {
    auto it = table->find(url);
    if (it == table->end() || it->second.empty()) return Status(404, "not found");
    return it->second[std::min<size_t>(static_cast<size_t>(attempt), it->second.size()) - 1];
  };
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
    if (immediate_) {
      --in_flight_[host];
      done(std::move(response.result));
      return;
    }
    pending_.push_back({now + response.latency, host, std::move(response.result), std::move(done)});
  }

  void set_immediate(bool immediate) { immediate_ = immediate; }

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
  bool immediate_ = false;
  std::vector<Pending> pending_;
  std::map<std::string, int> attempts_, in_flight_, max_in_flight_;
  std::map<std::string, std::vector<absl::Time>> starts_;
  std::vector<std::pair<std::string, absl::Time>> log_;
};

}  // namespace atelier::net::testing
