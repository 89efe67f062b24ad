// net::CurlFetcher + ShardCrawler + ResizingProcessor + RocksDB state against a real
// HTTP server on 127.0.0.1 (TestOrigin). Real clock: only short backoffs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "absl/strings/str_cat.h"
#include "atelier/common/clock.h"
#include "atelier/common/memory_budget.h"
#include "atelier/common/status_matchers.h"
#include "atelier/net/address_guard.h"
#include "atelier/net/curl_fetcher.h"
#include "atelier/crawler/shard_crawler.h"
#include "atelier/testing/temp_dir.h"
#include "test_images.h"
#include "test_origin.h"

namespace atelier::crawler {
namespace {

using ::atelier::crawler::testing::TestOrigin;

v1::WorkItem UrlItem(const std::string& key, const std::string& url) {
  v1::WorkItem item;
  item.set_key(key);
  item.set_source(v1::SOURCE_KIND_URLS);
  item.set_url(url);
  return item;
}

class HttpIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    origin_.AddImage("a.jpg", testing::MakeJpeg(320, 200));
    origin_.AddImage("b.png", testing::MakePng(120, 90), "image/png");
    origin_.AddImage("c.webp", testing::MakeWebp(100, 140), "image/webp");
    origin_.AddImage("d-as-octets.jpg", testing::MakeJpeg(50, 50), "application/octet-stream");
    origin_.AddImage("truncated.jpg", testing::MakeTruncatedJpeg());
    origin_.AddImage("bomb.jpg", testing::MakeJpegBomb());
    origin_.AddImage("empty.jpg", "");
    config_.concurrency = 16;
    config_.processing_threads = 2;  // the worker's path: decode on a pool
    config_.retries = 2;
    config_.timeout = absl::Seconds(1);
    config_.max_bytes = 100000;
    config_.backoff = {absl::Milliseconds(20), absl::Milliseconds(100)};
    config_.met_api = origin_.Url("/api");
    config_.met_label_fields = {"decade"};
    config_.throttle_pause = absl::Milliseconds(300);
    net::CurlFetcherOptions options;
    options.guard = net::AddressGuard::AllowAll();  // the origin is on loopback
    ASSERT_OK_AND_ASSIGN(fetcher_, net::CurlFetcher::Create(std::move(options)));
    ASSERT_OK_AND_ASSIGN(store_, OpenRocksDbStateStore((dir_ / "state").string()));
  }

  std::map<std::string, v1::ItemResult> Crawl(uint64_t shard, const std::vector<v1::WorkItem>& items) {
    ShardCrawler crawler(config_, *fetcher_, limiter_, processor_, *store_, Clock::Real());
    EXPECT_OK(crawler.Begin(shard, items));
    EXPECT_OK(crawler.Run());
    std::map<std::string, v1::ItemResult> out;
    for (auto& r : crawler.TakeNewResults()) out[r.key()] = r;
    return out;
  }

  TestOrigin origin_;
  atelier::testing::TempDir dir_{"crawler-http"};
  CrawlConfig config_;
  net::HostLimiter limiter_{net::HostLimits{8, 0, 1}};
  ResizingProcessor processor_{ResizeSettings{imaging::ResizeMode::kCenterCrop, 64, 90}};
  std::unique_ptr<net::CurlFetcher> fetcher_;
  std::unique_ptr<StateStore> store_;
};

