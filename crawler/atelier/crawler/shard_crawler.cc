#include "atelier/crawler/shard_crawler.h"

#include <algorithm>
#include <thread>
#include <unordered_map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "atelier/crawler/disk_fault.h"
#include "atelier/net/throttle_answer.h"
#include "atelier/dataset/sample_key.h"
#include "atelier/dataset/sha256.h"

namespace atelier::crawler {

struct ShardCrawler::Slot {
  std::string key;
  std::string url;
  enum class State { kWaiting, kOk, kDead, kFailed } state = State::kWaiting;
  std::string reason;
  int http_status = 0;
  std::optional<dataset::Sample> sample;
};

struct ShardCrawler::Item {
  v1::WorkItem work;
  bool final = false;
  int attempts = 0;
  int64_t bytes = 0;
  int last_http = 0;
  std::string result_url;  // the URL the outcome refers to
  std::vector<Slot> slots;
  int open_slots = 0;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> extra;
};

// Where fetch callbacks and processing threads hand results to the crawl
// loop; changing it under `mu` wakes Run()'s wait.
struct ShardCrawler::Inbox {
  absl::Mutex mu;
  std::deque<std::pair<Task, net::FetchResult>> done ABSL_GUARDED_BY(mu);
  std::deque<std::pair<Task, ProcessOutcome>> processed ABSL_GUARDED_BY(mu);
  bool stop ABSL_GUARDED_BY(mu) = false;
};

struct ShardCrawler::Pool {
  explicit Pool(int n) {
    for (int i = 0; i < n; ++i) threads.emplace_back([this] { Loop(); });
  }
  ~Pool() {
    {
      absl::MutexLock l(&mu);
      stop = true;
    }
    for (auto& t : threads) t.join();
  }
  void Submit(std::function<void()> job) ABSL_LOCKS_EXCLUDED(mu) {
    absl::MutexLock l(&mu);
    jobs.push_back(std::move(job));
  }
  void Loop() ABSL_LOCKS_EXCLUDED(mu) {
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return stop || !jobs.empty(); };
    while (true) {
      std::function<void()> job;
      {
        absl::MutexLock l(&mu, absl::Condition(&ready));
        if (stop) return;  // pending jobs are dropped: the crawler is going away
        job = std::move(jobs.front());
        jobs.pop_front();
      }
      job();
    }
  }
  absl::Mutex mu;
  std::deque<std::function<void()>> jobs ABSL_GUARDED_BY(mu);
  bool stop ABSL_GUARDED_BY(mu) = false;
  std::vector<std::thread> threads;
};

namespace {

// Waits for the memory `body`'s decode needs, then processes it. Waits in
// steps of a second so that a stop is seen. A wait ends: the fetcher pauses
// bodies while a decode waits and drops one when all are stuck, and
// MemoryBudget grants a decode once only parked bodies are left.
ProcessOutcome ProcessWithin(const ImageProcessor& processor, MemoryBudget* budget, Clock& clock,
                             absl::string_view body, const std::function<bool()>& stopping) {
  if (budget == nullptr) return processor.Process(body);
  absl::StatusOr<int64_t> needed = processor.MemoryNeeded(body);
  if (!needed.ok()) return FailedOutcome(needed.status());
  while (true) {
    absl::StatusOr<MemoryBudget::Reservation> memory = budget->Acquire(*needed, clock.Now() + absl::Seconds(1));
    if (memory.ok()) return processor.Process(body);
    if (stopping()) {
      ProcessOutcome out;
      out.reason = "cancelled";
      return out;
    }
  }
}

std::string SourceName(v1::SourceKind kind) {
  switch (kind) {
    case v1::SOURCE_KIND_BAM: return "bam";
    case v1::SOURCE_KIND_MET: return "met";
    default: return "url";
  }
}

// BAM rows whose src is a `mir-cdn` rendition URL have no image (DESIGN.md).
bool IsDeadBamRendition(const v1::WorkItem& item) {
  return item.source() == v1::SOURCE_KIND_BAM && absl::StrContains(item.url(), "mir-cdn.behance.net/v1/rendition/");
}

}  // namespace

ShardCrawler::ShardCrawler(CrawlConfig config, net::Fetcher& fetcher, net::HostLimiter& limiter,
                           const ImageProcessor& processor, StateStore& store, Clock& clock, uint64_t seed)
    : config_(std::move(config)),
      fetcher_(fetcher),
      limiter_(limiter),
      processor_(processor),
      store_(store),
      clock_(clock),
      rng_(seed),
      inbox_(std::make_shared<Inbox>()) {
  if (config_.processing_threads > 0) pool_ = std::make_unique<Pool>(config_.processing_threads);
}

