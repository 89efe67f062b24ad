// `atelier probe`: how well a linear model reads a metadata field off the
// network's features ("what else has the network learnt?").
//
// Model: multinomial logistic regression on standardised features (mean and
// standard deviation of the training folds), L2 penalty `l2` * |W|^2, fitted
// to convergence with L-BFGS (LibTorch, strong-Wolfe line search, float64).
//
// Cross-validation: grouped, stratified k-fold. Samples of one group (the
// split's groups, split.h SampleGroup: a Met object, a BAM project, else the
// sample alone) are always in one fold, so images of one object never test a
// model trained on its siblings. A group's stratum is its most frequent
// target class; within each stratum the groups are ordered by
// KeyUnit(group, seed) and dealt to the folds in turn. Each fold is held out
// once; accuracy is over the held-out samples of each fold.
//
// Baseline: the majority class of the training folds, scored the same way; a
// probe is informative when its accuracy is clearly above it. Classes with
// fewer than `min_class_count` samples are left out (named in the result).
// Deterministic for a seed. Not thread-safe (LibTorch threads inside).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "atelier/trainer/metrics.h"
#include "atelier/trainer/npy_file.h"
#include "nlohmann/json.hpp"

namespace atelier::trainer {

struct ProbeOptions {
  int folds = 5;
  uint64_t seed = 1;
  double l2 = 1e-3;
  int max_iterations = 300;
  int min_class_count = 2;
};

struct ProbeResult {
  std::string field;
  int64_t samples = 0;          // used (with a target of a kept class)
  int64_t missing = 0;          // rows without the field
  std::vector<std::string> dropped_classes;  // fewer than min_class_count samples
  std::vector<std::string> classes;          // kept, sorted
  std::vector<int64_t> class_counts;
  std::vector<double> fold_accuracy;
  std::vector<double> fold_baseline;
  double accuracy = 0, accuracy_std = 0;  // mean and standard deviation over the folds
  double baseline = 0;                    // mean majority-class accuracy
  double balanced_accuracy = 0;           // mean per-class recall over all held-out predictions
  Confusion confusion{0};                 // held-out predictions of every fold

  nlohmann::json ToJson() const;
  std::string Table() const;  // for the terminal
};

// One row of features with its target (nullopt: the row lacks the field) and
// its group.
struct ProbeSample {
  std::optional<std::string> target;
  std::string group;
};

// The fold of every sample as RunProbe assigns them (-1: no target, or its
// class is left out).
std::vector<int> ProbeFolds(const std::vector<ProbeSample>& samples, const ProbeOptions& options);

// InvalidArgument when rows and samples differ in number, fewer than two
// classes remain, or a fold would be empty (fewer groups than folds).
absl::StatusOr<ProbeResult> RunProbe(const NpyMatrix& features, const std::vector<ProbeSample>& samples,
                                     const std::string& field, const ProbeOptions& options);

}  // namespace atelier::trainer
