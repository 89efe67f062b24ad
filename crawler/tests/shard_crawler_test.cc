// ShardCrawler on the fake fetcher and the fake clock: no sleeping, no network.
#include "atelier/crawler/shard_crawler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "atelier/common/fake_clock.h"
#include "atelier/common/status_matchers.h"
#include "atelier/kv/testing/memory_kv_store.h"
#include "atelier/net/testing/fake_fetcher.h"
#include "atelier/testing/temp_dir.h"
#include "test_images.h"

namespace atelier::crawler {
namespace {

using ::atelier::net::testing::Error;
using ::atelier::net::testing::FakeFetcher;
using ::atelier::net::testing::FakeResponse;
using ::atelier::net::testing::Status;

const std::string& Jpeg() {
  static const std::string* jpeg = new std::string(testing::MakeJpeg(64, 48));
  return *jpeg;
}

v1::WorkItem UrlItem(const std::string& key, const std::string& url) {
  v1::WorkItem item;
  item.set_key(key);
  item.set_source(v1::SOURCE_KIND_URLS);
  item.set_url(url);
  (*item.mutable_labels())["media"] = "oilpaint";
  return item;
}

v1::WorkItem MetItem(int64_t id) {
  v1::WorkItem item;
  item.set_key(absl::StrCat("met-", id));
  item.set_source(v1::SOURCE_KIND_MET);
  item.set_met_object_id(id);
  (*item.mutable_labels())["country"] = "France";
  return item;
}

class ShardCrawlerTest : public ::testing::Test {
 protected:
  ShardCrawlerTest() {
    config_.concurrency = 32;
    config_.retries = 3;
    config_.backoff = {absl::Seconds(1), absl::Seconds(30)};
    config_.met_api = "http://api.example/v1";
    config_.met_label_fields = {"decade"};
  }

  // Runs the crawl to the end, moving the fake clock from event to event.
  void Crawl(FakeFetcher& fetcher, const std::vector<v1::WorkItem>& items, net::HostLimits limits = {4, 10, 1},
             const std::set<std::string>& skip = {}) {
    limiter_ = std::make_unique<net::HostLimiter>(limits);
    ShardCrawler crawler(config_, fetcher, *limiter_, processor_, store_, clock_, 7);
    ASSERT_OK(crawler.Begin(3, items, skip));
    for (int steps = 0; !crawler.Done(); ++steps) {
      ASSERT_LT(steps, 100000) << "crawl does not finish";
      const absl::Time next = crawler.Step();
      if (crawler.Done()) break;
      if (fetcher.CompleteDue(clock_.Now()) > 0) continue;
      const absl::Time t = std::min(next, fetcher.NextDue());
      ASSERT_NE(t, absl::InfiniteFuture()) << "crawl is stuck";
      if (t > clock_.Now()) clock_.SetTime(t);
    }
    ASSERT_OK(crawler.error());
    results_.clear();
    for (auto& r : crawler.TakeNewResults()) results_[r.key()] = r;
  }

  const v1::ItemResult& Result(const std::string& key) { return results_[key]; }

