// crawl_bench: the crawler's fetch path (net::CurlFetcher + politeness + ShardCrawler
// + RocksDB worker state) on a URL list, as one shard, without a coordinator.
//
//   crawl_bench --urls urls.txt --state DIR [--fetch-only] [--concurrency N]
//               [--resize-size 256] [--jpeg-quality 90] [--process-threads N]
//               [--memory-budget-bytes B] [--per-host-rps R]
//
// Prints one line: items, ok, failed, seconds, items/s. --fetch-only stores the
// fetched bytes unchanged (magic-byte check only); otherwise every image is
// decoded, centre-cropped to --resize-size and re-encoded as JPEG.
#include <fstream>
#include <iostream>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "atelier/common/clock.h"
#include "atelier/common/memory_budget.h"
#include "atelier/kv/testing/memory_kv_store.h"
#include "atelier/net/curl_fetcher.h"
#include "atelier/crawler/shard_crawler.h"
#include "atelier/crawler/state_store.h"
#include "atelier/dataset/sample_key.h"

int main(int argc, char** argv) {
  std::string urls_path, state_dir;
  bool fetch_only = false, memory_state = false;
  int concurrency = 32, resize_size = 256, quality = 90;
  int64_t memory_budget = atelier::kDefaultMemoryBudgetBytes;
  int process_threads = static_cast<int>(std::thread::hardware_concurrency());
  CLI::App app{"crawler fetch benchmark"};
  app.add_option("--urls", urls_path, "file with one URL per line")->required();
  app.add_option("--state", state_dir, "worker state directory (RocksDB)")->required();
  app.add_flag("--fetch-only", fetch_only, "no decode/resize");
  app.add_flag("--memory-state", memory_state, "keep the worker state in memory (isolates RocksDB's cost)");
  app.add_option("--concurrency", concurrency, "fetches in flight");
  app.add_option("--process-threads", process_threads, "decode/resize threads (0: inline)");
  app.add_option("--resize-size", resize_size, "centre crop size");
  app.add_option("--jpeg-quality", quality, "JPEG quality");
  app.add_option("--memory-budget-bytes", memory_budget, "bodies in flight + images being decoded (the crawler's default)");
  double per_host_rps = 0;
  app.add_option("--per-host-rps", per_host_rps, "requests per second per host (0: no rate limit)");
  CLI11_PARSE(app, argc, argv);
  atelier::ReturnLargeFreedBlocksToTheSystem();  // as atelier-crawler does

  std::ifstream in(urls_path);
  if (!in) {
    std::cerr << "cannot read " << urls_path << "\n";
    return 1;
  }
  std::vector<atelier::v1::WorkItem> items;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    atelier::v1::WorkItem item;
    item.set_key(atelier::dataset::UrlKey(line));
    item.set_source(atelier::v1::SOURCE_KIND_URLS);
    item.set_url(line);
    items.push_back(std::move(item));
  }
  auto store = memory_state ? absl::StatusOr<std::unique_ptr<atelier::crawler::StateStore>>(
                                  atelier::crawler::MakeKvStateStore(std::make_unique<atelier::kv::MemoryKvStore>(),
                                                                     state_dir + "/spool"))
                            : atelier::crawler::OpenRocksDbStateStore(state_dir);
  atelier::Clock& clock = atelier::Clock::Real();
  atelier::MemoryBudget budget(memory_budget, clock);
  atelier::net::CurlFetcherOptions fetcher_options;
  fetcher_options.budget = &budget;
  fetcher_options.guard = atelier::net::AddressGuard::AllowAll();  // the bench origin is on loopback
  auto fetcher = atelier::net::CurlFetcher::Create(std::move(fetcher_options));
  if (!store.ok() || !fetcher.ok()) {
    std::cerr << (store.ok() ? fetcher.status().ToString() : store.status().ToString()) << "\n";
    return 1;
  }
  atelier::crawler::CrawlConfig config;
  config.concurrency = concurrency;
  config.processing_threads = process_threads;
  config.budget = &budget;
  atelier::net::HostLimiter limiter({concurrency, per_host_rps, 1});
  atelier::crawler::PassthroughProcessor passthrough;
  atelier::crawler::ResizingProcessor resizing({atelier::imaging::ResizeMode::kCenterCrop, resize_size, quality});
  const atelier::crawler::ImageProcessor& processor =
      fetch_only ? static_cast<const atelier::crawler::ImageProcessor&>(passthrough) : resizing;
  atelier::crawler::ShardCrawler crawler(config, **fetcher, limiter, processor, **store, clock);
  const absl::Time start = clock.Now();
  if (auto s = crawler.Begin(0, items); !s.ok()) {
    std::cerr << s.ToString() << "\n";
    return 1;
  }
  if (auto s = crawler.Run(); !s.ok()) {
    std::cerr << s.ToString() << "\n";
    return 1;
  }
  const double seconds = absl::ToDoubleSeconds(clock.Now() - start);
  const auto& c = crawler.counters();
  std::cout << absl::StrFormat(
      "items=%d ok=%d failed=%d dead=%d bytes=%d seconds=%.3f items_per_s=%.1f budget_high_water_mib=%.1f\n",
      items.size(), c.ok.load(), c.failed.load(), c.dead.load(), c.bytes.load(), seconds,
      static_cast<double>(items.size()) / seconds, static_cast<double>(budget.high_water()) / (1 << 20));
  return c.ok.load() == static_cast<int64_t>(items.size()) ? 0 : 3;
}