TEST_F(HttpIntegrationTest, EveryKindOfAnswer) {
  std::vector<v1::WorkItem> items = {
      UrlItem("url-jpeg", origin_.Url("/img/a.jpg")),
      UrlItem("url-png", origin_.Url("/img/b.png")),
      UrlItem("url-webp", origin_.Url("/img/c.webp")),
      UrlItem("url-octets", origin_.Url("/img/d-as-octets.jpg")),
      UrlItem("url-404", origin_.Url("/status/404")),
      UrlItem("url-410", origin_.Url("/status/410")),
      UrlItem("url-403", origin_.Url("/status/403")),
      UrlItem("url-429", origin_.Url("/limited/1")),
      UrlItem("url-500-then-200", origin_.Url("/flaky/1")),
      UrlItem("url-cut-then-200", origin_.Url("/cut/1")),
      UrlItem("url-always-500", origin_.Url("/status/500")),
      UrlItem("url-reset", origin_.ResetUrl()),
      UrlItem("url-slow", origin_.Url("/slow")),
      UrlItem("url-loop", origin_.Url("/loop")),
      UrlItem("url-html", origin_.Url("/html-as-jpeg")),
      UrlItem("url-truncated", origin_.Url("/img/truncated.jpg")),
      UrlItem("url-empty", origin_.Url("/img/empty.jpg")),
      UrlItem("url-big", origin_.Url("/big")),
      UrlItem("url-big-chunked", origin_.Url("/big-chunked")),
      UrlItem("url-bomb", origin_.Url("/img/bomb.jpg")),
      UrlItem("url-ftp", "ftp://127.0.0.1/x.jpg"),
  };
  (*items[0].mutable_extra())["project_id"] = "77";  // an ingest fact (BAM) goes into the sample's extra
  auto results = Crawl(1, items);
  ASSERT_EQ(results.size(), items.size());
  auto expect = [&](const std::string& key, v1::ItemOutcome outcome, const std::string& reason, int attempts) {
    SCOPED_TRACE(key);
    const auto& r = results[key];
    EXPECT_EQ(r.outcome(), outcome);
    EXPECT_EQ(r.reason(), reason);
    if (attempts > 0) {
      EXPECT_EQ(r.attempts(), attempts);
    }
  };
  for (const char* key : {"url-jpeg", "url-png", "url-webp", "url-octets"}) expect(key, v1::ITEM_OUTCOME_OK, "", 1);
  expect("url-404", v1::ITEM_OUTCOME_DEAD, "http_404", 1);
  expect("url-410", v1::ITEM_OUTCOME_DEAD, "http_410", 1);
  expect("url-403", v1::ITEM_OUTCOME_FAILED, "http_403", 1);
  expect("url-429", v1::ITEM_OUTCOME_OK, "", 2);
  expect("url-500-then-200", v1::ITEM_OUTCOME_OK, "", 2);
  expect("url-cut-then-200", v1::ITEM_OUTCOME_OK, "", 2);
  expect("url-always-500", v1::ITEM_OUTCOME_FAILED, "http_500", 3);
  expect("url-reset", v1::ITEM_OUTCOME_FAILED, "connection", 3);
  expect("url-slow", v1::ITEM_OUTCOME_FAILED, "timeout", 3);
  expect("url-loop", v1::ITEM_OUTCOME_FAILED, "too_many_redirects", 6);  // 1 + 5 hops, each a request
  // A block page where an image was expected: throttling, retried after a pause.
  expect("url-html", v1::ITEM_OUTCOME_FAILED, "block_page", 3);
  expect("url-truncated", v1::ITEM_OUTCOME_FAILED, "truncated_image", 1);
  expect("url-empty", v1::ITEM_OUTCOME_FAILED, "not_an_image", 1);
  expect("url-big", v1::ITEM_OUTCOME_FAILED, "too_large", 1);
  expect("url-big-chunked", v1::ITEM_OUTCOME_FAILED, "too_large", 1);
  expect("url-bomb", v1::ITEM_OUTCOME_FAILED, "image_too_large", 1);
  expect("url-ftp", v1::ITEM_OUTCOME_FAILED, "bad_url", 1);

  // Server-side counts agree: dead links once, redirects capped at 5 (+1).
  EXPECT_EQ(origin_.Requests("/status/404"), 1);
  EXPECT_EQ(origin_.Requests("/status/410"), 1);
  EXPECT_EQ(origin_.Requests("/limited/1"), 2);
  EXPECT_EQ(origin_.Requests("/status/500"), 3);
  EXPECT_EQ(origin_.Requests("/reset"), 3);
  EXPECT_EQ(origin_.Requests("/loop"), 6);

  ASSERT_OK_AND_ASSIGN(auto samples, store_->LoadSamples(1));
  std::map<std::string, dataset::Sample> by_key;
  for (auto& s : samples) by_key[s.meta.key] = s;
  ASSERT_EQ(by_key.size(), 7u);
  const auto& jpeg = by_key.at("url-jpeg").meta;
  EXPECT_EQ(jpeg.original_width, 320);
  EXPECT_EQ(jpeg.original_height, 200);
  EXPECT_EQ(jpeg.width, 64);
  EXPECT_EQ(jpeg.height, 64);
  EXPECT_EQ(jpeg.extra.at("project_id"), "77");
  EXPECT_EQ(by_key.at("url-webp").meta.original_height, 140);
  EXPECT_EQ(by_key.at("url-png").meta.original_width, 120);
  ASSERT_OK_AND_ASSIGN(auto dead, store_->ListDeadLinks());
  EXPECT_EQ(dead.size(), 2u);
}