  CrawlConfig config_;
  FakeClock clock_;
  ResizingProcessor processor_{ResizeSettings{imaging::ResizeMode::kShorterSide, 32, 90}};
  atelier::testing::TempDir spool_{"shard-crawler-spool"};
  std::unique_ptr<StateStore> store_holder_ =
      MakeKvStateStore(std::make_unique<kv::MemoryKvStore>(), (spool_ / "spool").string());
  StateStore& store_ = *store_holder_;
  std::unique_ptr<net::HostLimiter> limiter_;
  std::map<std::string, v1::ItemResult> results_;
};

TEST_F(ShardCrawlerTest, PolitenessLimitsAreNeverExceeded) {
  FakeFetcher fetcher(clock_, [](const std::string& url, int) {
    // Latencies vary so requests overlap in many ways.
    return Status(200, Jpeg(), absl::Milliseconds(100 + (url.size() * 37) % 900));
  });
  std::vector<v1::WorkItem> items;
  for (int i = 0; i < 120; ++i) {
    items.push_back(UrlItem(absl::StrCat("url-a", i), absl::StrCat("http://a.example/", i, ".jpg")));
    items.push_back(UrlItem(absl::StrCat("url-b", i), absl::StrCat("http://b.example/", i, ".jpg")));
  }
  const net::HostLimits limits{/*max_in_flight=*/3, /*requests_per_second=*/5, /*burst=*/1};
  Crawl(fetcher, items, limits);
  for (const std::string host : {"a.example", "b.example"}) {
    EXPECT_LE(fetcher.max_in_flight(host), 3) << host;
    EXPECT_EQ(fetcher.max_in_flight(host), 3) << host << " (the limit is also used)";
    const auto& starts = fetcher.starts(host);
    ASSERT_EQ(starts.size(), 120u);
    for (size_t i = 1; i < starts.size(); ++i) {
      ASSERT_GE(starts[i] - starts[i - 1], absl::Milliseconds(200)) << host << " request " << i;
    }
  }
  for (const auto& [key, r] : results_) EXPECT_EQ(r.outcome(), v1::ITEM_OUTCOME_OK) << key;
  EXPECT_EQ(results_.size(), 240u);
}

TEST_F(ShardCrawlerTest, GlobalConcurrencyCap) {
  config_.concurrency = 5;
  int in_flight = 0, max_in_flight = 0;
  FakeFetcher fetcher(clock_, [&](const std::string&, int) { return Status(200, Jpeg(), absl::Seconds(1)); });
  std::vector<v1::WorkItem> items;
  for (int i = 0; i < 40; ++i) {
    items.push_back(UrlItem(absl::StrCat("url-", i), absl::StrCat("http://h", i, ".example/x.jpg")));
  }
  limiter_ = std::make_unique<net::HostLimiter>(net::HostLimits{4, 0, 1});
  ShardCrawler crawler(config_, fetcher, *limiter_, processor_, store_, clock_);
  ASSERT_OK(crawler.Begin(1, items));
  while (!crawler.Done()) {
    const absl::Time next = crawler.Step();
    in_flight = crawler.in_flight();
    max_in_flight = std::max(max_in_flight, in_flight);
    if (fetcher.CompleteDue(clock_.Now()) > 0) continue;
    const absl::Time t = std::min(next, fetcher.NextDue());
    if (t == absl::InfiniteFuture() || t == absl::InfinitePast()) break;
    clock_.SetTime(std::max(t, clock_.Now()));
  }
  EXPECT_TRUE(crawler.Done());
  EXPECT_EQ(max_in_flight, 5);
}

TEST_F(ShardCrawlerTest, BackoffScheduleThenFailedWithReason) {
  const std::string url = "http://a.example/flaky.jpg";
  FakeFetcher fetcher(clock_, [](const std::string&, int) { return Status(500, "oops", absl::Milliseconds(10)); });
  Crawl(fetcher, {UrlItem("url-flaky", url)}, {4, 0, 1});
  const auto starts = fetcher.starts_of(url);
  ASSERT_EQ(starts.size(), 4u);  // first attempt + 3 retries
  for (size_t i = 1; i < starts.size(); ++i) {
    const absl::Duration gap = starts[i] - (starts[i - 1] + absl::Milliseconds(10));
    EXPECT_GE(gap, absl::ZeroDuration()) << "retry " << i;
    EXPECT_LE(gap, BackoffCeiling(config_.backoff, static_cast<int>(i))) << "retry " << i;
  }
  const auto& r = Result("url-flaky");
  EXPECT_EQ(r.outcome(), v1::ITEM_OUTCOME_FAILED);
  EXPECT_EQ(r.reason(), "http_500");
  EXPECT_EQ(r.attempts(), 4);
  EXPECT_EQ(r.http_status(), 500);
}

TEST_F(ShardCrawlerTest, TransientErrorsRecover) {
  FakeFetcher fetcher(clock_, [](const std::string& url, int attempt) {
    if (url.find("timeout") != std::string::npos && attempt == 1) return Error(net::FetchError::kTimeout);
    if (url.find("reset") != std::string::npos && attempt <= 2) return Error(net::FetchError::kConnection);
    if (url.find("cut") != std::string::npos && attempt == 1) return Error(net::FetchError::kTruncated);
    if (url.find("five") != std::string::npos && attempt <= 3) return Status(502);
    return Status(200, Jpeg());
  });
  Crawl(fetcher, {UrlItem("url-1", "http://a.example/timeout"), UrlItem("url-2", "http://a.example/reset"),
                  UrlItem("url-3", "http://a.example/cut"), UrlItem("url-4", "http://a.example/five")});
  EXPECT_EQ(Result("url-1").outcome(), v1::ITEM_OUTCOME_OK);
  EXPECT_EQ(Result("url-1").attempts(), 2);
  EXPECT_EQ(Result("url-2").attempts(), 3);
  EXPECT_EQ(Result("url-3").attempts(), 2);
  EXPECT_EQ(Result("url-4").outcome(), v1::ITEM_OUTCOME_OK);
  EXPECT_EQ(Result("url-4").attempts(), 4);
}

// Finding 6 of issue 13: a 429's Retry-After is the due time of that URL
// alone; the host is not frozen, its rate is lowered (AutoThrottle).
TEST_F(ShardCrawlerTest, RetryAfterIsTheUrlsOwnAndSlowsTheHost) {
  const std::string limited = "http://a.example/limited.jpg";
  FakeFetcher fetcher(clock_, [&](const std::string& url, int attempt) {
    if (url == limited && attempt == 1) {
      FakeResponse r = Status(429, "slow down", absl::Milliseconds(5));
      r.result.headers["retry-after"] = "120";
      return r;
    }
    return Status(200, Jpeg(), absl::Milliseconds(5));
  });
  std::vector<v1::WorkItem> items = {UrlItem("url-limited", limited)};
  for (int i = 0; i < 20; ++i) items.push_back(UrlItem(absl::StrCat("url-", i), absl::StrCat("http://a.example/", i)));
  // One request at a time on a.example at 10/s, so the 429 comes first.
  Crawl(fetcher, items, {1, 10, 1});
  const auto starts = fetcher.starts_of(limited);
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_GE(starts[1] - starts[0], absl::Seconds(120));
  EXPECT_EQ(Result("url-limited").outcome(), v1::ITEM_OUTCOME_OK);
  // The other a.example URLs did not wait for the Retry-After; right after
  // the 429 they went out at the lowered rate (7.5/s), not the configured
  // 10/s, and answered requests brought the rate back.
  const auto all = fetcher.starts("a.example");
  ASSERT_EQ(all.size(), 22u);
  EXPECT_LT(all[20], starts[0] + absl::Seconds(10));
  EXPECT_GE(all[2] - all[1], absl::Milliseconds(120));
  EXPECT_LT(all[20] - all[19], absl::Milliseconds(101));
}

// The 17-URL case of issue 13: every URL answers 429 + Retry-After: 2 to its
// first request. The retries are due 2 s later each and interleave with what
// is left, so the shard takes about 2x Retry-After plus the normal time, not a
// pause per 429.
TEST_F(ShardCrawlerTest, SeventeenThrottledUrlsFinishWithinTwiceRetryAfter) {
  auto run = [&](bool throttle) {
    FakeFetcher fetcher(clock_, [&](const std::string&, int attempt) {
      if (throttle && attempt == 1) {
        FakeResponse r = Status(429, "slow down", absl::Milliseconds(50));
        r.result.headers["retry-after"] = "2";
        return r;
      }
      return Status(200, Jpeg(), absl::Milliseconds(50));
    });
    std::vector<v1::WorkItem> items;
    for (int i = 0; i < 17; ++i) {
      items.push_back(UrlItem(absl::StrCat("url-", throttle, "-", i), absl::StrCat("http://cdn.example/", i, ".jpg")));
    }
    const absl::Time start = clock_.Now();
    Crawl(fetcher, items, {4, 20, 1});
    for (const auto& [key, r] : results_) EXPECT_EQ(r.outcome(), v1::ITEM_OUTCOME_OK) << key;
    return clock_.Now() - start;
  };
  const absl::Duration normal = run(false);
  clock_.SetTime(clock_.Now() + absl::Minutes(10));  // a fresh host state
  const absl::Duration throttled = run(true);
  EXPECT_LE(throttled, 2 * absl::Seconds(2) + normal) << "normal " << normal;
}

// Finding 6 of issue 13: a redirect is a request of its own, under the
// politeness of the host it goes to (20 hosts redirecting to one CDN never
// exceed the CDN's limits); a redirect loop ends after 5 hops.
TEST_F(ShardCrawlerTest, RedirectHopsCountAgainstTheTargetHost) {
  FakeFetcher fetcher(clock_, [](const std::string& url, int) {
    if (url == "http://a.example/loop") {
      FakeResponse r = Status(302, "", absl::Milliseconds(5));
      r.result.redirect_url = url;
      return r;
    }
    if (url.find("cdn.example") == std::string::npos) {
      FakeResponse r = Status(302, "", absl::Milliseconds(5));
      r.result.redirect_url = "http://cdn.example" + url.substr(url.rfind('/'));
      return r;
    }
    return Status(200, Jpeg(), absl::Milliseconds(500));  // 3 would overlap at 5/s: the cap of 2 holds
  });
  std::vector<v1::WorkItem> items;
  for (int i = 0; i < 20; ++i) {
    items.push_back(UrlItem(absl::StrCat("url-", i), absl::StrCat("http://h", i, ".example/", i, ".jpg")));
  }
  items.push_back(UrlItem("url-loop", "http://a.example/loop"));
  Crawl(fetcher, items, {2, 5, 1});
  for (int i = 0; i < 20; ++i) {
    const auto& r = Result(absl::StrCat("url-", i));
    EXPECT_EQ(r.outcome(), v1::ITEM_OUTCOME_OK) << i;
    EXPECT_EQ(r.attempts(), 2) << i;  // the redirect and the image
  }
  EXPECT_EQ(fetcher.max_in_flight("cdn.example"), 2);
  const auto& starts = fetcher.starts("cdn.example");
  ASSERT_EQ(starts.size(), 20u);
  for (size_t i = 1; i < starts.size(); ++i) EXPECT_GE(starts[i] - starts[i - 1], absl::Milliseconds(200)) << i;
  EXPECT_EQ(Result("url-loop").reason(), "too_many_redirects");
  EXPECT_EQ(fetcher.attempts("http://a.example/loop"), 6);
}

TEST_F(ShardCrawlerTest, DeadIsNeverRetried) {
  FakeFetcher fetcher(clock_, [](const std::string& url, int) {
    return Status(url.find("gone") != std::string::npos ? 410 : 404, "<html>not found</html>");
  });
  Crawl(fetcher, {UrlItem("url-missing", "http://a.example/missing.jpg"), UrlItem("url-gone", "http://a.example/gone.jpg")});
  EXPECT_EQ(fetcher.attempts("http://a.example/missing.jpg"), 1);
  EXPECT_EQ(fetcher.attempts("http://a.example/gone.jpg"), 1);
  EXPECT_EQ(Result("url-missing").outcome(), v1::ITEM_OUTCOME_DEAD);
  EXPECT_EQ(Result("url-missing").reason(), "http_404");
  EXPECT_EQ(Result("url-gone").reason(), "http_410");
  ASSERT_OK_AND_ASSIGN(auto dead, store_.ListDeadLinks());
  ASSERT_EQ(dead.size(), 2u);
  EXPECT_EQ(dead[0].key(), "url-gone");
  EXPECT_EQ(dead[0].url(), "http://a.example/gone.jpg");
  EXPECT_EQ(dead[0].http_status(), 410);
  EXPECT_EQ(dead[0].shard_id(), 3u);
}

TEST_F(ShardCrawlerTest, DecodeFailuresAreReportedNotRetried) {
  FakeFetcher fetcher(clock_, [](const std::string& url, int) {
    if (url.find("text") != std::string::npos) return Status(200, "hello, world\n");
    if (url.find("empty") != std::string::npos) return Status(200, "");
    if (url.find("trunc") != std::string::npos) return Status(200, testing::MakeTruncatedJpeg());
    if (url.find("bomb") != std::string::npos) return Status(200, testing::MakeJpegBomb());
    return Status(200, Jpeg());
  });
  Crawl(fetcher, {UrlItem("url-text", "http://a.example/text"), UrlItem("url-empty", "http://a.example/empty"),
                  UrlItem("url-trunc", "http://a.example/trunc"), UrlItem("url-bomb", "http://a.example/bomb"),
                  UrlItem("url-good", "http://a.example/good")});
  EXPECT_EQ(Result("url-text").outcome(), v1::ITEM_OUTCOME_FAILED);
  EXPECT_EQ(Result("url-text").reason(), "not_an_image");
  EXPECT_EQ(Result("url-empty").reason(), "not_an_image");
  EXPECT_EQ(Result("url-trunc").reason(), "truncated_image");
  EXPECT_EQ(Result("url-bomb").reason(), "image_too_large");
  for (const char* url : {"http://a.example/text", "http://a.example/trunc", "http://a.example/bomb"}) {
    EXPECT_EQ(fetcher.attempts(url), 1) << url;
  }
  EXPECT_EQ(Result("url-good").outcome(), v1::ITEM_OUTCOME_OK);
  ASSERT_OK_AND_ASSIGN(auto samples, store_.LoadSamples(3));
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].meta.key, "url-good");
  EXPECT_EQ(samples[0].meta.original_width, 64);
  EXPECT_EQ(samples[0].meta.original_height, 48);
  EXPECT_EQ(samples[0].meta.height, 32);  // shorter side resized to 32
  EXPECT_EQ(samples[0].meta.labels.at("media"), "oilpaint");
  EXPECT_EQ(samples[0].meta.image_format, "jpg");
}

