// Heads, class lists and class balancing. No LibTorch.
//
// Every label key in the samples' JSON ("labels": {"media": "oilpaint"}) can be a
// head. Class lists are discovered from the samples and sorted by their UTF-8
// bytes, so the class index of a name never depends on the order samples were
// read; they are saved with the model.
//
// Splits are in split.h. Pure functions; thread-safe.
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

// Uniform in [0, 1), a pure function of key and seed.
double KeyUnit(absl::string_view key, uint64_t seed);

// One head's balance: none, cap:N (at most N training samples per class) or
// weighted (inverse-frequency loss weights).
struct BalanceSpec {
  enum Mode { kNone, kCap, kWeighted } mode = kNone;
  int cap = 0;
};

// --balance: "none" | "cap:N" | "weighted" for every head, or
// "HEAD=SPEC,HEAD=SPEC,..." per head (heads not named: none).
struct BalancePlan {
  BalanceSpec every;                             // heads not in per_head
  std::map<std::string, BalanceSpec> per_head;
  const BalanceSpec& For(const std::string& head) const;
};
absl::StatusOr<BalancePlan> ParseBalance(absl::string_view text);

// Indices (members of `indices`) kept by per-class caps on every head:
// samples are visited in KeyUnit(key, seed) order and one is kept when, on
// every head h with caps[h] > 0 where it has a class (targets[i * heads + h]
// >= 0), fewer than caps[h] samples of that class were kept before it. So no
// class of any capped head has more than its cap. Returns them in the order
// of `indices`.
std::vector<int64_t> CapPerClass(const std::vector<int64_t>& indices, const std::vector<int32_t>& targets,
                                 int heads, const std::vector<int>& caps, const std::vector<std::string>& keys,
                                 uint64_t seed);

// Loss weights for "weighted" balance: n / (k * count_c) over the k classes with
// samples (classes without samples get 1).
std::vector<double> InverseFrequencyWeights(const std::vector<int64_t>& class_counts);

}  // namespace atelier::trainer