ShardCrawler::~ShardCrawler() {
  pool_.reset();  // joins the processing threads before anything they use goes away
  // Requests still in flight finish into the orphaned inbox; give their
  // politeness slots back so later shards are not starved.
  for (const std::string& host : in_flight_hosts_) limiter_.Release(host);
}

absl::Status ShardCrawler::Begin(uint64_t shard_id, const std::vector<v1::WorkItem>& items,
                                 const std::set<std::string>& skip_keys) {
  shard_id_ = shard_id;
  items_.resize(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    Item& item = items_[i];
    item.work = items[i];
    auto existing = store_.GetItem(shard_id, item.work.key());
    if (!existing.ok()) return existing.status();
    if (existing->has_value()) {
      const v1::ItemResult& r = **existing;
      item.final = true;
      ++counters_.done;
      if (r.outcome() == v1::ITEM_OUTCOME_OK) ++counters_.ok;
      if (r.outcome() == v1::ITEM_OUTCOME_DEAD) ++counters_.dead;
      if (r.outcome() == v1::ITEM_OUTCOME_FAILED) ++counters_.failed;
      counters_.samples += r.samples_written();
      continue;
    }
    if (skip_keys.count(item.work.key()) > 0) {
      item.final = true;
      continue;
    }
    ++remaining_;
    for (const auto& [head, value] : item.work.labels()) item.labels[head] = value;
    for (const auto& [field, value] : item.work.extra()) item.extra[field] = value;
    Task task;
    task.item = static_cast<int>(i);
    if (item.work.source() == v1::SOURCE_KIND_MET) {
      task.url = MetObjectUrl(config_.met_api, item.work.met_object_id());
      item.result_url = task.url;
    } else {
      item.result_url = item.work.url();
      if (IsDeadBamRendition(item.work)) {
        FinishItem(item, v1::ITEM_OUTCOME_DEAD, "dead_rendition_url");
        continue;
      }
      Slot slot;
      slot.key = item.work.key();
      slot.url = item.work.url();
      item.slots.push_back(std::move(slot));
      item.open_slots = 1;
      task.slot = 0;
      task.url = item.work.url();
    }
    task.host = net::HostOfUrl(task.url);
    if (task.host.empty()) {
      FinishItem(item, v1::ITEM_OUTCOME_FAILED, "bad_url");
      continue;
    }
    Schedule(std::move(task), absl::InfinitePast());
  }
  return error_;
}

void ShardCrawler::Schedule(Task task, absl::Time at) {
  (at == absl::InfinitePast() ? fresh_ : timed_).emplace(std::make_pair(at, sequence_++), std::move(task));
}

bool ShardCrawler::Done() const { return remaining_ == 0; }

void ShardCrawler::RequestStop() {
  absl::MutexLock l(&inbox_->mu);
  inbox_->stop = true;
}

std::vector<v1::ItemResult> ShardCrawler::TakeNewResults() {
  std::vector<v1::ItemResult> out;
  out.swap(new_results_);
  return out;
}

void ShardCrawler::Launch(Task task) {
  ++in_flight_;
  ++counters_.fetches;
  in_flight_hosts_.insert(task.host);
  task.started = clock_.Now();
  net::FetchRequest request;
  request.url = task.url;
  request.timeout = config_.timeout;
  request.max_bytes = config_.max_bytes;
  fetcher_.Start(std::move(request), [inbox = inbox_, task](net::FetchResult result) {
    absl::MutexLock l(&inbox->mu);
    inbox->done.emplace_back(task, std::move(result));
  });
}

absl::Time ShardCrawler::Step() {
  if (Done()) return absl::InfinitePast();
  std::deque<std::pair<Task, net::FetchResult>> done;
  std::deque<std::pair<Task, ProcessOutcome>> processed;
  {
    absl::MutexLock l(&inbox_->mu);
    done.swap(inbox_->done);
    processed.swap(inbox_->processed);
  }
  for (auto& [task, outcome] : processed) {
    --in_flight_;
    ApplyProcessed(task, std::move(outcome));
  }
  for (auto& [task, result] : done) HandleCompletion(std::move(task), std::move(result));
  if (Done()) return absl::InfinitePast();

  const absl::Time now = clock_.Now();
  absl::Time next = absl::InfiniteFuture();
  std::unordered_map<std::string, absl::Time> blocked;  // hosts that said no in this step
  if (LaunchFrom(timed_, now, blocked, next)) LaunchFrom(fresh_, now, blocked, next);
  return next;
}