// Finding 11 of issue 13: an image host answering 200 with an HTML page is
// throttling (the same rule as for the Met API): the host is paused and the
// image retried, not failed for good.
TEST_F(ShardCrawlerTest, ImageHostBlockPageIsThrottlingAndRetried) {
  config_.throttle_pause = absl::Seconds(60);
  const std::string blocked = "http://img.example/blocked.jpg";
  FakeFetcher fetcher(clock_, [&](const std::string& url, int attempt) {
    if (url == blocked && attempt == 1) {
      FakeResponse r = Status(200, "<!DOCTYPE html><html><body>Request blocked</body></html>");
      r.result.headers["content-type"] = "text/html; charset=utf-8";
      return r;
    }
    if (url.find("always") != std::string::npos) return Status(200, "<html><body>blocked</body></html>");
    return Status(200, Jpeg());
  });
  Crawl(fetcher, {UrlItem("url-blocked", blocked), UrlItem("url-always", "http://cdn.example/always.jpg")});
  EXPECT_EQ(Result("url-blocked").outcome(), v1::ITEM_OUTCOME_OK);
  EXPECT_EQ(Result("url-blocked").attempts(), 2);
  const auto starts = fetcher.starts_of(blocked);
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_GE(starts[1] - starts[0], absl::Seconds(60));
  // Out of retries it fails as a block page, after 1 + retries attempts.
  EXPECT_EQ(Result("url-always").outcome(), v1::ITEM_OUTCOME_FAILED);
  EXPECT_EQ(Result("url-always").reason(), "block_page");
  EXPECT_EQ(Result("url-always").attempts(), 1 + config_.retries);
}