TEST_F(HttpIntegrationTest, MetReplicaWithHtmlFirst) {
  const std::string img = origin_.Url("/img/a.jpg");
  origin_.AddMetObject(10, absl::StrCat(R"({"objectID": 10, "primaryImage": ")", img,
                                        R"(", "additionalImages": [")", origin_.Url("/img/b.png"),
                                        R"("], "title": "Day dress", "objectBeginDate": 1872, "country": "United States"})"));
  origin_.AddMetObject(11, absl::StrCat(R"({"objectID": 11, "primaryImage": ")", img, R"(", "objectBeginDate": 1891})"),
                       /*html_first=*/true);
  origin_.AddMetObject(12, R"({"objectID": 12, "primaryImage": "", "additionalImages": []})");
  std::vector<v1::WorkItem> items;
  for (int64_t id : {10, 11, 12, 13}) {
    v1::WorkItem item;
    item.set_key(absl::StrCat("met-", id));
    item.set_source(v1::SOURCE_KIND_MET);
    item.set_met_object_id(id);
    (*item.mutable_labels())["country"] = "United States";
    items.push_back(item);
  }
  auto results = Crawl(2, items);
  EXPECT_EQ(results["met-10"].outcome(), v1::ITEM_OUTCOME_OK);
  EXPECT_EQ(results["met-10"].samples_written(), 2);
  EXPECT_EQ(results["met-11"].outcome(), v1::ITEM_OUTCOME_OK);
  EXPECT_EQ(origin_.Requests("/api/objects/11"), 2);  // HTML, then JSON after the pause
  EXPECT_EQ(results["met-12"].outcome(), v1::ITEM_OUTCOME_DEAD);
  EXPECT_EQ(results["met-12"].reason(), "no_image");
  EXPECT_EQ(results["met-13"].outcome(), v1::ITEM_OUTCOME_DEAD);
  EXPECT_EQ(results["met-13"].reason(), "http_404");
  ASSERT_OK_AND_ASSIGN(auto samples, store_->LoadSamples(2));
  std::map<std::string, dataset::Sample> by_key;
  for (auto& s : samples) by_key[s.meta.key] = s;
  ASSERT_EQ(by_key.size(), 3u);
  EXPECT_EQ(by_key.at("met-10-1").meta.url, origin_.Url("/img/b.png"));
  EXPECT_EQ(by_key.at("met-10-0").meta.labels.at("decade"), "1870s");
  EXPECT_EQ(by_key.at("met-10-0").meta.extra.at("title"), "Day dress");
  EXPECT_EQ(by_key.at("met-11-0").meta.labels.at("decade"), "1890s");
}

TEST_F(HttpIntegrationTest, RestartedCrawlDoesNotRefetch) {
  std::vector<v1::WorkItem> items;
  for (int i = 0; i < 30; ++i) items.push_back(UrlItem(absl::StrCat("url-", i), origin_.Url(absl::StrCat("/flaky/r", i))));
  items.push_back(UrlItem("url-dead", origin_.Url("/status/404")));
  Crawl(5, items);
  const int before = origin_.TotalRequests();
  EXPECT_EQ(before, 61);  // 500 + 200 each, plus the dead link
  // Reopen the state (as a restarted worker would) and crawl the same shard.
  store_.reset();
  ASSERT_OK_AND_ASSIGN(store_, OpenRocksDbStateStore((dir_ / "state").string()));
  auto again = Crawl(5, items);
  EXPECT_TRUE(again.empty());
  EXPECT_EQ(origin_.TotalRequests(), before);
}

