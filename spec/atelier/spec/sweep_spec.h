// SweepSpec: the YAML file of `atelier sweep --spec FILE` (docs/sweep.md): the
// data and fixed `atelier train` flags every trial shares, the search space,
// the sampler, how many trials run and how many at once, the metric to
// optimise and the ASHA early-stopping settings.
//
//   ASSIGN_OR_RETURN(SweepSpec spec, LoadSweepSpec("sweep.yaml"));
//
// Every error names the file, the line and the dotted key
// ("sweep.yaml:4: parameters.lr.log_uniform: expected two numbers lo < hi").
// Pure parsing; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace atelier {

// One dimension of the search space; `name` is an `atelier train` flag without
// its dashes ("lr" -> --lr). A choice "true" passes the bare flag, "false"
// leaves it out (for switches such as no-augment).
struct SweepParameter {
  enum class Kind { kChoices, kUniform, kLogUniform, kInt };
  std::string name;
  Kind kind = Kind::kChoices;
  std::vector<std::string> choices;  // kChoices: the values as written
  double lo = 0, hi = 0;             // kUniform, kLogUniform (lo > 0)
  int64_t int_lo = 0, int_hi = 0;    // kInt, inclusive
};

enum class SweepSampler { kRandom, kGrid };
enum class MetricMode { kMax, kMin };

struct SweepMetric {
  std::string name = "val_accuracy";  // val_accuracy | val_loss
  std::string head;                   // empty: the mean over heads (val_loss: the summed loss)
  MetricMode mode = MetricMode::kMax;
  std::string Describe() const { return head.empty() ? name : name + ":" + head; }
};

struct AshaSettings {
  int min_epochs = 1;  // first rung
  int eta = 3;         // reduction factor: rungs at min_epochs * eta^k, 1/eta go on
};

struct SweepSpec {
  std::string origin;  // the file, for messages
  std::string data;    // `atelier train --data`, absolute when loaded from a file
  int epochs = 0;      // every trial's --epochs (the largest budget)
  // Fixed train flags in file order: (name, value); value "true" = bare flag.
  std::vector<std::pair<std::string, std::string>> train_flags;
  std::vector<SweepParameter> parameters;
  SweepSampler sampler = SweepSampler::kRandom;
  uint64_t seed = 1;
  int trials = 0;    // random: required; grid: default (0 here) the whole grid
  int parallel = 1;  // trials running at once on this machine
  SweepMetric metric;
  std::optional<AshaSettings> asha;  // absent: every trial runs all its epochs
};

// `base_dir` resolves a relative `data` (empty: leave it as written).
absl::StatusOr<SweepSpec> ParseSweepSpec(absl::string_view yaml, absl::string_view origin,
                                         const std::string& base_dir = "");
// Reads (Env::Default()) and parses `path`; the file system's error naming it
// (NotFound when it does not exist) when it cannot be read.
absl::StatusOr<SweepSpec> LoadSweepSpec(const std::string& path);

}  // namespace atelier
