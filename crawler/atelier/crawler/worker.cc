#include "atelier/crawler/worker.h"

#include <unistd.h>

#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "atelier/common/status_macros.h"
#include "atelier/crawler/coordinator_client.h"
#include "atelier/net/curl_fetcher.h"
#include "atelier/crawler/disk_fault.h"
#include "atelier/net/host_limiter.h"
#include "atelier/crawler/image_processor.h"
#include "atelier/crawler/progress.h"
#include "atelier/crawler/segment_import.h"
#include "atelier/crawler/segment_sealer.h"
#include "atelier/crawler/shard_commit.h"
#include "atelier/crawler/shard_crawler.h"
#include "atelier/crawler/state_store.h"
#include "atelier/dataset/shard_paths.h"
#include "atelier/spec/resize_mode_proto.h"
#include "spdlog/spdlog.h"

namespace atelier::crawler {

namespace {

std::string Hostname() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
  return buf;
}

bool LeaseLost(const absl::Status& status) { return absl::IsFailedPrecondition(status) || absl::IsNotFound(status); }

}  // namespace

struct Worker::Impl {
  Impl(WorkerOptions o, Clock& c, std::unique_ptr<net::Fetcher> f)
      : options(std::move(o)),
        clock(c),
        fetcher(std::move(f)),
        client(std::make_unique<CoordinatorClient>(options.coordinator, ClientOptions(options), clock)) {}
  static CoordinatorClientOptions ClientOptions(const WorkerOptions& o) {
    CoordinatorClientOptions c;
    c.rpc_timeout = o.rpc_timeout;
    c.outage_budget = o.outage_budget;
    return c;
  }

  absl::StatusOr<RunEnd> Run(std::atomic<bool>& stop);
  absl::Status CrawlShard(const v1::LeaseShardResponse& lease, std::atomic<bool>& stop);
  // A full disk or an I/O error: release the lease, wait a backoff, carry on.
  absl::Status WaitOutDiskFault(const v1::LeaseShardResponse& lease, const absl::Status& fault,
                                std::atomic<bool>& stop) {
    const absl::Duration delay = BackoffDelay(options.disk_backoff, ++disk_faults, rng);
    spdlog::warn("shard {}: cannot write: {}; released the lease, trying again in {}", lease.shard_id(),
                 fault.ToString(), absl::FormatDuration(absl::Trunc(delay, absl::Milliseconds(1))));
    Release(lease, absl::StrCat("disk: ", fault.message()));
    Pause(delay, stop);
    return absl::OkStatus();
  }
  absl::Status Setup(const v1::CrawlSettings& settings);
  // Waits `d` on the clock or until Stop().
  void Pause(absl::Duration d, std::atomic<bool>& stop) ABSL_LOCKS_EXCLUDED(mu) {
    absl::MutexLock l(&mu);
    clock.WaitUntil(mu, clock.Now() + d, [&] { return stop.load(); });
  }
  void Release(const v1::LeaseShardResponse& lease, const std::string& reason) {
    v1::ReleaseShardRequest request;
    request.set_worker_id(worker_id);
    request.set_shard_id(lease.shard_id());
    request.set_fencing_token(lease.fencing_token());
    request.set_reason(reason);
    auto r = client->ReleaseShard(request, absl::Seconds(3));
    if (!r.ok()) spdlog::warn("shard {}: release failed: {}", lease.shard_id(), r.status().ToString());
  }

  WorkerOptions options;
  Clock& clock;
  std::unique_ptr<MemoryBudget> budget;  // before `fetcher`: it must outlive it
  std::unique_ptr<net::Fetcher> fetcher;
  std::unique_ptr<CoordinatorClient> client;  // created first: Stop() cancels its waits
  std::unique_ptr<StateStore> store;
  std::unique_ptr<net::HostLimiter> limiter;
  std::unique_ptr<ImageProcessor> processor;
  CrawlConfig config;
  std::string worker_id, worker_name, data_root;
  absl::Duration heartbeat_interval = absl::Seconds(10);
  absl::Duration seal_interval = absl::Seconds(30);
  int disk_faults = 0;  // in a row, for the backoff
  std::mt19937_64 rng{std::random_device{}()};

  // The mutex of Pause's waits: Stop() sets `stop` and then takes it, which
  // wakes them.
  absl::Mutex mu;
  ShardCrawler* current ABSL_GUARDED_BY(mu) = nullptr;
};

