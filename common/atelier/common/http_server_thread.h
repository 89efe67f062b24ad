// HttpServerThread: runs a configured cpp-httplib server on a thread of its own.
//
// Start() binds HOST:PORT (PORT 0 picks a free port), raises the listen backlog
// from cpp-httplib's built-in 5 to SOMAXCONN, starts the accept loop and
// returns once the server accepts connections. The larger backlog matters
// under load: when a burst of clients connects while the accept thread waits
// for a core, the kernel drops the SYNs past the backlog and the clients only
// retry a second later. The socket takes SO_REUSEADDR but not SO_REUSEPORT, so
// a second process cannot silently share a fixed port.
//
// Ownership: the caller owns the server, registers its routes before Start and
// keeps it alive until this object is destroyed. The destructor stops the
// server and joins the thread. Thread-safe: port() may be read from any thread.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace httplib {
class Server;
}

namespace atelier {

class HttpServerThread {
 public:
  static absl::StatusOr<std::unique_ptr<HttpServerThread>> Start(httplib::Server& server, const std::string& host,
                                                                 int port);
  ~HttpServerThread();

  HttpServerThread(const HttpServerThread&) = delete;
  HttpServerThread& operator=(const HttpServerThread&) = delete;

  int port() const { return port_; }

 private:
  HttpServerThread(httplib::Server& server, int port) : server_(server), port_(port) {}

  httplib::Server& server_;
  const int port_;
  std::thread thread_;
};

}  // namespace atelier