TEST_F(ShardCrawlerTest, MetObjectsResolveToImages) {
  config_.throttle_pause = absl::Seconds(60);
  FakeFetcher fetcher(clock_, [](const std::string& url, int attempt) {
    if (url == "http://api.example/v1/objects/1") {
      return Status(200, R"({"objectID": 1, "primaryImage": "http://img.example/1a.jpg",
        "additionalImages": ["http://img.example/1b.jpg", "http://img.example/1c.jpg"],
        "title": "Dress", "objectBeginDate": 1885, "culture": "French", "isPublicDomain": true})");
    }
    if (url == "http://api.example/v1/objects/2") {
      if (attempt == 1) return Status(200, "<html><body>Access denied</body></html>");
      return Status(200, R"({"objectID": 2, "primaryImage": "http://img.example/2.jpg", "objectBeginDate": 1850})");
    }
    if (url == "http://api.example/v1/objects/3") return Status(200, R"({"objectID": 3, "primaryImage": ""})");
    if (url == "http://api.example/v1/objects/4") return Status(404, R"({"message": "Not a valid object"})");
    if (url == "http://img.example/1c.jpg") return Status(404);
    return Status(200, Jpeg());
  });
  Crawl(fetcher, {MetItem(1), MetItem(2), MetItem(3), MetItem(4)});
  const auto& one = Result("met-1");
  EXPECT_EQ(one.outcome(), v1::ITEM_OUTCOME_OK);
  EXPECT_EQ(one.samples_written(), 2);
  EXPECT_EQ(one.attempts(), 4);  // object + 3 images
  EXPECT_EQ(Result("met-2").outcome(), v1::ITEM_OUTCOME_OK);
  EXPECT_EQ(Result("met-3").outcome(), v1::ITEM_OUTCOME_DEAD);
  EXPECT_EQ(Result("met-3").reason(), "no_image");
  EXPECT_EQ(Result("met-4").outcome(), v1::ITEM_OUTCOME_DEAD);
  EXPECT_EQ(Result("met-4").reason(), "http_404");
  // The HTML answer paused the API host for a minute before the retry.
  const auto starts = fetcher.starts_of("http://api.example/v1/objects/2");
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_GE(starts[1] - starts[0], absl::Seconds(60));

  ASSERT_OK_AND_ASSIGN(auto samples, store_.LoadSamples(3));
  std::map<std::string, dataset::Sample> by_key;
  for (auto& s : samples) by_key[s.meta.key] = s;
  ASSERT_EQ(by_key.size(), 3u);  // met-1-0, met-1-1, met-2-0
  const auto& meta = by_key.at("met-1-1").meta;
  EXPECT_EQ(meta.url, "http://img.example/1b.jpg");
  EXPECT_EQ(meta.source, "met");
  EXPECT_EQ(meta.labels.at("decade"), "1880s");
  EXPECT_EQ(meta.labels.at("country"), "France");
  EXPECT_EQ(meta.extra.at("title"), "Dress");
  EXPECT_EQ(meta.extra.at("culture"), "French");
  EXPECT_EQ(meta.extra.at("isPublicDomain"), "true");
  EXPECT_EQ(by_key.at("met-2-0").meta.labels.at("decade"), "1850s");
  ASSERT_OK_AND_ASSIGN(auto dead, store_.ListDeadLinks());
  std::set<std::string> dead_keys;
  for (const auto& d : dead) dead_keys.insert(d.key());
  EXPECT_EQ(dead_keys, (std::set<std::string>{"met-1-2", "met-3", "met-4"}));
}

