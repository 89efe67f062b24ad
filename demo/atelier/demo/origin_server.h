// OriginServer: a loopback HTTP origin for the demo and for end-to-end tests.
// It serves registered bodies by path, a Met Collection API replica
// (`<met_prefix>/search?q=...` and `<met_prefix>/objects/<id>`), and can make a
// path answer with an HTML "throttled" page for its first N requests, like the
// Met's CDN does. Unregistered paths answer 404.
//
// Thread-safe: routes may be added while the server runs. The server listens on
// 127.0.0.1 on a free port from Start() until destruction.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "atelier/common/http_server_thread.h"

namespace httplib {
class Server;
}

namespace atelier::demo {

class OriginServer {
 public:
  static absl::StatusOr<std::unique_ptr<OriginServer>> Start();
  ~OriginServer();
  OriginServer(const OriginServer&) = delete;
  OriginServer& operator=(const OriginServer&) = delete;

  // "http://127.0.0.1:<port>"
  std::string base_url() const;
  // The Met API base the replica answers under, e.g. base_url() + "/met/v1".
  std::string met_api() const;

  // Serves `body` at `path` (e.g. "/images/1.png"). The first `html_first`
  // requests get a 200 HTML page instead (throttling replica).
  void Serve(const std::string& path, const std::string& content_type, std::string body,
             int html_first = 0);
  // Met replica: `q` finds `object_ids`; `object_json` is the body of
  // objects/<id> (html_first as for Serve).
  void AddMetSearch(const std::string& q, std::vector<int64_t> object_ids);
  void AddMetObject(int64_t object_id, std::string object_json, int html_first = 0);

  int64_t requests() const { return requests_.load(); }

 private:
  struct Route {
    std::string content_type;
    std::string body;
    int html_left = 0;
  };
  OriginServer();
  std::string Handle(const std::string& path, const std::string& query_q, int* status,
                     std::string* content_type) ABSL_LOCKS_EXCLUDED(mu_);

  std::unique_ptr<httplib::Server> server_;
  std::unique_ptr<HttpServerThread> runner_;  // reset first by the destructor
  std::atomic<int64_t> requests_{0};
  mutable absl::Mutex mu_;
  std::map<std::string, Route> routes_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::vector<int64_t>> met_searches_ ABSL_GUARDED_BY(mu_);
};

}  // namespace atelier::demo