// Finding 8 of issue 13: the SSRF guard, on by default, checks the resolved
// address of every hop at connect time.
TEST_F(HttpIntegrationTest, GuardRefusesLoopbackByDefaultAndOnEveryRedirectHop) {
  TestOrigin second("127.0.0.2");  // another loopback address and port
  second.AddImage("a.jpg", testing::MakeJpeg(40, 30));
  const std::string redirect = origin_.Url("/redirect?to=" + second.Url("/img/a.jpg"));

  ASSERT_OK_AND_ASSIGN(fetcher_, net::CurlFetcher::Create());  // the default guard
  auto direct = Crawl(11, {UrlItem("url-direct", origin_.Url("/img/a.jpg"))});
  EXPECT_EQ(direct["url-direct"].outcome(), v1::ITEM_OUTCOME_FAILED);
  EXPECT_EQ(direct["url-direct"].reason(), "blocked_address");
  EXPECT_EQ(origin_.TotalRequests(), 0);

  net::CurlFetcherOptions only_first;
  ASSERT_OK_AND_ASSIGN(only_first.guard, net::AddressGuard::Create(false, {"127.0.0.1/32"}));
  ASSERT_OK_AND_ASSIGN(fetcher_, net::CurlFetcher::Create(std::move(only_first)));
  auto hop = Crawl(12, {UrlItem("url-hop", redirect)});
  EXPECT_EQ(hop["url-hop"].outcome(), v1::ITEM_OUTCOME_FAILED);
  EXPECT_EQ(hop["url-hop"].reason(), "blocked_address");
  EXPECT_EQ(origin_.Requests("/redirect"), 1);
  EXPECT_EQ(second.TotalRequests(), 0);

  // Turned off, the same redirect is followed (the target is really there).
  net::CurlFetcherOptions open;
  open.guard = net::AddressGuard::AllowAll();
  ASSERT_OK_AND_ASSIGN(fetcher_, net::CurlFetcher::Create(std::move(open)));
  auto followed = Crawl(13, {UrlItem("url-followed", redirect)});
  EXPECT_EQ(followed["url-followed"].outcome(), v1::ITEM_OUTCOME_OK);
  EXPECT_EQ(second.Requests("/img/a.jpg"), 1);
}

TEST(AddressGuardTest, AllowListParsesAndJudges) {
  EXPECT_THAT(net::AddressGuard::Create(false, {"10.0.0.0/33"}).status(),
              atelier::testing::StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("10.0.0.0/33")));
  EXPECT_FALSE(net::AddressGuard::Create(false, {"nonsense"}).ok());
  ASSERT_OK_AND_ASSIGN(net::AddressGuard guard, net::AddressGuard::Create(false, {"10.1.0.0/16", "::1/128"}));
  auto v4 = [&](const char* text) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, text, &a.sin_addr);
    return guard.Allows(reinterpret_cast<const sockaddr*>(&a));
  };
  auto v6 = [&](const char* text) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    inet_pton(AF_INET6, text, &a.sin6_addr);
    return guard.Allows(reinterpret_cast<const sockaddr*>(&a));
  };
  EXPECT_TRUE(v4("10.1.2.3"));
  EXPECT_FALSE(v4("10.2.0.1"));
  EXPECT_FALSE(v4("127.0.0.1"));
  EXPECT_FALSE(v4("169.254.169.254"));
  EXPECT_FALSE(v4("172.16.0.1"));
  EXPECT_FALSE(v4("192.168.1.1"));
  EXPECT_FALSE(v4("0.0.0.0"));
  EXPECT_TRUE(v4("93.184.216.34"));
  EXPECT_TRUE(v4("172.32.0.1"));
  EXPECT_TRUE(v6("::1"));
  EXPECT_FALSE(v6("::"));
  EXPECT_FALSE(v6("fe80::1"));
  EXPECT_FALSE(v6("fd00::1"));
  EXPECT_FALSE(v6("::ffff:127.0.0.1"));
  EXPECT_TRUE(v6("2606:4700::1111"));
}


