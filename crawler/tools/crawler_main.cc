// atelier-crawler: one crawler worker (`atelier crawler ...` execs this).
//
//   atelier crawler --coordinator HOST:PORT --state DIR --data ROOT
//                   [--concurrency N] [--name NAME] [--process-threads N]
//                   [--allow-private-networks] [--allow-network CIDR]...
//                   [--outage-budget-s S] [--log-level LEVEL]
//
// SIGTERM/SIGINT: stop fetching, commit nothing half-written, release the
// lease, exit 75. Exit codes: 0 the job is done, 75 (kExitStoppedOnSignal)
// stopped by a signal before the job was done (run it again to continue),
// 1 runtime error, 2 bad flags.
#include <signal.h>
#include <unistd.h>

#include <thread>

#include "atelier/common/memory_budget.h"
#include "atelier/common/stop_signal_watcher.h"
#include "atelier/common/clock.h"
#include "atelier/common/command_line.h"
#include "atelier/common/logging.h"
#include "atelier/crawler/worker.h"
#include "spdlog/spdlog.h"

int main(int argc, char** argv) {
  atelier::crawler::WorkerOptions options;
  std::string log_level = "info";
  CLI::App app{"atelier crawler worker: leases shards from the coordinator, fetches, writes shards"};
  atelier::Conventions(app, "crawler");
  app.add_option("--coordinator", options.coordinator, "coordinator address HOST:PORT")
      ->required()
      ->check(atelier::ListenAddress());
  app.add_option("--state", options.state_dir, "worker state directory (RocksDB; created)")->required();
  app.add_option("--data", options.data_root, "dataset root (default: the job's dataset)");
  app.add_option("--concurrency", options.concurrency, "fetches in flight")->check(CLI::Range(1, 4096));
  app.add_option("--name", options.name, "stable worker name (default: remembered in --state)");
  app.add_option("--process-threads", options.process_threads, "decode/resize threads (default: one per core)")
      ->check(CLI::Range(0, 1024));
  app.add_flag("--allow-private-networks", options.allow_private_networks,
               "also fetch from loopback, private and link-local addresses (tests, intranet crawls)");
  app.add_option("--allow-network", options.allowed_networks,
                 "also fetch from this CIDR network (repeatable), e.g. 10.1.0.0/16");
  int outage_s = 120;
  app.add_option("--outage-budget-s", outage_s,
                 "keep retrying an unreachable coordinator this many seconds before exiting 1 (default 120)")
      ->check(CLI::Range(1, 86400));
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, off");
  app.add_flag("--fetch-only", options.fetch_only, "store fetched images unchanged (no decode/resize; benchmarks)");
  if (auto exit = atelier::Parse(app, argc, argv)) return *exit;

  if (auto s = atelier::InitLogging("crawler", log_level); !s.ok()) {
    std::fprintf(stderr, "atelier crawler: --log-level: %s\n", std::string(s.message()).c_str());
    return atelier::kUsageError;
  }
  atelier::ReturnLargeFreedBlocksToTheSystem();  // RSS follows the memory budget (docs/crawler.md)
  options.outage_budget = absl::Seconds(outage_s);
  options.tty = isatty(STDERR_FILENO) == 1;

  // Signals go to one thread that asks the worker to stop; the watcher is
  // declared after the worker, so it is joined before the worker goes.
  atelier::StopSignalWatcher::BlockStopSignals();  // before the worker's threads
  atelier::crawler::Worker worker(options, atelier::Clock::Real());
  atelier::StopSignalWatcher watcher([&worker](int sig) {
    spdlog::info("signal {}: stopping", sig);
    worker.Stop();
  });

  absl::StatusOr<atelier::crawler::RunEnd> end = worker.Run();
  if (!end.ok()) {
    spdlog::error("{}", end.status().ToString());
    return 1;
  }
  if (*end == atelier::crawler::RunEnd::kStopped) {
    spdlog::info("stopped before the job was done; exit {} (run again to continue)", atelier::kExitStoppedOnSignal);
    return atelier::kExitStoppedOnSignal;
  }
  return 0;
}
