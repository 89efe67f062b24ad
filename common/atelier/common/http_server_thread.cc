#include "atelier/common/http_server_thread.h"

#include <sys/socket.h>

#include <httplib.h>

#include <chrono>

#include "absl/strings/str_cat.h"

namespace atelier {

absl::StatusOr<std::unique_ptr<HttpServerThread>> HttpServerThread::Start(httplib::Server& server,
                                                                           const std::string& host, int port) {
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("HTTP server port ", port, " is out of range 0..65535"));
  }
  // cpp-httplib calls this for every address it tries, just before bind; the
  // last one is the socket that ends up listening.
  int listen_fd = -1;
  server.set_socket_options([&listen_fd](int fd) {
    const int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_fd = fd;
  });
  int bound = -1;
  if (port == 0) {
    bound = server.bind_to_any_port(host.c_str());
  } else {
    bound = server.bind_to_port(host.c_str(), port) ? port : -1;
  }
  if (bound <= 0 || listen_fd < 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", host, ":", port));
  }
  // listen() on a listening socket only updates its backlog (Linux).
  if (::listen(listen_fd, SOMAXCONN) != 0) {
    return absl::InternalError(absl::StrCat("cannot raise the listen backlog on ", host, ":", bound));
  }
  std::unique_ptr<HttpServerThread> runner(new HttpServerThread(server, bound));
  httplib::Server* raw = &server;
  runner->thread_ = std::thread([raw] { raw->listen_after_bind(); });
  // stop() does nothing until the accept loop runs: wait for it, so that the
  // destructor always stops the server.
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return runner;
}

HttpServerThread::~HttpServerThread() {
  server_.stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace atelier