TEST_F(ShardCrawlerTest, FinishedItemsAreNeverFetchedAgain) {
  FakeFetcher first(clock_, [](const std::string& url, int) {
    return url.find("dead") != std::string::npos ? Status(404) : Status(200, Jpeg());
  });
  std::vector<v1::WorkItem> items = {UrlItem("url-a", "http://a.example/a"), UrlItem("url-b", "http://a.example/b"),
                                     UrlItem("url-dead", "http://a.example/dead")};
  Crawl(first, {items[0], items[2]});
  EXPECT_EQ(first.total_requests(), 2);
  // The same shard again (a restart): only url-b is fetched; skip keys are not.
  FakeFetcher second(clock_, [](const std::string&, int) { return Status(200, Jpeg()); });
  items.push_back(UrlItem("url-done-elsewhere", "http://a.example/elsewhere"));
  Crawl(second, items, {4, 10, 1}, {"url-done-elsewhere"});
  EXPECT_EQ(second.total_requests(), 1);
  EXPECT_EQ(second.attempts("http://a.example/b"), 1);
  ASSERT_OK_AND_ASSIGN(auto all, store_.ListItems(3));
  EXPECT_EQ(all.size(), 3u);
  ASSERT_OK_AND_ASSIGN(auto samples, store_.LoadSamples(3));
  EXPECT_EQ(samples.size(), 2u);
}

