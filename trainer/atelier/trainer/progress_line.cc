#include "atelier/trainer/progress_line.h"

#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace atelier::trainer {

ProgressLine::ProgressLine(std::string name, bool enabled, std::optional<int64_t> total)
    : name_(std::move(name)),
      enabled_(enabled),
      tty_(isatty(STDERR_FILENO) != 0),
      total_(total),
      start_(Clock::now()),
      last_(start_) {}

void ProgressLine::Update(int64_t done, bool final) {
  if (!enabled_) return;
  const auto now = Clock::now();
  if (!final && now - last_ < std::chrono::seconds(1)) return;
  last_ = now;
  const double seconds = std::chrono::duration<double>(now - start_).count();
  const double rate = seconds > 0 ? double(done) / seconds : 0;
  std::string line = absl::StrCat(name_, ": ", done);
  if (total_ && *total_ > 0) {
    absl::StrAppendFormat(&line, "/%d (%.0f%%)", *total_, 100.0 * double(done) / double(*total_));
  }
  absl::StrAppendFormat(&line, ", %.1f/s", rate);
  if (total_ && rate > 0 && done <= *total_) absl::StrAppendFormat(&line, ", ETA %.0fs", double(*total_ - done) / rate);
  if (tty_) {
    std::fprintf(stderr, "\r%s\033[K%s", line.c_str(), final ? "\n" : "");
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

}  // namespace atelier::trainer