// The crawler's memory budget: endless chunked bodies and gzip bombs fetched
// at the same time as good images. The good images are stored, the hostile
// bodies fail too_large, and the bytes held by bodies and decodes never
// exceeded the budget (its high-water mark). Peak RSS is measured by
// bench/crawler/hostile_memory_bench.sh, not here.
TEST(MemoryBudgetCrawlTest, HostileBodiesAndGoodImagesStayWithinTheBudget) {
  constexpr int64_t kBudget = int64_t{8} << 20;
  TestOrigin origin;
  origin.AddImage("a.jpg", testing::MakeJpeg(320, 200));
  origin.AddImage("big.png", testing::MakePng(1000, 800), "image/png");
  origin.AddImage("c.webp", testing::MakeWebp(100, 140), "image/webp");
  MemoryBudget budget(kBudget, Clock::Real());
  net::CurlFetcherOptions options;
  options.guard = net::AddressGuard::AllowAll();  // the origin is on loopback
  options.budget = &budget;
  options.stall_abort_after = absl::Milliseconds(100);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<net::CurlFetcher> fetcher, net::CurlFetcher::Create(std::move(options)));
  atelier::testing::TempDir dir{"crawler-budget"};
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<StateStore> store, OpenRocksDbStateStore((dir / "state").string()));
  CrawlConfig config;
  config.concurrency = 16;
  config.processing_threads = 2;
  config.retries = 2;
  config.timeout = absl::Seconds(30);
  config.max_bytes = 3'000'000;
  config.backoff = {absl::Milliseconds(20), absl::Milliseconds(100)};
  config.budget = &budget;
  net::HostLimiter limiter(net::HostLimits{16, 0, 1});
  ResizingProcessor processor(ResizeSettings{imaging::ResizeMode::kCenterCrop, 64, 90});

  std::vector<v1::WorkItem> items;
  std::vector<std::string> good, hostile;
  for (int i = 0; i < 4; ++i) {
    items.push_back(UrlItem(absl::StrCat("url-endless-", i), origin.Url(absl::StrCat("/endless/", i))));
    hostile.push_back(items.back().key());
    items.push_back(UrlItem(absl::StrCat("url-gzip-bomb-", i), origin.Url(absl::StrCat("/gzip-bomb/", i))));
    hostile.push_back(items.back().key());
  }
  for (int i = 0; i < 12; ++i) {
    const char* name = i % 3 == 0 ? "a.jpg" : i % 3 == 1 ? "big.png" : "c.webp";
    items.push_back(UrlItem(absl::StrCat("url-good-", i), origin.Url(absl::StrCat("/img/", name, "?n=", i))));
    good.push_back(items.back().key());
  }
  std::map<std::string, v1::ItemResult> results;
  {
    ShardCrawler crawler(config, *fetcher, limiter, processor, *store, Clock::Real());
    ASSERT_OK(crawler.Begin(1, items));
    ASSERT_OK(crawler.Run());
    for (auto& r : crawler.TakeNewResults()) results[r.key()] = r;
  }
  ASSERT_EQ(results.size(), items.size());
  for (const std::string& key : good) {
    EXPECT_EQ(results[key].outcome(), v1::ITEM_OUTCOME_OK) << key << ": " << results[key].reason();
  }
  for (const std::string& key : hostile) {
    EXPECT_EQ(results[key].outcome(), v1::ITEM_OUTCOME_FAILED) << key;
    EXPECT_EQ(results[key].reason(), "too_large") << key;
  }
  ASSERT_OK_AND_ASSIGN(auto samples, store->LoadSamples(1));
  EXPECT_EQ(samples.size(), good.size());
  EXPECT_LE(budget.high_water(), kBudget);
  EXPECT_GT(budget.high_water(), config.max_bytes);  // the bodies were counted
  fetcher.reset();
  EXPECT_EQ(budget.used(), 0);
}

}  // namespace
}  // namespace atelier::crawler
