// Heads, class lists, splits and class balancing. No LibTorch.
//
// Every label key in the samples' JSON ("labels": {"media": "oilpaint"}) can be a
// head. Class lists are discovered from the samples and sorted by their UTF-8
// bytes, so the class index of a name never depends on the order samples were
// read; they are saved with the model.
//
// Splits are deterministic by key: u = FNV-1a-64(key + "#" + seed) mapped to
// [0, 1); u < val_ratio -> val, u < val_ratio + test_ratio -> test, else train.
// A sample's split never changes when data is added (no reshuffling), and
// since u is independent of the class, every class is split in the same
// proportions (stratified up to sampling noise, which SplitCounts reports).
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace atelier::trainer {

struct HeadClasses {
  std::string name;
  std::vector<std::string> classes;
};

struct LabelSpace {
  std::vector<HeadClasses> heads;
  // Index of `class_name` in head `head`, or -1 if unknown.
  int ClassIndex(size_t head, const std::string& class_name) const;
};

// Heads and classes found in `labels` (one map per sample). If `wanted_heads`
// is non-empty only those heads, in that order (NotFound naming a head no
// sample has); otherwise every head, sorted by name.
absl::StatusOr<LabelSpace> DiscoverLabelSpace(const std::vector<std::map<std::string, std::string>>& labels,
                                              const std::vector<std::string>& wanted_heads);

enum class Split { kTrain = 0, kVal = 1, kTest = 2 };
absl::string_view SplitName(Split split);

struct SplitOptions {
  double val_ratio = 0.1;
  double test_ratio = 0.0;
  uint64_t seed = 0;
};
absl::Status ValidateSplitOptions(const SplitOptions& options);

// Uniform in [0, 1), a pure function of key and seed.
double KeyUnit(absl::string_view key, uint64_t seed);
Split AssignSplit(absl::string_view key, const SplitOptions& options);

// --balance none | cap:N | weighted
struct BalanceSpec {
  enum Mode { kNone, kCap, kWeighted } mode = kNone;
  int cap = 0;
};
absl::StatusOr<BalanceSpec> ParseBalance(absl::string_view text);

// Indices (into `keys`) of the members of `indices` kept by a per-class cap:
// within each class of `classes` (one per sample, -1 = unlabelled, always kept)
// the `cap` samples with the smallest KeyUnit(key, seed) stay. Returns them in
// the order of `indices`.
std::vector<int64_t> CapPerClass(const std::vector<int64_t>& indices, const std::vector<int>& classes,
                                 const std::vector<std::string>& keys, int cap, uint64_t seed);

// Loss weights for "weighted" balance: n / (k * count_c) over the k classes with
// samples (classes without samples get 1).
std::vector<double> InverseFrequencyWeights(const std::vector<int64_t>& class_counts);

}  // namespace atelier::trainer
