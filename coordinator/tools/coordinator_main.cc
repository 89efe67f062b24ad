// atelier-coordinator (`atelier coordinator`): the crawl coordinator's gRPC server.
//
//   atelier coordinator --spec JOB.yaml --state DIR --listen HOST:PORT [--recover-from-dataset]
//       [--metrics-listen HOST:PORT] [--port-file FILE]
//   atelier coordinator --spec JOB.yaml --state DIR --check
//   atelier coordinator --spec JOB.yaml --state DIR --retry-failed [REASON]
//
// Arguments (the addresses included) are checked before the ingest starts.
// Ingests the job once (state in RocksDB under DIR; an interrupted ingest
// resumes), optionally marks shards done from the dataset root's committed
// tars (--recover-from-dataset), then serves CrawlService,
// StatusService, TrainingService (rendezvous, metrics), CheckpointService
// (checkpoints under the dataset root's runs/), grpc.health.v1 and reflection,
// and with --metrics-listen Prometheus metrics, until SIGTERM/SIGINT, when it
// stops accepting calls, finishes the ones in flight and closes the database.
// With --port-file, once serving it writes the ports it bound (port 0 in
// --listen or --metrics-listen: any free port) to FILE (atelier/common/port_file.h)
// and removes FILE when it stops gracefully.
// --check verifies the done shards against the dataset root's tars (exit 1 on
// any mismatch); --retry-failed returns failed items to the pool; both exit
// without serving.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <thread>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "atelier/common/clock.h"
#include "atelier/common/command_line.h"
#include "atelier/common/port_file.h"
#include "atelier/spec/job_spec.h"
#include "atelier/common/logging.h"
#include "atelier/coordinator/checkpoint_catalog.h"
#include "atelier/coordinator/checkpoint_service.h"
#include "atelier/coordinator/coordinator_state.h"
#include "atelier/coordinator/crawl_settings.h"
#include "atelier/coordinator/dataset_check.h"
#include "atelier/coordinator/job_ingest.h"
#include "atelier/coordinator/services.h"
#include "atelier/coordinator/prometheus_metrics.h"
#include "atelier/coordinator/shard_table.h"
#include "atelier/coordinator/training_registry.h"
#include "atelier/coordinator/training_service.h"
#include "atelier/net/address_guard.h"
#include "atelier/net/curl_fetcher.h"
#include "atelier/rpc/rpc_server.h"