Worker::Worker(WorkerOptions options, Clock& clock, std::unique_ptr<net::Fetcher> fetcher)
    : impl_(std::make_unique<Impl>(std::move(options), clock, std::move(fetcher))) {}

Worker::~Worker() = default;

void Worker::Stop() {
  stop_.store(true);
  impl_->client->Cancel();
  absl::MutexLock l(&impl_->mu);
  if (impl_->current != nullptr) impl_->current->RequestStop();
}

absl::StatusOr<RunEnd> Worker::Run() { return impl_->Run(stop_); }

absl::Status Worker::Impl::Setup(const v1::CrawlSettings& s) {
  config.concurrency = std::max(1, options.concurrency);
  config.processing_threads = options.process_threads > 0
                                  ? options.process_threads
                                  : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  config.retries = std::max(0, s.retries());
  if (s.timeout_ms() > 0) config.timeout = absl::Milliseconds(s.timeout_ms());
  if (s.max_bytes() > 0) config.max_bytes = s.max_bytes();
  if (!s.met_api().empty()) config.met_api = s.met_api();
  config.met_label_fields.assign(s.met_label_fields().begin(), s.met_label_fields().end());
  if (s.throttle_pause_ms() > 0) config.throttle_pause = absl::Milliseconds(s.throttle_pause_ms());
  if (budget == nullptr) {
    budget = std::make_unique<MemoryBudget>(
        s.memory_budget_bytes() > 0 ? s.memory_budget_bytes() : kDefaultMemoryBudgetBytes, clock);
  }
  config.budget = budget.get();
  net::HostLimits limits;
  if (s.per_host_concurrency() > 0) limits.max_in_flight = s.per_host_concurrency();
  if (s.per_host_requests_per_second() > 0) limits.requests_per_second = s.per_host_requests_per_second();
  limiter = std::make_unique<net::HostLimiter>(limits);
  if (options.fetch_only) {
    processor = std::make_unique<PassthroughProcessor>();
  } else {
    ResizeSettings resize;
    resize.mode = ResizeModeFromProto(s.resize_mode());
    if (s.resize_size() > 0) resize.size = s.resize_size();
    if (s.jpeg_quality() > 0) resize.jpeg_quality = s.jpeg_quality();
    if (s.max_image_pixels() > 0) resize.max_pixels = s.max_image_pixels();
    processor = std::make_unique<ResizingProcessor>(resize);
  }
  if (s.heartbeat_interval_ms() > 0) {
    heartbeat_interval = absl::Milliseconds(s.heartbeat_interval_ms());
  } else if (s.lease_ttl_ms() > 0) {
    heartbeat_interval = absl::Milliseconds(s.lease_ttl_ms()) / 3;
  }
  if (s.seal_interval_ms() > 0) seal_interval = absl::Milliseconds(s.seal_interval_ms());
  data_root = options.data_root.empty() ? s.dataset_root() : options.data_root;
  if (data_root.empty()) {
    return absl::InvalidArgumentError("no dataset root: pass --data or set the job's dataset");
  }
  std::error_code ec;
  std::filesystem::create_directories(data_root, ec);
  if (ec) return absl::FailedPreconditionError(absl::StrCat("cannot create dataset root '", data_root, "': ", ec.message()));
  auto cleaned = dataset::CleanStaleTemporaries(data_root, clock.Now(), dataset::kStaleTemporaryAge, options.env);
  if (cleaned.ok() && *cleaned > 0) spdlog::info("removed {} stale shard temporaries", *cleaned);
  if (fetcher == nullptr) {
    std::vector<std::string> allowed = options.allowed_networks;
    allowed.insert(allowed.end(), s.allowed_networks().begin(), s.allowed_networks().end());
    net::CurlFetcherOptions curl_options;
    curl_options.budget = budget.get();
    ASSIGN_OR_RETURN(curl_options.guard,
                     net::AddressGuard::Create(options.allow_private_networks || s.allow_private_networks(), allowed));
    ASSIGN_OR_RETURN(std::unique_ptr<net::CurlFetcher> curl, net::CurlFetcher::Create(std::move(curl_options)));
    fetcher = std::move(curl);
  }
  return absl::OkStatus();
}

