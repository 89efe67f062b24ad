// Fetcher: the one HTTP client interface of atelier (the crawler's image and
// Met object fetches, the coordinator's Met API searches). CurlFetcher is the
// real one; atelier::net::testing::FakeFetcher (net/testing) the fake;
// FetchAndWait (fetch_and_wait.h) the blocking form for one request at a time.
//
// Start() begins one GET and returns at once; `done` is called exactly once with
// the result, from the fetcher's own thread (CurlFetcher) or from whatever
// thread drives a fake. Callers must not block inside `done` (hand the result
// over to their own thread). Implementations are thread-safe: Start may be
// called from any thread. The fetcher must outlive every outstanding request.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "atelier/common/memory_budget.h"

namespace atelier::net {

struct FetchRequest {
  std::string url;
  absl::Duration timeout = absl::Seconds(30);  // whole request
  int64_t max_bytes = 50'000'000;              // larger bodies are cut off: kTooLarge
};

// Transport-level failure class (independent of the HTTP status).
enum class FetchError {
  kNone,              // a complete HTTP response arrived (any status)
  kTimeout,           // the whole-request timeout passed (slow or stalled server)
  kConnection,        // DNS, refused, reset, TLS or other network failures
  kTruncated,         // the body ended before its declared length
  kTooLarge,          // the body exceeded max_bytes and was cut off
  kTooManyRedirects,  // more than the redirect limit (set by the caller that follows them)
  kBadUrl,            // malformed URL or a scheme other than http/https
  kCancelled,         // the fetcher shut down before the request finished
  kBlockedAddress,    // every address of a hop is one the AddressGuard refuses
  kOverBudget,        // dropped part way to free the memory budget for others: fetch again, not a failure
};
absl::string_view FetchErrorName(FetchError error);

struct FetchResult {
  FetchError error = FetchError::kNone;
  std::string error_message;  // human-readable detail for logs
  int http_status = 0;        // last status seen, 0 if none
  // Response headers of the final response, names lower-cased.
  std::map<std::string, std::string> headers;
  std::string body;
  std::string effective_url;  // the URL that answered
  // A redirect (3xx with Location) is not followed: this is its target,
  // absolute. The caller follows it as a request of its own, so politeness
  // sees the host of every hop.
  std::string redirect_url;
  int64_t bytes = 0;          // body bytes received (all attempts' bytes are summed by callers)
  // The share of the fetcher's MemoryBudget that `body` holds (null without
  // a budget): keep it as long as the body, drop it with the body.
  std::shared_ptr<MemoryBudget::Reservation> memory;
};

class Fetcher {
 public:
  using Callback = std::function<void(FetchResult)>;
  virtual ~Fetcher() = default;
  virtual void Start(FetchRequest request, Callback done) = 0;
};

}  // namespace atelier::net