TEST_F(ShardCrawlerTest, TooLargeAndBadUrlsFailWithoutRetry) {
  FakeFetcher fetcher(clock_, [](const std::string& url, int) {
    if (url.find("big") != std::string::npos) return Error(net::FetchError::kTooLarge);
    return Error(net::FetchError::kTooManyRedirects);
  });
  v1::WorkItem bad = UrlItem("url-bad", "no scheme here");
  v1::WorkItem bam = UrlItem("bam-1", "https://mir-cdn.behance.net/v1/rendition/project_modules/disp/x.jpg");
  bam.set_source(v1::SOURCE_KIND_BAM);
  Crawl(fetcher, {UrlItem("url-big", "http://a.example/big"), UrlItem("url-loop", "http://a.example/loop"), bad, bam});
  EXPECT_EQ(Result("url-big").reason(), "too_large");
  EXPECT_EQ(Result("url-loop").reason(), "too_many_redirects");
  EXPECT_EQ(Result("url-bad").reason(), "bad_url");
  EXPECT_EQ(Result("bam-1").outcome(), v1::ITEM_OUTCOME_DEAD);
  EXPECT_EQ(fetcher.total_requests(), 2);
}

TEST_F(ShardCrawlerTest, RunWaitsOnTheClockAndStops) {
  // Run() with an auto-advancing fake clock: timers jump, nothing sleeps.
  clock_.SetAutoAdvance(true);
  FakeFetcher fetcher(clock_, [](const std::string&, int attempt) {
    return attempt == 1 ? Status(503) : Status(200, Jpeg());
  });
  limiter_ = std::make_unique<net::HostLimiter>(net::HostLimits{2, 1, 1});
  ShardCrawler crawler(config_, fetcher, *limiter_, processor_, store_, clock_);
  // The fake fetcher completes on CompleteDue: do it from the tick.
  std::vector<v1::WorkItem> items;
  for (int i = 0; i < 4; ++i) items.push_back(UrlItem(absl::StrCat("url-", i), absl::StrCat("http://a.example/", i)));
  ASSERT_OK(crawler.Begin(9, items));
  int ticks = 0;
  ASSERT_OK(crawler.Run([&] {
    ++ticks;
    fetcher.CompleteDue(clock_.Now());
  }, absl::Milliseconds(100)));
  EXPECT_TRUE(crawler.Done());
  EXPECT_EQ(crawler.counters().ok.load(), 4);
  EXPECT_GT(ticks, 0);

  ShardCrawler stopped(config_, fetcher, *limiter_, processor_, store_, clock_);
  ASSERT_OK(stopped.Begin(10, items));
  stopped.RequestStop();
  EXPECT_THAT(stopped.Run(), ::atelier::testing::StatusIs(absl::StatusCode::kCancelled));
}

}  // namespace
}  // namespace atelier::crawler