absl::StatusOr<RunEnd> Worker::Impl::Run(std::atomic<bool>& stop) {
  ASSIGN_OR_RETURN(store, OpenRocksDbStateStore(options.state_dir, options.env));
  worker_name = options.name;
  if (worker_name.empty()) {
    ASSIGN_OR_RETURN(std::optional<std::string> saved, store->GetMeta("worker_name"));
    if (saved.has_value()) {
      worker_name = *saved;
    } else {
      std::random_device rd;
      worker_name = absl::StrFormat("%s-%08x", Hostname(), rd());
    }
  }
  RETURN_IF_ERROR(store->PutMeta("worker_name", worker_name));
  v1::RegisterWorkerRequest reg;
  reg.set_hostname(Hostname());
  reg.set_pid(static_cast<int32_t>(getpid()));
  reg.set_concurrency(options.concurrency);
  reg.set_worker_name(worker_name);
  // The client retries an unreachable coordinator for the outage budget.
  auto registered = client->RegisterWorker(reg);
  if (stop.load()) return RunEnd::kStopped;
  RETURN_IF_ERROR(registered.status());
  worker_id = registered->worker_id();
  spdlog::info("registered with {} as {} (name {}), job '{}'", options.coordinator, worker_id, worker_name,
               registered->job_name());
  RETURN_IF_ERROR(Setup(registered->settings()));

  while (!stop.load()) {
    v1::LeaseShardRequest request;
    request.set_worker_id(worker_id);
    auto lease = client->LeaseShard(request);
    if (stop.load()) break;
    RETURN_IF_ERROR(lease.status());
    if (!lease->has_shard()) {
      if (lease->job_done()) {
        spdlog::info("job done; exiting");
        return RunEnd::kJobDone;
      }
      Pause(options.idle_poll, stop);
      continue;
    }
    RETURN_IF_ERROR(CrawlShard(*lease, stop));
  }
  return RunEnd::kStopped;
}

