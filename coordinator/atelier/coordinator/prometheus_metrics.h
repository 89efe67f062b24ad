// Prometheus text exposition (format 0.0.4) of a coordinator's JobStatus:
// crawl counters and rates, shards and leases, workers, and the last metrics of
// each training run. RenderPrometheus is pure and thread-safe. MetricsServer
// serves GET /metrics on its own HTTP listener (cpp-httplib), calling
// `snapshot` per scrape from the server's threads; it stops on destruction.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "atelier/common/http_server_thread.h"
#include "atelier/v1/status.pb.h"

namespace httplib {
class Server;
}

namespace atelier::coordinator {

std::string RenderPrometheus(const atelier::v1::JobStatus& status);

class MetricsServer {
 public:
  // `listen` is HOST:PORT (port 0 picks one).
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      const std::string& listen, std::function<atelier::v1::JobStatus()> snapshot);
  ~MetricsServer();
  int port() const { return runner_->port(); }

 private:
  MetricsServer() = default;
  std::unique_ptr<httplib::Server> server_;
  std::unique_ptr<HttpServerThread> runner_;  // reset first by the destructor
};

}  // namespace atelier::coordinator