bool ShardCrawler::LaunchFrom(Queue& queue, absl::Time now, std::unordered_map<std::string, absl::Time>& blocked,
                              absl::Time& next) {
  for (auto it = queue.begin(); it != queue.end();) {
    if (it->first.first > now) {
      next = std::min(next, it->first.first);
      break;
    }
    if (in_flight_ >= config_.concurrency) return false;  // a completion will wake us
    // Bodies and decodes fill the memory budget: a completion will wake us.
    if (config_.budget != nullptr && config_.budget->used() >= config_.budget->limit()) return false;
    const std::string& host = it->second.host;
    if (blocked.count(host) > 0) {
      ++it;
      continue;
    }
    absl::Time retry_at;
    if (!limiter_.TryAcquire(host, now, &retry_at)) {
      blocked[host] = retry_at;
      next = std::min(next, retry_at);
      ++it;
      continue;
    }
    Task task = std::move(it->second);
    it = queue.erase(it);
    Launch(std::move(task));
  }
  return true;
}

absl::Status ShardCrawler::Run(const std::function<void()>& on_tick, absl::Duration tick) {
  absl::Time next_tick = clock_.Now();
  while (!Done()) {
    {
      absl::MutexLock l(&inbox_->mu);
      if (inbox_->stop) return absl::CancelledError("crawl stopped");
    }
    const absl::Time next = Step();
    if (!error_.ok()) return error_;
    if (Done()) break;
    const absl::Time now = clock_.Now();
    if (on_tick && now >= next_tick) {
      on_tick();
      next_tick = now + tick;
    }
    const absl::Time wake = on_tick ? std::min(next, next_tick) : next;
    Inbox& inbox = *inbox_;
    absl::MutexLock l(&inbox.mu);
    clock_.WaitUntil(inbox.mu, wake, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(inbox.mu) {
      return !inbox.done.empty() || !inbox.processed.empty() || inbox.stop;
    });
  }
  return error_;
}

void ShardCrawler::HandleCompletion(Task task, net::FetchResult result) {
  --in_flight_;
  limiter_.Release(task.host);
  if (auto it = in_flight_hosts_.find(task.host); it != in_flight_hosts_.end()) in_flight_hosts_.erase(it);
  if (result.error == net::FetchError::kNone && result.http_status >= 200 && result.http_status < 300) {
    limiter_.Succeeded(task.host);
  }
  Item& item = items_[task.item];
  if (item.final) return;
  ++item.attempts;
  item.bytes += result.bytes;
  counters_.bytes += result.bytes;
  item.last_http = result.http_status;
  const absl::Time now = clock_.Now();
  counters_.fetch_us += absl::ToInt64Microseconds(now - task.started);
  if (result.error == net::FetchError::kOverBudget) {
    // Dropped to free memory for other bodies: fetch it again (soon, not
    // spinning while the budget is full); not a retry.
    Schedule(std::move(task), now + absl::Milliseconds(100));
    return;
  }
  if (FollowRedirect(task, result, now)) return;
  ++task.tries;
  if (task.slot < 0) {
    HandleMetObject(task, item, result, now);
  } else {
    HandleImage(task, item, result, now);
  }
}

bool ShardCrawler::FollowRedirect(const Task& task, net::FetchResult& result, absl::Time now) {
  const int status = result.http_status;
  const bool redirect = status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
  if (result.error != net::FetchError::kNone || !redirect || result.redirect_url.empty()) return false;
  if (task.hops >= config_.max_redirects) {
    result.error = net::FetchError::kTooManyRedirects;
    return false;
  }
  Task hop = task;
  hop.url = result.redirect_url;
  hop.host = net::HostOfUrl(hop.url);
  ++hop.hops;
  if (hop.host.empty() || !(absl::StartsWithIgnoreCase(hop.url, "http://") ||
                            absl::StartsWithIgnoreCase(hop.url, "https://"))) {
    result.error = net::FetchError::kBadUrl;
    return false;
  }
  Schedule(std::move(hop), now);
  return true;
}