namespace atelier::crawler {
namespace {

// A body dropped by the fetcher to free the memory budget is fetched again;
// it is not a retry, so an item with no retries left still succeeds.
TEST_F(ShardCrawlerTest, ABodyDroppedForTheMemoryBudgetIsFetchedAgainNotRetried) {
  config_.retries = 0;
  FakeFetcher fetcher(clock_, [](const std::string&, int attempt) {
    if (attempt <= 2) return Error(net::FetchError::kOverBudget);
    return Status(200, Jpeg());
  });
  Crawl(fetcher, {UrlItem("url-a", "http://a.example/a.jpg")});
  EXPECT_EQ(Result("url-a").outcome(), v1::ITEM_OUTCOME_OK) << Result("url-a").reason();
  EXPECT_EQ(fetcher.attempts("http://a.example/a.jpg"), 3);
}

// No fetch starts while the memory budget is full; decodes wait for the
// memory their header asks for, and a canvas over max_pixels fails first.
TEST_F(ShardCrawlerTest, AFullMemoryBudgetStartsNoFetch) {
  MemoryBudget budget(1 << 20, clock_);
  config_.budget = &budget;
  FakeFetcher fetcher(clock_, [](const std::string& url, int) {
    if (url.find("bomb") != std::string::npos) return Status(200, testing::MakeJpegBomb(9000, 9000));
    return Status(200, Jpeg());
  });
  limiter_ = std::make_unique<net::HostLimiter>(net::HostLimits{4, 10, 1});
  ResizingProcessor small_limit(ResizeSettings{imaging::ResizeMode::kShorterSide, 32, 90, 1'000'000});
  ShardCrawler crawler(config_, fetcher, *limiter_, small_limit, store_, clock_, 7);
  ASSERT_OK(crawler.Begin(3, {UrlItem("url-a", "http://a.example/a.jpg"), UrlItem("url-bomb", "http://a.example/bomb")}));
  MemoryBudget::Reservation everything;
  ASSERT_TRUE(budget.TryAcquire(1 << 20, &everything));
  crawler.Step();
  EXPECT_EQ(fetcher.total_requests(), 0);
  everything.Release();
  for (int steps = 0; !crawler.Done(); ++steps) {
    ASSERT_LT(steps, 1000) << "crawl does not finish";
    crawler.Step();
    if (crawler.Done()) break;
    fetcher.CompleteDue(clock_.Now());
    clock_.Advance(absl::Milliseconds(50));
  }
  std::map<std::string, v1::ItemResult> results;
  for (auto& r : crawler.TakeNewResults()) results[r.key()] = r;
  EXPECT_EQ(results["url-a"].outcome(), v1::ITEM_OUTCOME_OK);
  EXPECT_EQ(results["url-bomb"].reason(), "image_too_large");
  EXPECT_LE(budget.high_water(), 1 << 20);
  EXPECT_EQ(budget.used(), 0);
}

}  // namespace
}  // namespace atelier::crawler
