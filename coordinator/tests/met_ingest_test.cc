#include "atelier/coordinator/met_ingest.h"

#include <httplib.h>

#include <atomic>
#include <map>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "atelier/common/fake_clock.h"
#include "atelier/common/http_server_thread.h"
#include "atelier/common/status_matchers.h"
#include "atelier/net/address_guard.h"
#include "atelier/net/curl_fetcher.h"
#include "atelier/net/testing/fake_fetcher.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace atelier::coordinator {
namespace {

using ::atelier::testing::StatusIs;
using ::testing::HasSubstr;

// A loopback Met API: answers /v1/search and /v1.1/search from a table of
// canned answers per `q`, counting the requests.
class FakeMetApi {
 public:
  FakeMetApi() {
    auto handler = [this](const httplib::Request& req, httplib::Response& res) ABSL_LOCKS_EXCLUDED(mu_) {
      absl::MutexLock lock(&mu_);
      const std::string q = req.get_param_value("q");
      const std::string geo = req.get_param_value("geoLocation");
      const std::string key = absl::StrCat(req.path, "|", q, "|", geo);
      const int n = hits_[key]++;
      log_.push_back(absl::StrCat(req.path, "?", q, "&", geo, "&offset=",
                                  req.get_param_value("offset")));
      if (req.path == "/gone/v1/search") {
        res.status = 410;
        res.set_content("Gone", "text/plain");
        return;
      }
      if (req.path == "/gone/v1.1/search" || req.path == "/paged/v1.1/search") {
        const int offset = std::stoi(req.get_param_value("offset"));
        const int limit = std::stoi(req.get_param_value("limit"));
        std::vector<int> ids;
        for (int i = offset; i < std::min(offset + limit, 1200); ++i) ids.push_back(100000 + i);
        res.set_content(absl::StrCat("{\"total\": 1200, \"objectIDs\": [", absl::StrJoin(ids, ","), "]}"),
                        "application/json");
        return;
      }
      if (geo == "United Kingdom" && n == 0) {  // throttled: an HTML page with 200
        res.set_content("<!DOCTYPE html><html><body>Access denied</body></html>", "text/html");
        return;
      }
      if (geo == "France" && n == 0) {  // truncated JSON
        res.set_content("{\"total\": 3, \"objectIDs\": [11, 2", "application/json");
        return;
      }
      if (geo == "United Kingdom") {
        res.set_content("{\"total\": 3, \"objectIDs\": [1, 2, 3]}", "application/json");
      } else if (geo == "France") {
        res.set_content("{\"total\": 3, \"objectIDs\": [11, 2, 12]}", "application/json");
      } else if (geo == "Nowhere") {
        res.set_content("{\"total\": 0, \"objectIDs\": null}", "application/json");
      } else if (geo == "United States") {
        res.set_content("{\"total\": 2, \"objectIDs\": [3, 21]}", "application/json");
      } else {
        res.status = 403;
        res.set_content("<html>blocked</html>", "text/html");
      }
    };
    server_.Get(R"(/.*search)", handler);
    auto runner = HttpServerThread::Start(server_, "127.0.0.1", 0);
    EXPECT_TRUE(runner.ok()) << runner.status();
    if (runner.ok()) runner_ = *std::move(runner);
  }
  ~FakeMetApi() { runner_.reset(); }
  std::string Base(const std::string& path = "/v1") const {
    return absl::StrCat("http://127.0.0.1:", runner_ ? runner_->port() : 0, path);
  }
  std::vector<std::string> log() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return log_;
  }

 private:
  httplib::Server server_;
  std::unique_ptr<HttpServerThread> runner_;
  absl::Mutex mu_;
  std::map<std::string, int> hits_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> log_ ABSL_GUARDED_BY(mu_);
};

// A real libcurl fetcher allowed to reach the loopback FakeMetApi.
std::unique_ptr<net::CurlFetcher> LoopbackFetcher() {
  net::CurlFetcherOptions options;
  options.guard = net::AddressGuard::AllowAll();
  auto fetcher = net::CurlFetcher::Create(std::move(options));
  EXPECT_TRUE(fetcher.ok()) << fetcher.status();
  return fetcher.ok() ? *std::move(fetcher) : nullptr;
}