absl::Status Worker::Impl::CrawlShard(const v1::LeaseShardResponse& lease, std::atomic<bool>& stop) {
  const uint64_t shard = lease.shard_id();
  spdlog::info("leased shard {} (attempt {}, token {}): {} items, {} already final", shard, lease.attempt(),
               lease.fencing_token(), lease.items_size(), lease.done_keys_size());
  // Temporaries of this shard are left by earlier attempts (a killed or stale
  // writer): this lease is the only one that may write the shard now.
  auto removed = dataset::RemoveShardTemporaries(data_root, shard, options.env);
  if (!removed.ok()) {
    spdlog::warn("shard {}: cannot remove earlier temporaries: {}", shard, removed.status().ToString());
  } else if (*removed > 0) {
    spdlog::info("shard {}: removed {} temporaries of earlier attempts", shard, *removed);
  }
  ASSIGN_OR_RETURN(bool committed_before, store->IsCommitted(shard));
  if (committed_before) RETURN_IF_ERROR(store->DiscardShard(shard));  // its sample bytes are gone

  // What earlier holders sealed is final in the store from here on.
  ASSIGN_OR_RETURN(ImportedSegments imported, ImportSealedSegments(lease, data_root, *store, options.env));
  SegmentSealer sealer(lease, worker_id, data_root, *store, *client, options.env, imported);

  std::vector<v1::WorkItem> items(lease.items().begin(), lease.items().end());
  std::set<std::string> skip(lease.done_keys().begin(), lease.done_keys().end());
  ShardCrawler crawler(config, *fetcher, *limiter, *processor, *store, clock, shard * 0x9e3779b97f4a7c15ULL ^ lease.fencing_token());
  RETURN_IF_ERROR(crawler.Begin(shard, items, skip));
  {
    absl::MutexLock l(&mu);
    current = &crawler;
    if (stop.load()) crawler.RequestStop();
  }
  const absl::Time leased_at = clock.Now();
  bool lease_lost = false;
  absl::Time next_heartbeat = leased_at + heartbeat_interval;
  absl::Time next_report = leased_at + options.progress_interval;
  absl::Time next_seal = leased_at + seal_interval;
  int64_t bytes_reported = 0;
  ProgressPrinter progress(worker_name, options.tty);

  auto lose = [&](const std::string& why) {
    if (!lease_lost) spdlog::warn("shard {}: lease lost ({}); discarding its output", shard, why);
    lease_lost = true;
    crawler.RequestStop();
  };
  auto report = [&](absl::Time now) {
    v1::ReportProgressRequest r;
    r.set_worker_id(worker_id);
    r.set_shard_id(shard);
    r.set_fencing_token(lease.fencing_token());
    for (auto& result : crawler.TakeNewResults()) *r.add_results() = std::move(result);
    const int64_t bytes = crawler.counters().bytes.load();
    r.set_bytes_downloaded(bytes - bytes_reported);
    bytes_reported = bytes;
    auto response = client->ReportProgress(r);
    if (response.ok() && !response->ok()) lose("progress refused");
    if (!response.ok() && LeaseLost(response.status())) lose(response.status().ToString());
    next_report = now + options.progress_interval;
  };
  auto seal = [&] {
    auto sealed = sealer.Seal();
    if (sealed.ok()) {
      if (*sealed > 0) spdlog::info("shard {}: sealed {} items (seal {})", shard, *sealed, sealer.seals());
    } else if (absl::IsFailedPrecondition(sealed.status())) {
      lose(sealed.status().ToString());
    } else {
      spdlog::warn("shard {}: seal failed, its items go into the next one: {}", shard, sealed.status().ToString());
    }
  };
  auto on_tick = [&] {
    const absl::Time now = clock.Now();
    progress.Update(shard, static_cast<int64_t>(items.size()), crawler.counters(), now);
    if (now >= next_heartbeat) {
      v1::HeartbeatRequest hb;
      hb.set_worker_id(worker_id);
      hb.set_shard_id(shard);
      hb.set_fencing_token(lease.fencing_token());
      // One attempt: the crawl goes on while the coordinator is away.
      auto response = client->Heartbeat(hb, CoordinatorClient::Retry::kOnce);
      if (response.ok() && !response->ok()) {
        lose("heartbeat refused");
      } else if (!response.ok()) {
        if (LeaseLost(response.status())) lose(response.status().ToString());
        else spdlog::warn("shard {}: heartbeat: {}", shard, response.status().ToString());
      }
      next_heartbeat = now + heartbeat_interval;
    }
    if (!lease_lost && now >= next_report) report(now);
    if (!lease_lost && now >= next_seal) {
      seal();
      next_seal = clock.Now() + seal_interval;
    }
  };
  absl::Status status = crawler.Run(on_tick, absl::Milliseconds(250));
  {
    absl::MutexLock l(&mu);
    current = nullptr;
  }
  progress.Update(shard, static_cast<int64_t>(items.size()), crawler.counters(), clock.Now());
  progress.Finish();
  if (stop.load()) {
    spdlog::info("shard {}: stopping; releasing the lease ({} of {} items final, kept in the state)", shard,
                 crawler.counters().done.load(), items.size());
    if (!lease_lost && crawler.error().ok()) seal();  // whoever leases the shard next skips them
    Release(lease, "sigterm");
    return absl::OkStatus();
  }
  if (lease_lost) return store->DiscardShard(shard);
  if (IsDiskFault(status)) return WaitOutDiskFault(lease, status, stop);
  if (!status.ok()) {
    Release(lease, std::string(status.message()));
    return status;
  }
  CommitRequest request;
  request.worker_id = worker_id;
  request.data_root = data_root;
  request.lease = &lease;
  request.leased_at = leased_at;
  request.fetch_time = absl::Microseconds(crawler.counters().fetch_us.load());
  request.env = options.env;
  auto outcome = CommitShard(request, *client, *store, clock);
  if (!outcome.ok() && stop.load()) {
    spdlog::info("shard {}: stopping before the commit finished; releasing the lease", shard);
    Release(lease, "sigterm");
    return absl::OkStatus();
  }
  if (!outcome.ok() && IsDiskFault(outcome.status())) return WaitOutDiskFault(lease, outcome.status(), stop);
  if (!outcome.ok()) {
    spdlog::error("shard {}: commit failed: {}", shard, outcome.status().ToString());
    Release(lease, "commit failed");
    return outcome.status();
  }
  if (*outcome == CommitOutcome::kLeaseLost) {
    spdlog::warn("shard {}: CompleteShard refused (lease lost); discarding its output", shard);
    return store->DiscardShard(shard);
  }
  disk_faults = 0;
  spdlog::info("shard {}: committed ({} ok, {} dead, {} failed, {} samples)", shard, crawler.counters().ok.load(),
               crawler.counters().dead.load(), crawler.counters().failed.load(), crawler.counters().samples.load());
  return absl::OkStatus();
}

}  // namespace atelier::crawler
