// ShardCrawler: crawls the items of one leased shard to their final outcome.
//
// Drives a net::Fetcher under the worker's net::HostLimiter (politeness), classifies
// every attempt (outcome.h), retries with backoff + full jitter or Retry-After,
// follows redirects as requests of their own (politeness counts the host of
// every hop), resolves Met objects into their images, validates/resizes every image through
// the ImageProcessor, and writes each item to the StateStore the moment it is
// final (with its samples and dead links). Items already final in the store are
// never fetched again.
//
// Two ways to drive it: Step() (single-threaded, for tests with a FakeClock and
// a fake fetcher), or Run() which loops Step() and waits on the Clock for the
// next completion or timer. RequestStop() may be called from any thread; every
// other method belongs to the thread that drives the crawler. Fetch callbacks
// only touch a shared inbox, so the crawler may be destroyed while requests are
// still in flight (their results are then dropped).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "atelier/common/backoff.h"
#include "atelier/common/clock.h"
#include "atelier/common/memory_budget.h"
#include "atelier/crawler/image_processor.h"
#include "atelier/crawler/met_object.h"
#include "atelier/crawler/state_store.h"
#include "atelier/net/fetch_outcome.h"
#include "atelier/net/fetcher.h"
#include "atelier/net/host_limiter.h"
#include "atelier/v1/common.pb.h"

namespace atelier::crawler {

struct CrawlConfig {
  int concurrency = 64;  // fetches in flight for this crawler
  int retries = 4;       // retries after the first attempt, per URL
  absl::Duration timeout = absl::Seconds(30);
  int64_t max_bytes = 50'000'000;
  int max_redirects = 5;  // hops followed per request; more: "too_many_redirects"
  std::string met_api = "https://collectionapi.metmuseum.org/public/collection/v1";
  std::vector<std::string> met_label_fields;
  BackoffPolicy backoff;
  // How long a host is left alone after a throttling answer without
  // Retry-After (net::IsThrottleAnswer: a block page from the Met API or an image host).
  absl::Duration throttle_pause = absl::Seconds(60);
  // Retry-After values above this are clamped (a server asking for a day).
  absl::Duration max_retry_after = absl::Minutes(10);
  // Threads that decode/resize/encode fetched images. 0: on the thread that
  // drives the crawler (deterministic; unit tests). A body being processed
  // counts against `concurrency`, which bounds the memory held.
  int processing_threads = 0;
  // The crawler-wide memory budget (docs/crawler.md): each image waits for
  // the memory its decode needs (ImageProcessor::MemoryNeeded) before it is
  // decoded, and no fetch starts while the budget is full (the fetcher counts
  // the bodies in it). Null: not counted. Must outlive the crawler.
  MemoryBudget* budget = nullptr;
};

// Live counters of the current shard (read from any thread).
struct CrawlCounters {
  std::atomic<int64_t> done{0}, ok{0}, dead{0}, failed{0}, samples{0}, bytes{0}, fetches{0};
  std::atomic<int64_t> fetch_us{0};  // time in HTTP requests, summed over requests
};

class ShardCrawler {
 public:
  ShardCrawler(CrawlConfig config, net::Fetcher& fetcher, net::HostLimiter& limiter, const ImageProcessor& processor,
               StateStore& store, Clock& clock, uint64_t seed = 0x5eed);
  ~ShardCrawler();
  ShardCrawler(const ShardCrawler&) = delete;
  ShardCrawler& operator=(const ShardCrawler&) = delete;

  // Loads the shard. Items final in the store are kept as they are; keys in
  // `skip_keys` (final at the coordinator from an earlier attempt) are not
  // crawled and get no result here. Call once.
  absl::Status Begin(uint64_t shard_id, const std::vector<v1::WorkItem>& items,
                     const std::set<std::string>& skip_keys = {});

  // Handles finished fetches and starts what politeness allows. Returns the
  // time of the next timer (backoff, rate limit), InfiniteFuture when only a
  // fetch completion can make progress, or InfinitePast when Done().
  absl::Time Step();
  bool Done() const;
  // Loops Step() until Done() (OK), RequestStop() (Cancelled) or a store error.
  // `on_tick` runs on this thread at least every `tick` (progress, heartbeats).
  absl::Status Run(const std::function<void()>& on_tick = nullptr, absl::Duration tick = absl::Seconds(1));
  void RequestStop();

  // Results finished since the previous call (for ReportProgress).
  std::vector<v1::ItemResult> TakeNewResults();
  const CrawlCounters& counters() const { return counters_; }
  uint64_t shard_id() const { return shard_id_; }
  int in_flight() const { return in_flight_; }
  // A store error seen while recording an item (Step keeps it; Run returns it).
  const absl::Status& error() const { return error_; }

 private:
  struct Slot;
  struct Item;
  struct Task {
    int item = 0;
    int slot = -1;  // -1: the Met object request
    std::string url;
    std::string host;
    int tries = 0;  // attempts made for this URL
    int hops = 0;   // redirects followed to reach `url`
    absl::Time started;  // when the current request was started
  };
  struct Inbox;
  struct Pool;

  void Launch(Task task);
  void HandleCompletion(Task task, net::FetchResult result);
  // A 3xx with a target: schedules the next hop (its own host's politeness)
  // and returns true; marks `result` too_many_redirects / bad_url instead
  // when it cannot be followed.
  bool FollowRedirect(const Task& task, net::FetchResult& result, absl::Time now);
  void HandleMetObject(Task& task, Item& item, const net::FetchResult& result, absl::Time now);
  void HandleImage(Task& task, Item& item, net::FetchResult& result, absl::Time now);
  void ApplyProcessed(const Task& task, ProcessOutcome outcome);
  // A block page (net::IsThrottleAnswer): pauses the host and sets c.not_before.
  void Throttled(const Task& task, net::Classification& c, absl::Time now);
  // Schedules a retry of `task` or, when out of retries, returns false.
  bool Retry(Task& task, const net::Classification& c, absl::Time now);
  void SlotDone(Item& item, int slot);
  void FinishItem(Item& item, v1::ItemOutcome outcome, const std::string& reason);
  void Schedule(Task task, absl::Time at);

  const CrawlConfig config_;
  net::Fetcher& fetcher_;
  net::HostLimiter& limiter_;
  const ImageProcessor& processor_;
  StateStore& store_;
  Clock& clock_;
  std::mt19937_64 rng_;
  std::shared_ptr<Inbox> inbox_;
  std::unique_ptr<Pool> pool_;  // null when processing_threads == 0

  uint64_t shard_id_ = 0;
  std::vector<Item> items_;
  int remaining_ = 0;  // items not final
  int in_flight_ = 0;
  uint64_t sequence_ = 0;
  // (not before, sequence) -> task. Requests with a due time of their own
  // (retries, a Met object's images) go before untried URLs once due.
  using Queue = std::map<std::pair<absl::Time, uint64_t>, Task>;
  Queue timed_, fresh_;
  // Starts what politeness allows from `queue`; false when the concurrency cap is reached.
  bool LaunchFrom(Queue& queue, absl::Time now, std::unordered_map<std::string, absl::Time>& blocked,
                  absl::Time& next);
  std::multiset<std::string> in_flight_hosts_;  // host slots to give back if destroyed early
  std::vector<v1::ItemResult> new_results_;
  CrawlCounters counters_;
  absl::Status error_;
};

}  // namespace atelier::crawler
