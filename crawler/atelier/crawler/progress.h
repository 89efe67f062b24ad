// ProgressPrinter: the worker's progress display. On a terminal it redraws one
// live line (items/s, ok/dead/failed, bytes/s); otherwise it logs a plain line
// every `log_every`. Rates are measured between calls. Not thread-safe.
#pragma once

#include <cstdio>
#include <string>

#include "absl/time/time.h"
#include "atelier/crawler/shard_crawler.h"

namespace atelier::crawler {

class ProgressPrinter {
 public:
  ProgressPrinter(std::string worker, bool tty, absl::Duration log_every = absl::Seconds(10));
  // Shows the counters of `shard` with `total` items at time `now`.
  void Update(uint64_t shard, int64_t total, const CrawlCounters& counters, absl::Time now);
  // Ends the live line (a newline on a terminal).
  void Finish();

  // The text of one progress line (exposed for tests).
  static std::string Format(const std::string& worker, uint64_t shard, int64_t total, int64_t done, int64_t ok,
                            int64_t dead, int64_t failed, double items_per_s, double bytes_per_s);

 private:
  const std::string worker_;
  const bool tty_;
  const absl::Duration log_every_;
  absl::Time last_ = absl::InfinitePast();
  absl::Time last_log_ = absl::InfinitePast();
  int64_t last_done_ = 0, last_bytes_ = 0;
  uint64_t last_shard_ = ~uint64_t{0};
  bool line_open_ = false;
};

}  // namespace atelier::crawler
