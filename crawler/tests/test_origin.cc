#include "test_origin.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <vector>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "atelier/common/http_server_thread.h"

namespace atelier::crawler::testing {
namespace {

// gzip of `size` zero bytes.
std::string GzipOfZeros(size_t size) {
  z_stream z{};
  deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);  // +16: gzip framing
  std::vector<uint8_t> zeros(1 << 20, 0), out(1 << 16);
  std::string gz;
  for (size_t fed = 0; fed <= size;) {
    const size_t n = std::min(zeros.size(), size - fed);
    const int flush = fed + n >= size ? Z_FINISH : Z_NO_FLUSH;
    z.next_in = zeros.data();
    z.avail_in = static_cast<uInt>(n);
    do {
      z.next_out = out.data();
      z.avail_out = static_cast<uInt>(out.size());
      deflate(&z, flush);
      gz.append(reinterpret_cast<char*>(out.data()), out.size() - z.avail_out);
    } while (z.avail_out == 0);
    fed += n;
    if (flush == Z_FINISH) break;
  }
  deflateEnd(&z);
  return gz;
}

}  // namespace

TestOrigin::TestOrigin(std::string host) : host_(std::move(host)), server_(std::make_unique<httplib::Server>()) {
  httplib::Server& s = *server_;
  auto delay = [this] {
    if (int ms = delay_ms_.load(); ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  };
  auto serve_image = [this](const std::string& name, httplib::Response& res) {
    absl::MutexLock l(&mu_);
    auto it = images_.find(name);
    if (it == images_.end()) {
      res.status = 404;
      return;
    }
    res.set_content(it->second.first, it->second.second.c_str());
  };
  s.Get(R"(/img/([^/]+))", [this, delay, serve_image](const httplib::Request& req, httplib::Response& res) {
    Count(req.path);
    delay();
    serve_image(req.matches[1], res);
  });
  s.Get(R"(/status/(\d+))", [this](const httplib::Request& req, httplib::Response& res) {
    Count(req.path);
    res.status = std::atoi(std::string(req.matches[1]).c_str());
    res.set_content("<html><body>status page</body></html>", "text/html");
  });
  s.Get(R"(/limited/\w+)", [this, delay, serve_image](const httplib::Request& req, httplib::Response& res) {
    if (Count(req.path) == 1) {
      res.status = 429;
      res.set_header("Retry-After", "1");
      res.set_content("too many requests", "text/plain");
      return;
    }
    serve_image("a.jpg", res);
  });
  s.Get(R"(/flaky/\w+)", [this, delay, serve_image](const httplib::Request& req, httplib::Response& res) {
    if (Count(req.path) == 1) {
      res.status = 500;
      res.set_content("internal error", "text/plain");
      return;
    }
    serve_image("a.jpg", res);
  });
  s.Get(R"(/cut/\w+)", [this, delay, serve_image](const httplib::Request& req, httplib::Response& res) {
    if (Count(req.path) == 1) {
      std::string bytes;
      {
        absl::MutexLock l(&mu_);
        bytes = images_["a.jpg"].first;
      }
      const size_t total = bytes.size();
      res.set_content_provider(total, "image/jpeg", [bytes](size_t offset, size_t, httplib::DataSink& sink) {
        if (offset >= bytes.size() / 2) return false;  // close the connection half way
        sink.write(bytes.data(), bytes.size() / 2);
        return true;
      });
      return;
    }
    serve_image("a.jpg", res);
  });
  s.Get("/slow", [this](const httplib::Request& req, httplib::Response& res) {
    Count(req.path);
    res.set_chunked_content_provider("image/jpeg", [](size_t offset, httplib::DataSink& sink) {
      if (offset >= 25 * 1024 || !sink.is_writable()) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      std::string chunk(1024, '\xff');
      return sink.write(chunk.data(), chunk.size());
    });
  });
  s.Get("/loop", [this](const httplib::Request& req, httplib::Response& res) {
    Count(req.path);
    res.set_redirect("/loop");
  });
  s.Get("/redirect", [this](const httplib::Request& req, httplib::Response& res) {
    Count(req.path);
    res.set_redirect(req.get_param_value("to"));
  });
  s.Get("/html-as-jpeg", [this](const httplib::Request& req, httplib::Response& res) {
    Count(req.path);
    res.set_content("<!DOCTYPE html><html><head><title>Oops</title></head><body>Not here</body></html>",
                    "image/jpeg");
  });
  s.Get("/big", [this](const httplib::Request& req, httplib::Response& res) {
    Count(req.path);
    res.set_content(std::string(300000, 'x'), "image/jpeg");
  });
  s.Get("/big-chunked", [this](const httplib::Request& req, httplib::Response& res) {
    Count(req.path);
    res.set_chunked_content_provider("image/jpeg", [](size_t offset, httplib::DataSink& sink) {
      if (offset >= 300000) {
        sink.done();
        return true;
      }
      std::string chunk(10000, 'x');
      return sink.write(chunk.data(), chunk.size());
    });
  });
  s.Get(R"(/endless/\w+)", [this](const httplib::Request& req, httplib::Response& res) {
    Count(req.path);
    res.set_chunked_content_provider("image/jpeg", [this](size_t offset, httplib::DataSink& sink) {
      if (offset >= (size_t{2} << 30) || stopping_.load()) {
        sink.done();
        return true;
      }
      static const std::string chunk(64 << 10, 'x');
      return sink.write(chunk.data(), chunk.size());
    });
  });
  s.Get(R"(/gzip-bomb/\w+)", [this](const httplib::Request& req, httplib::Response& res) {
    Count(req.path);
    res.set_header("Content-Encoding", "gzip");
    static const std::string bomb = GzipOfZeros(size_t{64} << 20);  // made once, on first use
    res.set_content(bomb, "image/png");
  });
  s.Get(R"(/api/objects/(\d+))", [this](const httplib::Request& req, httplib::Response& res) {
    const int n = Count(req.path);
    const int64_t id = std::atoll(std::string(req.matches[1]).c_str());
    absl::MutexLock l(&mu_);
    if (html_first_.count(id) > 0 && n == 1) {
      res.set_content("<!DOCTYPE html><html><body>Incapsula incident: request blocked</body></html>", "text/html");
      return;
    }
    auto it = met_.find(id);
    if (it == met_.end()) {
      res.status = 404;
      res.set_content(R"({"message": "ObjectID not found"})", "application/json");
      return;
    }
    res.set_content(it->second, "application/json");
  });
  s.Get("/api/search", [this](const httplib::Request& req, httplib::Response& res) {
    Count(req.path);
    absl::MutexLock l(&mu_);
    std::vector<int64_t> ids;
    for (const auto& [id, json] : met_) ids.push_back(id);
    res.set_content(absl::StrCat(R"({"total": )", ids.size(), R"(, "objectIDs": [)", absl::StrJoin(ids, ", "), "]}"),
                    "application/json");
  });

  auto runner = HttpServerThread::Start(s, host_, 0);
  if (!runner.ok()) std::abort();
  runner_ = *std::move(runner);

  // The resetting port: accept, read a little, abort the connection (RST).
  reset_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(reset_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(reset_fd_, 16) != 0) {
    std::abort();
  }
  socklen_t len = sizeof(addr);
  getsockname(reset_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  reset_port_ = ntohs(addr.sin_port);
  reset_thread_ = std::thread([this] { ResetLoop(); });
}

void TestOrigin::ResetLoop() {
  while (!stopping_.load()) {
    pollfd p{reset_fd_, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    const int fd = accept(reset_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    Count("/reset");
    char buf[512];
    (void)!recv(fd, buf, sizeof(buf), 0);
    linger l{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    close(fd);
  }
}

TestOrigin::~TestOrigin() {
  stopping_.store(true);
  runner_.reset();
  reset_thread_.join();
  close(reset_fd_);
}

std::string TestOrigin::Url(const std::string& path) const { return absl::StrCat("http://", host_, ":", port(), path); }
std::string TestOrigin::ResetUrl() const { return absl::StrCat("http://127.0.0.1:", reset_port_, "/image.jpg"); }

void TestOrigin::AddImage(const std::string& name, std::string bytes, std::string content_type) {
  absl::MutexLock l(&mu_);
  images_[name] = {std::move(bytes), std::move(content_type)};
}

void TestOrigin::AddMetObject(int64_t id, std::string json, bool html_first) {
  absl::MutexLock l(&mu_);
  met_[id] = std::move(json);
  if (html_first) html_first_.insert(id);
}

int TestOrigin::Count(const std::string& path) {
  absl::MutexLock l(&mu_);
  return ++counts_[path];
}

int TestOrigin::Requests(const std::string& path) const {
  absl::MutexLock l(&mu_);
  auto it = counts_.find(path);
  return it == counts_.end() ? 0 : it->second;
}

int TestOrigin::TotalRequests() const {
  absl::MutexLock l(&mu_);
  return TotalRequestsLocked();
}

int TestOrigin::TotalRequestsLocked() const {
  int n = 0;
  for (const auto& [path, c] : counts_) n += c;
  return n;
}

bool TestOrigin::AwaitTotalRequests(int n, absl::Duration timeout) const {
  absl::MutexLock l(&mu_);
  auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return TotalRequestsLocked() >= n; };
  return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
}

std::map<std::string, int> TestOrigin::RequestCounts() const {
  absl::MutexLock l(&mu_);
  return counts_;
}

}  // namespace atelier::crawler::testing