namespace {

using namespace atelier;
using namespace atelier::coordinator;

int Fail(const absl::Status& status) {
  spdlog::error("{}", std::string(status.message()));
  return 1;
}

// What the signal thread does with a signal: exit during start-up, ask the
// server to stop once it serves.
struct SignalHandler {
  absl::Mutex mu;
  std::function<void(int)> on_signal ABSL_GUARDED_BY(mu);
};

// The signal that asked the serving coordinator to stop (0: none yet).
struct StopRequest {
  absl::Mutex mu;
  int signal ABSL_GUARDED_BY(mu) = 0;
};

// Tells the lease-expiry ticker to end.
struct TickerStop {
  absl::Mutex mu;
  bool stop ABSL_GUARDED_BY(mu) = false;
};

// --port-file: the file's directory must exist (checked before the ingest).
std::string PortFileDirectoryExists(const std::string& file) {
  const std::filesystem::path dir = std::filesystem::path(file).parent_path();
  std::error_code ec;
  if (dir.empty() || std::filesystem::is_directory(dir, ec)) return "";
  return "no directory " + dir.string();
}

int Run(int argc, char** argv, sigset_t signals) {
  CLI::App app{"atelier coordinator: ingest a crawl job and lease its shards to workers over gRPC"};
  Conventions(app, "coordinator");
  std::string spec_path, state_dir, listen = "0.0.0.0:50051", log_level = "info", metrics_listen, port_file;
  app.add_option("--spec", spec_path, "job spec (YAML), see docs/job-spec.md")->required();
  app.add_option("--state", state_dir, "state directory (RocksDB); reuse it to continue a job")
      ->required();
  app.add_option("--listen", listen, "address to serve gRPC on, HOST:PORT (port 0: any free port)")
      ->check(ListenAddress());
  app.add_option("--metrics-listen", metrics_listen,
                 "serve Prometheus metrics on HOST:PORT (GET /metrics; port 0: any free port); off when empty")
      ->check(ListenAddress());
  app.add_option("--port-file", port_file,
                 "once serving, write the bound ports to FILE as grpc_port=PORT and (with --metrics-listen) "
                 "metrics_port=PORT lines, atomically (temporary file, rename); removed on a graceful stop; "
                 "off when empty")
      ->check(PortFileDirectoryExists, "FILE");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error");
  bool check = false, recover = false;
  std::string retry_reason;
  app.add_flag("--check", check,
               "verify every done shard against the dataset root's committed tar (accepted "
               "sha256) and exit: 0 when all match, 1 listing each mismatch");
  app.add_flag("--recover-from-dataset", recover,
               "before serving, mark done every shard that has a committed tar in the dataset "
               "root (items missing from a tar become failed not_in_recovered_shard)");
  CLI::Option* retry = app.add_option(
      "--retry-failed", retry_reason,
      "return failed items (all, or those failed with REASON) and failed shards to the pool, "
      "then exit; ok and dead items are not touched");
  retry->expected(0, 1);
  if (auto exit = Parse(app, argc, argv)) return *exit;
  if (auto s = InitLogging("coordinator", log_level); !s.ok()) {
    std::cerr << "atelier coordinator: --log-level: " << s.message() << "\n";
    return kUsageError;
  }

  // Signals are handled by this thread from the start; before the server is
  // up a signal just ends the process (an unfinished ingest restarts from
  // nothing on the next run).
  SignalHandler signal_handler;
  {
    absl::MutexLock lock(&signal_handler.mu);
    signal_handler.on_signal = [](int sig) {
      spdlog::warn("signal {} during start-up; exiting (an ingest resumes on the next run)", sig);
      std::_Exit(128 + sig);
    };
  }
  std::atomic<bool> stopping{false};
  std::thread signal_thread([&] {
    int sig = 0;
    while (sigwait(&signals, &sig) == 0) {
      std::function<void(int)> handler;
      {
        absl::MutexLock lock(&signal_handler.mu);
        handler = signal_handler.on_signal;
      }
      handler(sig);
      if (stopping) return;
    }
  });
  signal_thread.detach();

  auto spec = LoadJobSpec(spec_path);
  if (!spec.ok()) return Fail(spec.status());
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  auto store = OpenCoordinatorDatabase(CoordinatorDatabaseDir(state_dir));
  if (!store.ok()) return Fail(store.status());
  Clock& clock = Clock::Real();
  ShardTableOptions options;
  options.job_name = spec->name;
  options.lease_ttl = absl::Seconds(spec->crawl.lease_ttl_s);
  options.max_attempts = spec->crawl.max_attempts;
  auto table = ShardTable::Open(**store, clock, options);
  if (!table.ok()) return Fail(table.status());
  if (check) {
    auto problems = CheckAgainstDataset(**table, spec->dataset);
    if (!problems.ok()) return Fail(problems.status());
    for (const auto& p : *problems) std::cout << p << "\n";
    std::cout << (problems->empty() ? "state matches the dataset: " : "MISMATCH: ")
              << problems->size() << " problems in " << (*table)->Status().shards_done()
              << " done shards\n";
    return problems->empty() ? 0 : 1;
  }
  if (retry->count() > 0) {
    auto report = (*table)->RetryFailed(retry_reason, spec->shard_size);
    if (!report.ok()) return Fail(report.status());
    std::cout << report->items << " failed items back in the pool in " << report->new_shards
              << " new shards; " << report->shards_reopened << " failed shards pending again\n";
    return 0;
  }
  // The Met API is the job's own configuration, so no address guard applies.
  net::CurlFetcherOptions fetcher_options;
  fetcher_options.user_agent = "atelier-coordinator/0.1";
  fetcher_options.guard = net::AddressGuard::AllowAll();
  auto fetcher = net::CurlFetcher::Create(std::move(fetcher_options));
  if (!fetcher.ok()) return Fail(fetcher.status());
  net::Fetcher& http = **fetcher;
  MetIngestOptions met_options;
  met_options.throttle_backoff = absl::Seconds(spec->crawl.throttle_pause_s);
  if (auto ingest = IngestJob(*spec, **table, http, clock, met_options); !ingest.ok()) {
    return Fail(ingest.status());
  }
  if (recover) {
    if (auto r = RecoverFromDataset(**table, spec->dataset); !r.ok()) return Fail(r.status());
  }

  CrawlServiceImpl crawl(**table, CrawlSettingsFromSpec(*spec), spec->name);
  StatusServiceImpl status(**table, clock);
  TrainingRegistry training_registry(&clock);
  TrainingServiceImpl training(&training_registry);
  status.set_training(&training_registry);
  CheckpointCatalog checkpoints_catalog(spec->dataset);
  CheckpointServiceImpl checkpoints(&checkpoints_catalog);
  auto server = rpc::RpcServer::Start(listen, {{&crawl, v1::CrawlService::service_full_name()},
                                               {&status, v1::StatusService::service_full_name()},
                                               {&training, v1::TrainingService::service_full_name()},
                                               {&checkpoints, v1::CheckpointService::service_full_name()}});
  if (!server.ok()) return Fail(server.status());
  spdlog::info("coordinator for job '{}' serving on {} (port {})", spec->name, listen, (*server)->port());
  std::unique_ptr<MetricsServer> metrics;
  if (!metrics_listen.empty()) {
    auto started = MetricsServer::Start(metrics_listen, [&status] { return status.Snapshot(); });
    if (!started.ok()) return Fail(started.status());
    metrics = std::move(*started);
    spdlog::info("Prometheus metrics on {} (port {})", metrics_listen, metrics->port());
  }
  if (!port_file.empty()) {
    // Written after both servers accept connections: a reader that sees the
    // file can connect at once.
    std::vector<std::pair<std::string, int>> ports = {{"grpc_port", (*server)->port()}};
    if (metrics) ports.emplace_back("metrics_port", metrics->port());
    if (auto s = WritePortFile(port_file, ports); !s.ok()) return Fail(s);
    spdlog::info("ports written to {}", port_file);
  }

  // Expires leases on time and wakes status watchers, once a second (real
  // time: this is the real clock).
  TickerStop ticker_stop;
  std::thread ticker([&] {
    while (true) {
      {
        absl::MutexLock lock(&ticker_stop.mu);
        ticker_stop.mu.AwaitWithTimeout(absl::Condition(&ticker_stop.stop), absl::Seconds(1));
        if (ticker_stop.stop) break;
      }
      if (auto s = (*table)->ExpireLeases(); !s.ok()) spdlog::warn("expiring leases: {}", std::string(s.message()));
    }
  });

  StopRequest stop;
  {
    absl::MutexLock lock(&signal_handler.mu);
    signal_handler.on_signal = [&](int sig) {
      stopping = true;
      absl::MutexLock l(&stop.mu);
      stop.signal = sig;
    };
  }
  int got_signal = 0;
  {
    absl::MutexLock lock(&stop.mu);
    stop.mu.Await(absl::Condition(+[](int* sig) { return *sig != 0; }, &stop.signal));
    got_signal = stop.signal;
  }
  spdlog::info("signal {}: shutting down", got_signal);
  if (!port_file.empty()) {
    std::error_code ec;
    std::filesystem::remove(port_file, ec);
  }
  status.Shutdown();
  metrics.reset();
  (*server)->Shutdown(absl::Seconds(5));
  {
    absl::MutexLock lock(&ticker_stop.mu);
    ticker_stop.stop = true;
  }
  ticker.join();
  spdlog::info("coordinator stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return Run(argc, argv, signals);
}
