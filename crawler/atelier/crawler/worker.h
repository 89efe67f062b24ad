// Worker: the crawler process's main loop. Registers with the coordinator,
// then until the job is done (or Stop()): leases a shard, removes the shard's
// temporaries left by earlier attempts (dataset::RemoveShardTemporaries),
// takes over what earlier holders of the shard sealed (segment_import.h),
// crawls the rest with a ShardCrawler (heartbeats, progress reports and, every
// seal interval, a seal (segment_sealer.h) from its tick), commits it
// (shard_commit.h) and completes it. A lost lease discards the shard's output.
// Stop() (SIGTERM) stops fetching at once, commits nothing half-written,
// seals what is final, releases the lease and makes Run() return RunEnd::kStopped (kJobDone only
// when the coordinator said the job is done). A coordinator that cannot be
// reached is retried for `outage_budget` (coordinator_client.h); a full disk
// or an I/O error while writing releases the lease and is waited out
// (disk_fault.h).
//
// Thread safety: Run() on one thread; Stop() from any thread.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "atelier/common/backoff.h"
#include "atelier/common/clock.h"
#include "atelier/common/env.h"
#include "atelier/net/fetcher.h"

namespace atelier::crawler {

struct WorkerOptions {
  std::string coordinator;  // HOST:PORT
  std::string state_dir;    // RocksDB directory (created)
  std::string data_root;    // dataset root; empty: the coordinator's dataset_root
  int concurrency = 64;     // fetches in flight
  std::string name;         // stable worker name; empty: remembered in the state dir
  bool tty = false;         // live progress line instead of log lines
  absl::Duration rpc_timeout = absl::Seconds(10);     // one coordinator RPC attempt
  absl::Duration outage_budget = absl::Minutes(2);  // coordinator unreachable this long: Run() fails
  absl::Duration idle_poll = absl::Seconds(1);         // when no shard is pending
  absl::Duration progress_interval = absl::Seconds(2);  // ReportProgress period
  int process_threads = 0;  // decode/resize threads; 0: one per CPU core
  bool fetch_only = false;  // store fetched images unchanged (benchmarks)
  // The SSRF guard (address_guard.h), on top of the job's crawl settings.
  bool allow_private_networks = false;
  std::vector<std::string> allowed_networks;  // CIDRs
  // Wait after a full disk / I/O error before leasing again (disk_fault.h).
  BackoffPolicy disk_backoff{absl::Seconds(1), absl::Seconds(60)};
  // The file system of the dataset root and the state's spool (tests: a
  // FaultEnv); must outlive the worker.
  Env* env = Env::Default();
};

// How a successful Run() ended.
enum class RunEnd {
  kJobDone,  // the coordinator said the job is done
  kStopped,  // Stop() (a signal) before the job was done: run again to continue
};

class Worker {
 public:
  // `fetcher` may be null: a net::CurlFetcher is created.
  Worker(WorkerOptions options, Clock& clock, std::unique_ptr<net::Fetcher> fetcher = nullptr);
  ~Worker();

  // Returns kJobDone when the job is done, kStopped after Stop() (even when
  // the job was done meanwhile but the worker had not heard it yet); an error
  // for a bad state directory or dataset root, or a failing state store.
  absl::StatusOr<RunEnd> Run();
  void Stop();
  bool stopping() const { return stop_.load(); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> stop_{false};
};

}  // namespace atelier::crawler
