// The progress line of the bulk commands (predict, embed): "NAME: done/total
// (pct), rate/s, ETA s" on stderr, at most once a second and once at the end;
// rewritten in place on a terminal, one line each otherwise. No LibTorch. Not
// thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace atelier::trainer {

class ProgressLine {
 public:
  // Prints nothing unless `enabled`. `total`: the number of inputs, when known.
  ProgressLine(std::string name, bool enabled, std::optional<int64_t> total);
  // `done` inputs handed over; `final` prints even within the second.
  void Update(int64_t done, bool final = false);

 private:
  using Clock = std::chrono::steady_clock;
  const std::string name_;
  const bool enabled_, tty_;
  const std::optional<int64_t> total_;
  const Clock::time_point start_;
  Clock::time_point last_;
};

}  // namespace atelier::trainer