MetSearchSpec Search(const std::string& geo, const std::string& country) {
  MetSearchSpec s;
  s.params = {{"q", "dress"}, {"geoLocation", geo}, {"hasImages", "true"}, {"dateBegin", "1830"}};
  if (!country.empty()) s.label = {{"country", country}};
  return s;
}

TEST(MetIngestTest, RetriesHtmlAndTruncatedJsonThenDedupesAndReportsConflicts) {
  FakeMetApi api;
  MetSourceSpec spec;
  spec.api = api.Base();
  spec.requests_per_second = 1;
  spec.searches = {Search("United Kingdom", "UK"), Search("France", "France"),
                   Search("Nowhere", "X"), Search("United States", "UK")};
  auto fetcher = LoopbackFetcher();
  ASSERT_NE(fetcher, nullptr);
  net::Fetcher& http = *fetcher;
  FakeClock clock;
  clock.SetAutoAdvance(true);  // backoff and pacing take no real time
  CollectingSink sink;
  ASSERT_OK_AND_ASSIGN(auto report, IngestMet(spec, "met", http, clock, sink));
  EXPECT_EQ(report.searches, 4);
  EXPECT_EQ(report.requests, 6);  // two searches needed a retry
  EXPECT_EQ(report.retries, 2);
  EXPECT_EQ(report.objects_found, 8);
  EXPECT_EQ(report.items, 6);  // 1 2 3 11 12 21
  EXPECT_EQ(report.duplicates, 2);
  ASSERT_EQ(report.conflicts.size(), 1u);  // object 2: UK vs France; object 3: UK both
  EXPECT_EQ(report.conflicts[0].object_id, 2);
  EXPECT_EQ(report.conflicts[0].first_labels.at("country"), "UK");
  EXPECT_EQ(report.conflicts[0].second_labels.at("country"), "France");
  EXPECT_THAT(report.conflicts[0].second_search, HasSubstr("geoLocation=France"));
  std::map<std::string, std::string> labels;
  for (const auto& item : sink.items) {
    EXPECT_EQ(item.source(), v1::SOURCE_KIND_MET);
    EXPECT_TRUE(item.url().empty());
    EXPECT_EQ(item.key(), absl::StrCat("met-", item.met_object_id()));
    labels[item.key()] = item.labels().at("country");
  }
  EXPECT_EQ(labels, (std::map<std::string, std::string>{{"met-1", "UK"}, {"met-2", "UK"},
                                                          {"met-3", "UK"}, {"met-11", "France"},
                                                          {"met-12", "France"}, {"met-21", "UK"}}));
  // A block page means throttling: the API is paused for throttle_backoff (a minute).
  EXPECT_GE(clock.TotalSlept(), absl::Seconds(60));
}

TEST(MetIngestTest, PersistentFailureNamesTheSearch) {
  FakeMetApi api;
  MetSourceSpec spec;
  spec.api = api.Base();
  spec.searches = {Search("United Kingdom", "UK"), Search("Atlantis", "A")};
  spec.searches[1].line = 17;
  auto fetcher = LoopbackFetcher();
  ASSERT_NE(fetcher, nullptr);
  net::Fetcher& http = *fetcher;
  FakeClock clock;
  clock.SetAutoAdvance(true);
  CollectingSink sink;
  MetIngestOptions options;
  options.max_attempts = 3;
  auto report = IngestMet(spec, "met", http, clock, sink, options);
  EXPECT_THAT(report.status(),
              StatusIs(absl::StatusCode::kUnavailable,
                       ::testing::AllOf(HasSubstr("search #2 (q=dress"), HasSubstr("Atlantis"),
                                        HasSubstr("line 17"), HasSubstr("after 3 attempts"),
                                        HasSubstr("block page"))));
}

