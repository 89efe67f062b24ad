#include "atelier/common/http_server_thread.h"

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <httplib.h>

#include <cstdlib>
#include <optional>

#include "atelier/common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace atelier {
namespace {

using ::atelier::testing::StatusIs;
using ::testing::HasSubstr;

// The backlog the kernel keeps for this process's socket listening on `port`
// (for a listening socket, TCP_INFO's tcpi_sacked is its maximum backlog).
std::optional<unsigned> ListenBacklogOfPort(int port) {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return std::nullopt;
  std::optional<unsigned> found;
  while (dirent* entry = readdir(dir)) {
    const int fd = std::atoi(entry->d_name);
    if (fd <= 2) continue;
    int listening = 0;
    socklen_t len = sizeof(listening);
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || listening == 0) continue;
    sockaddr_in addr{};
    len = sizeof(addr);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 || addr.sin_family != AF_INET ||
        ntohs(addr.sin_port) != port) {
      continue;
    }
    tcp_info info{};
    len = sizeof(info);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0) found = info.tcpi_sacked;
  }
  closedir(dir);
  return found;
}

TEST(HttpServerThreadTest, ServesOnAFreePortUntilDestroyed) {
  httplib::Server server;
  server.Get("/hello", [](const httplib::Request&, httplib::Response& res) { res.set_content("hi", "text/plain"); });
  ASSERT_OK_AND_ASSIGN(auto runner, HttpServerThread::Start(server, "127.0.0.1", 0));
  ASSERT_GT(runner->port(), 0);
  httplib::Client client("127.0.0.1", runner->port());
  auto res = client.Get("/hello");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "hi");
  const int port = runner->port();
  runner.reset();
  EXPECT_FALSE(server.is_running());
  httplib::Client after("127.0.0.1", port);
  after.set_connection_timeout(1);
  EXPECT_FALSE(after.Get("/hello"));
}

TEST(HttpServerThreadTest, RaisesTheListenBacklogAboveHttplibsFive) {
  httplib::Server server;
  ASSERT_OK_AND_ASSIGN(auto runner, HttpServerThread::Start(server, "127.0.0.1", 0));
  const auto backlog = ListenBacklogOfPort(runner->port());
  ASSERT_TRUE(backlog.has_value()) << "no listening socket on port " << runner->port();
  EXPECT_GE(*backlog, 128u);
}

TEST(HttpServerThreadTest, ATakenPortIsAnErrorNamingIt) {
  httplib::Server first, second;
  ASSERT_OK_AND_ASSIGN(auto runner, HttpServerThread::Start(first, "127.0.0.1", 0));
  const int port = runner->port();
  EXPECT_THAT(HttpServerThread::Start(second, "127.0.0.1", port).status(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr(absl::StrCat("127.0.0.1:", port))));
}

TEST(HttpServerThreadTest, PortOutOfRangeIsRejected) {
  httplib::Server server;
  EXPECT_THAT(HttpServerThread::Start(server, "127.0.0.1", 70000).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("70000")));
}

}  // namespace
}  // namespace atelier
