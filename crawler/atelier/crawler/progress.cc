#include "atelier/crawler/progress.h"

#include "absl/strings/str_format.h"
#include "spdlog/spdlog.h"

namespace atelier::crawler {

ProgressPrinter::ProgressPrinter(std::string worker, bool tty, absl::Duration log_every)
    : worker_(std::move(worker)), tty_(tty), log_every_(log_every) {}

std::string ProgressPrinter::Format(const std::string& worker, uint64_t shard, int64_t total, int64_t done,
                                    int64_t ok, int64_t dead, int64_t failed, double items_per_s,
                                    double bytes_per_s) {
  return absl::StrFormat("%s shard %06d: %d/%d items, %.1f items/s, ok %d dead %d failed %d, %.2f MB/s", worker,
                         shard, done, total, items_per_s, ok, dead, failed, bytes_per_s / 1e6);
}

void ProgressPrinter::Update(uint64_t shard, int64_t total, const CrawlCounters& c, absl::Time now) {
  const int64_t done = c.done.load(), bytes = c.bytes.load();
  if (shard != last_shard_) {
    last_shard_ = shard;
    last_ = now;
    last_done_ = done;
    last_bytes_ = bytes;
  }
  const double dt = absl::ToDoubleSeconds(now - last_);
  if (dt < 0.5 && done < total) return;
  const double items_per_s = dt > 0 ? static_cast<double>(done - last_done_) / dt : 0;
  const double bytes_per_s = dt > 0 ? static_cast<double>(bytes - last_bytes_) / dt : 0;
  last_ = now;
  last_done_ = done;
  last_bytes_ = bytes;
  const std::string line =
      Format(worker_, shard, total, done, c.ok.load(), c.dead.load(), c.failed.load(), items_per_s, bytes_per_s);
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    std::fflush(stderr);
    line_open_ = true;
  } else if (now - last_log_ >= log_every_ || done == total) {
    last_log_ = now;
    spdlog::info("{}", line);
  }
}

void ProgressPrinter::Finish() {
  if (tty_ && line_open_) {
    std::fprintf(stderr, "\n");
    line_open_ = false;
  }
}

}  // namespace atelier::crawler