void ShardCrawler::HandleMetObject(Task& task, Item& item, const net::FetchResult& result, absl::Time now) {
  net::Classification c = net::ClassifyFetch(result, now);
  if (net::IsThrottleAnswer(result, net::Expected::kJson)) {
    c.verdict = net::Verdict::kRetry;
    c.reason = result.http_status == 403 ? "http_403" : "invalid_json";
    Throttled(task, c, now);
  }
  if (c.verdict == net::Verdict::kSuccess) {
    auto object = ParseMetObject(result.body, config_.met_label_fields);
    if (object.ok()) {
      if (object->image_urls.empty()) {
        FinishItem(item, v1::ITEM_OUTCOME_DEAD, "no_image");
        return;
      }
      for (const auto& [field, value] : object->extra) item.extra[field] = value;
      for (const auto& [head, value] : object->derived_labels) item.labels[head] = value;
      item.result_url = object->image_urls.front();
      for (size_t n = 0; n < object->image_urls.size(); ++n) {
        Slot slot;
        slot.key = dataset::MetKey(item.work.met_object_id(), static_cast<int>(n));
        slot.url = object->image_urls[n];
        item.slots.push_back(std::move(slot));
        Task image;
        image.item = task.item;
        image.slot = static_cast<int>(n);
        image.url = object->image_urls[n];
        image.host = net::HostOfUrl(image.url);
        if (image.host.empty()) {
          item.slots.back().state = Slot::State::kFailed;
          item.slots.back().reason = "bad_url";
          continue;
        }
        ++item.open_slots;
        Schedule(std::move(image), now);
      }
      if (item.open_slots == 0) {
        item.open_slots = 1;  // every URL was bad: settle through SlotDone
        SlotDone(item, 0);
      }
      return;
    }
    // A JSON object that is not a Met object (or broken JSON after its '{').
    c.verdict = net::Verdict::kRetry;
    c.reason = "invalid_json";
    Throttled(task, c, now);
  }
  if (c.verdict == net::Verdict::kDead) {
    FinishItem(item, v1::ITEM_OUTCOME_DEAD, c.reason);
    return;
  }
  if (c.verdict == net::Verdict::kRetry && Retry(task, c, now)) return;
  FinishItem(item, v1::ITEM_OUTCOME_FAILED, c.reason);
}

void ShardCrawler::HandleImage(Task& task, Item& item, net::FetchResult& result, absl::Time now) {
  Slot& slot = item.slots[task.slot];
  slot.http_status = result.http_status;
  net::Classification c = net::ClassifyFetch(result, now);
  if (net::IsThrottleAnswer(result, net::Expected::kImage)) {
    c.verdict = net::Verdict::kRetry;
    c.reason = "block_page";
    Throttled(task, c, now);
  }
  switch (c.verdict) {
    case net::Verdict::kSuccess:
      if (pool_ != nullptr) {
        ++in_flight_;  // the body stays in memory until processed
        if (result.memory != nullptr) result.memory->Park();  // only its decode frees it now
        pool_->Submit([inbox = inbox_, processor = &processor_, budget = config_.budget, clock = &clock_, task,
                       body = std::move(result.body), memory = std::move(result.memory)]() mutable {
          ProcessOutcome outcome = ProcessWithin(*processor, budget, *clock, body, [&inbox] {
            absl::MutexLock l(&inbox->mu);
            return inbox->stop;
          });
          memory.reset();  // the body's share of the budget
          std::string().swap(body);
          absl::MutexLock l(&inbox->mu);
          inbox->processed.emplace_back(task, std::move(outcome));
        });
      } else {
        ApplyProcessed(task, ProcessWithin(processor_, config_.budget, clock_, result.body, [] { return false; }));
      }
      return;
    case net::Verdict::kDead:
      slot.state = Slot::State::kDead;
      slot.reason = c.reason;
      break;
    case net::Verdict::kRetry:
      if (Retry(task, c, now)) return;
      slot.state = Slot::State::kFailed;
      slot.reason = c.reason;
      break;
    case net::Verdict::kFail:
      slot.state = Slot::State::kFailed;
      slot.reason = c.reason;
      break;
  }
  SlotDone(item, task.slot);
}

void ShardCrawler::ApplyProcessed(const Task& task, ProcessOutcome p) {
  Item& item = items_[task.item];
  if (item.final) return;
  Slot& slot = item.slots[task.slot];
  if (!p.ok) {
    slot.state = Slot::State::kFailed;
    slot.reason = p.reason;
  } else {
    dataset::Sample sample;
    sample.format = p.image.format;
    sample.meta.key = slot.key;
    sample.meta.source = SourceName(item.work.source());
    sample.meta.url = slot.url;
    sample.meta.labels = item.labels;
    sample.meta.width = p.image.width;
    sample.meta.height = p.image.height;
    sample.meta.original_width = p.image.original_width;
    sample.meta.original_height = p.image.original_height;
    sample.meta.sha256 = p.image.sha256.empty() ? dataset::Sha256Hex(p.image.bytes) : p.image.sha256;
    sample.meta.image_format = std::string(dataset::ImageExtension(p.image.format));
    sample.meta.extra = item.extra;
    sample.image_bytes = std::move(p.image.bytes);
    slot.sample = std::move(sample);
    slot.state = Slot::State::kOk;
  }
  SlotDone(item, task.slot);
}

