// TestOrigin: a real HTTP server on 127.0.0.1 (or another loopback address)
// (cpp-httplib) for crawler integration tests, plus a raw TCP port on
// 127.0.0.1 that resets every connection.
//
// Routes (every request is counted per path):
//   /img/<name>          bodies registered with AddImage (Content-Type image/jpeg|png|webp)
//   /status/<code>       that status with a small HTML body (404, 410, ...)
//   /limited/<n>         429 with Retry-After: 1 on the first request, then image "a.jpg"
//   /flaky/<n>           500 on the first request, then image "a.jpg"
//   /cut/<n>             first request: body cut half way (connection closed), then "a.jpg"
//   /slow                a body trickling 1 KiB every 200 ms for 5 s
//   /loop                302 to itself
//   /redirect?to=URL     302 to URL
//   /html-as-jpeg        an HTML page served as image/jpeg
//   /big                 300000 bytes with Content-Length; /big-chunked without
//   /endless/<n>         a chunked body of 64 KiB chunks, up to 2 GiB (ends when the client goes)
//   /gzip-bomb/<n>       Content-Encoding: gzip, 64 KiB on the wire that inflate to 64 MiB of zeros
//   /api/objects/<id>    Met API replica (objects registered with AddMetObject;
//                        ids in HtmlFirst() answer an HTML block page first)
//   /api/search?q=...    {"total": n, "objectIDs": [...]} of the registered objects
// Optional per-request delay (SetDelay) for kill/resume tests. Thread-safe.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "atelier/common/http_server_thread.h"

namespace httplib {
class Server;
}

namespace atelier::crawler::testing {

class TestOrigin {
 public:
  explicit TestOrigin(std::string host = "127.0.0.1");
  ~TestOrigin();

  std::string Url(const std::string& path) const;  // http://<host>:<port><path>
  std::string ResetUrl() const;                    // a URL on the resetting port
  int port() const { return runner_->port(); }

  void AddImage(const std::string& name, std::string bytes, std::string content_type = "image/jpeg");
  void AddMetObject(int64_t id, std::string json, bool html_first = false);
  void SetDelayMs(int ms) { delay_ms_ = ms; }

  int Requests(const std::string& path) const;
  int TotalRequests() const;
  // Blocks (on the origin's mutex, no polling) until it has answered at least
  // `n` requests or `timeout` of real time passes; false on timeout.
  bool AwaitTotalRequests(int n, absl::Duration timeout) const;
  std::map<std::string, int> RequestCounts() const;

 private:
  int Count(const std::string& path) ABSL_LOCKS_EXCLUDED(mu_);
  void ResetLoop();

  const std::string host_;
  std::unique_ptr<httplib::Server> server_;
  std::unique_ptr<HttpServerThread> runner_;
  std::thread reset_thread_;
  int reset_port_ = 0, reset_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<int> delay_ms_{0};
  int TotalRequestsLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  mutable absl::Mutex mu_;
  std::map<std::string, int> counts_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::pair<std::string, std::string>> images_ ABSL_GUARDED_BY(mu_);  // name -> (bytes, type)
  std::map<int64_t, std::string> met_ ABSL_GUARDED_BY(mu_);
  std::set<int64_t> html_first_ ABSL_GUARDED_BY(mu_);
};

}  // namespace atelier::crawler::testing
