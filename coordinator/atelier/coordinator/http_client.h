// HttpClient: the narrow HTTP interface ingest uses (GET only), so tests run
// against a fake or a loopback server and never the internet.
//
// Get() returns the response for any HTTP status (callers classify 4xx/5xx);
// an error Status only for transport failures (DNS, connect, timeout, reset).
// Implementations are thread-safe.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace atelier::coordinator {

struct HttpResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual absl::StatusOr<HttpResponse> Get(const std::string& url, absl::Duration timeout) = 0;
};

// libcurl implementation: follows redirects, sends a User-Agent, caps bodies
// at `max_body_bytes`.
class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(int64_t max_body_bytes = 256 << 20);
  absl::StatusOr<HttpResponse> Get(const std::string& url, absl::Duration timeout) override;

 private:
  int64_t max_body_bytes_;
};

// Fake for tests: answers from per-URL queues (the last answer of a queue
// repeats); unknown URLs get a 404. Records every URL requested.
class FakeHttpClient final : public HttpClient {
 public:
  void Add(const std::string& url, absl::StatusOr<HttpResponse> response);
  absl::StatusOr<HttpResponse> Get(const std::string& url, absl::Duration timeout) override;
  std::vector<std::string> requests() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::deque<absl::StatusOr<HttpResponse>>> answers_;
  std::vector<std::string> requests_;
};

// Percent-encodes `s` for a URL query component (RFC 3986 unreserved kept).
std::string UrlEncode(const std::string& s);

}  // namespace atelier::coordinator