void ShardCrawler::Throttled(const Task& task, net::Classification& c, absl::Time now) {
  const absl::Time until = now + config_.throttle_pause;
  limiter_.PauseUntil(task.host, until);
  c.not_before = until;
}

bool ShardCrawler::Retry(Task& task, const net::Classification& c, absl::Time now) {
  if (task.tries > config_.retries) return false;
  absl::Time at = now + BackoffDelay(config_.backoff, task.tries, rng_);
  // Retry-After (clamped) is this URL's due time; the host only slows down (AutoThrottle).
  absl::Duration retry_after = absl::ZeroDuration();
  if (c.not_before.has_value()) {
    retry_after = std::min(*c.not_before - now, config_.max_retry_after);
    at = std::max(at, now + retry_after);
  }
  if (c.throttle_host) limiter_.Throttle(task.host, now, retry_after);
  Schedule(task, at);
  return true;
}

void ShardCrawler::SlotDone(Item& item, int slot_index) {
  if (--item.open_slots > 0) return;
  const Slot* first_ok = nullptr;
  const Slot* first_failed = nullptr;
  const Slot* first_dead = nullptr;
  for (const Slot& s : item.slots) {
    if (s.state == Slot::State::kOk && first_ok == nullptr) first_ok = &s;
    if (s.state == Slot::State::kFailed && first_failed == nullptr) first_failed = &s;
    if (s.state == Slot::State::kDead && first_dead == nullptr) first_dead = &s;
  }
  if (first_ok != nullptr) {
    FinishItem(item, v1::ITEM_OUTCOME_OK, "");
  } else if (first_failed != nullptr) {
    item.result_url = first_failed->url;
    item.last_http = first_failed->http_status;
    FinishItem(item, v1::ITEM_OUTCOME_FAILED, first_failed->reason);
  } else {
    item.result_url = first_dead->url;
    item.last_http = first_dead->http_status;
    FinishItem(item, v1::ITEM_OUTCOME_DEAD, first_dead->reason);
  }
  (void)slot_index;
}

void ShardCrawler::FinishItem(Item& item, v1::ItemOutcome outcome, const std::string& reason) {
  v1::ItemResult r;
  r.set_key(item.work.key());
  r.set_outcome(outcome);
  r.set_reason(reason);
  r.set_http_status(item.last_http);
  r.set_attempts(item.attempts);
  r.set_bytes(item.bytes);
  r.set_url(item.result_url);
  std::vector<dataset::Sample> samples;
  std::vector<v1::DeadLink> dead_links;
  const int64_t now_ms = absl::ToUnixMillis(clock_.Now());
  auto add_dead = [&](const std::string& key, const std::string& url, const std::string& why, int status) {
    v1::DeadLink d;
    d.set_key(key);
    d.set_url(url);
    d.set_reason(why);
    d.set_http_status(status);
    d.set_recorded_at_ms(now_ms);
    d.set_shard_id(shard_id_);
    dead_links.push_back(std::move(d));
  };
  for (Slot& s : item.slots) {
    if (s.state == Slot::State::kOk && s.sample.has_value()) samples.push_back(std::move(*s.sample));
    if (s.state == Slot::State::kDead) add_dead(s.key, s.url, s.reason, s.http_status);
  }
  if (outcome == v1::ITEM_OUTCOME_DEAD && item.slots.empty()) {
    add_dead(item.work.key(), item.result_url, reason, item.last_http);
  }
  r.set_samples_written(static_cast<int32_t>(samples.size()));
  absl::Status status = store_.PutItem(shard_id_, r, samples, dead_links);
  if (!status.ok() && error_.ok()) error_ = MarkDiskFault(status);
  item.final = true;
  item.slots.clear();
  --remaining_;
  ++counters_.done;
  if (outcome == v1::ITEM_OUTCOME_OK) ++counters_.ok;
  if (outcome == v1::ITEM_OUTCOME_DEAD) ++counters_.dead;
  if (outcome == v1::ITEM_OUTCOME_FAILED) ++counters_.failed;
  counters_.samples += r.samples_written();
  new_results_.push_back(std::move(r));
}

}  // namespace atelier::crawler