TEST(MetIngestTest, V11PagesWithOffsetAndLimit) {
  FakeMetApi api;
  MetSourceSpec spec;
  spec.api = api.Base("/paged/v1.1");
  spec.requests_per_second = 80;
  spec.searches = {Search("Anywhere", "")};
  auto fetcher = LoopbackFetcher();
  ASSERT_NE(fetcher, nullptr);
  net::Fetcher& http = *fetcher;
  FakeClock clock;
  clock.SetAutoAdvance(true);
  CollectingSink sink;
  ASSERT_OK_AND_ASSIGN(auto report, IngestMet(spec, "met", http, clock, sink));
  EXPECT_EQ(report.requests, 3);
  EXPECT_EQ(report.items, 1200);
  EXPECT_EQ(sink.items.front().met_object_id(), 100000);
  EXPECT_EQ(sink.items.back().met_object_id(), 101199);
}

TEST(MetIngestTest, GoneV1SwitchesToV11) {
  FakeMetApi api;
  MetSourceSpec spec;
  spec.api = api.Base("/gone/v1");
  spec.searches = {Search("Anywhere", "")};
  spec.max_objects = 10;
  auto fetcher = LoopbackFetcher();
  ASSERT_NE(fetcher, nullptr);
  net::Fetcher& http = *fetcher;
  FakeClock clock;
  clock.SetAutoAdvance(true);
  CollectingSink sink;
  ASSERT_OK_AND_ASSIGN(auto report, IngestMet(spec, "met", http, clock, sink));
  EXPECT_EQ(report.items, 10);  // capped by max_objects
  EXPECT_EQ(report.objects_found, 1200);
  EXPECT_THAT(api.log().front(), HasSubstr("/gone/v1/search"));
  EXPECT_THAT(api.log().back(), HasSubstr("/gone/v1.1/search"));
}

TEST(MetIngestTest, RequestsArePacedAtTheConfiguredRate) {
  std::map<std::string, std::vector<net::testing::FakeResponse>> answers;
  MetSourceSpec spec;
  spec.api = "http://met.invalid/v1";
  spec.requests_per_second = 0.5;
  for (int i = 0; i < 4; ++i) {
    MetSearchSpec s;
    s.params = {{"q", absl::StrCat("q", i)}};
    spec.searches.push_back(s);
    answers[absl::StrCat(spec.api, "/search?q=q", i)] = {
        net::testing::Typed(200, "application/json", "{\"total\":1,\"objectIDs\":[5]}")};
  }
  FakeClock clock;
  clock.SetAutoAdvance(true);
  net::testing::FakeFetcher http(clock, net::testing::AnswersByUrl(answers));
  http.set_immediate(true);
  CollectingSink sink;
  ASSERT_OK_AND_ASSIGN(auto report, IngestMet(spec, "met", http, clock, sink));
  EXPECT_EQ(report.requests, 4);
  EXPECT_EQ(report.items, 1);
  EXPECT_EQ(clock.TotalSlept(), absl::Seconds(6));  // 3 gaps of 2 s
}

TEST(MetIngestTest, TransportErrorsAnd5xxAreRetriedOtherClientErrorsAreNot) {
  MetSourceSpec spec;
  spec.api = "http://met.invalid/v1";
  spec.requests_per_second = 80;
  MetSearchSpec s;
  s.params = {{"q", "x y"}};
  spec.searches = {s};
  const std::string url = spec.api + "/search?q=x%20y";
  FakeClock clock;
  clock.SetAutoAdvance(true);
  net::testing::FakeFetcher http(
      clock, net::testing::AnswersByUrl(
                 {{url,
                   {net::testing::Error(net::FetchError::kConnection), net::testing::Typed(503, "text/plain", "busy"),
                    net::testing::Typed(200, "application/json", "{\"total\":2,\"objectIDs\":[7,8]}")}}}));
  http.set_immediate(true);
  CollectingSink sink;
  ASSERT_OK_AND_ASSIGN(auto report, IngestMet(spec, "met", http, clock, sink));
  EXPECT_EQ(report.requests, 3);
  EXPECT_EQ(report.items, 2);

  net::testing::FakeFetcher bad(
      clock, net::testing::AnswersByUrl({{url, {net::testing::Typed(400, "application/json", "{\"message\":\"bad\"}")}}}));
  bad.set_immediate(true);
  CollectingSink sink2;
  EXPECT_THAT(IngestMet(spec, "met", bad, clock, sink2).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("HTTP 400")));
  EXPECT_EQ(bad.total_requests(), 1);
}

}  // namespace
}  // namespace atelier::coordinator
