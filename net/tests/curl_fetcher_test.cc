// CurlFetcher against a real HTTP server on loopback (cpp-httplib).
#include "atelier/net/curl_fetcher.h"

#include <httplib.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "atelier/common/http_server_thread.h"
#include "atelier/common/status_matchers.h"
#include "gtest/gtest.h"

namespace atelier::net {
namespace {

class CurlFetcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // One byte, then nothing until the test ends.
    server_.Get("/stall", [this](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("application/octet-stream", [this](size_t, httplib::DataSink& sink) {
        sink.write("x", 1);
        release_.WaitForNotificationWithTimeout(absl::Seconds(20));
        sink.done();
        return true;
      });
    });
    ASSERT_OK_AND_ASSIGN(runner_, HttpServerThread::Start(server_, "127.0.0.1", 0));
  }
  void TearDown() override {
    release_.Notify();
    runner_.reset();
  }

  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(runner_->port()) + path;
  }

  // Starts `request` and returns a way to wait for its result. Not
  // FetchAndWait: its own guard answers kTimeout when a Fetcher never does,
  // which would hide the fetcher's timeout that this file tests.
  struct Pending {
    absl::Mutex mu;
    std::optional<FetchResult> result ABSL_GUARDED_BY(mu);
    // The result, or nullopt after 20 s.
    std::optional<FetchResult> Wait() {
      absl::MutexLock lock(&mu);
      mu.AwaitWithTimeout(absl::Condition(
                              +[](std::optional<FetchResult>* r) { return r->has_value(); }, &result),
                          absl::Seconds(20));
      return std::move(result);
    }
  };
  static std::shared_ptr<Pending> Fetch(CurlFetcher& fetcher, FetchRequest request) {
    auto pending = std::make_shared<Pending>();
    fetcher.Start(std::move(request), [pending](FetchResult r) {
      absl::MutexLock lock(&pending->mu);
      pending->result = std::move(r);
    });
    return pending;
  }

  httplib::Server server_;
  std::unique_ptr<HttpServerThread> runner_;
  absl::Notification release_;
};

// The whole-request timeout ends a transfer whose server stops sending.
TEST_F(CurlFetcherTest, AStalledTransferTimesOut) {
  CurlFetcherOptions options;
  options.guard = AddressGuard::AllowAll();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<CurlFetcher> fetcher, CurlFetcher::Create(std::move(options)));
  auto pending = Fetch(*fetcher, FetchRequest{Url("/stall"), absl::Milliseconds(300), 10 << 20});
  std::optional<FetchResult> result = pending->Wait();
  ASSERT_TRUE(result.has_value()) << "no result within 20 s";
  EXPECT_EQ(result->error, FetchError::kTimeout) << result->error_message;
  EXPECT_TRUE(result->body.empty());
}

}  // namespace
}  // namespace atelier::net
