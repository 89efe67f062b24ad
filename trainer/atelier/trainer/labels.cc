#include "atelier/trainer/labels.h"

#include <algorithm>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"

namespace atelier::trainer {

int LabelSpace::ClassIndex(size_t head, const std::string& class_name) const {
  const auto& classes = heads.at(head).classes;
  auto it = std::lower_bound(classes.begin(), classes.end(), class_name);
  if (it == classes.end() || *it != class_name) return -1;
  return static_cast<int>(it - classes.begin());
}

absl::StatusOr<LabelSpace> DiscoverLabelSpace(const std::vector<std::map<std::string, std::string>>& labels,
                                              const std::vector<std::string>& wanted_heads) {
  std::map<std::string, std::set<std::string>> found;
  for (const auto& sample : labels) {
    for (const auto& [head, value] : sample) found[head].insert(value);
  }
  LabelSpace space;
  std::vector<std::string> heads = wanted_heads;
  if (heads.empty()) {
    for (const auto& [head, values] : found) heads.push_back(head);
  }
  if (heads.empty()) return absl::InvalidArgumentError("no sample has any label: nothing to train");
  for (const std::string& head : heads) {
    auto it = found.find(head);
    if (it == found.end()) return absl::NotFoundError(absl::StrCat("no sample has a label for head '", head, "'"));
    space.heads.push_back({head, std::vector<std::string>(it->second.begin(), it->second.end())});
  }
  return space;
}

absl::string_view SplitName(Split split) {
  switch (split) {
    case Split::kTrain: return "train";
    case Split::kVal: return "val";
    case Split::kTest: return "test";
  }
  return "train";
}

absl::Status ValidateSplitOptions(const SplitOptions& options) {
  if (options.val_ratio < 0 || options.test_ratio < 0 || options.val_ratio + options.test_ratio >= 1.0) {
    return absl::InvalidArgumentError(absl::StrCat("split ratios val=", options.val_ratio, " test=",
                                                   options.test_ratio, " must be >= 0 and sum to less than 1"));
  }
  return absl::OkStatus();
}

double KeyUnit(absl::string_view key, uint64_t seed) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](unsigned char c) {
    h ^= c;
    h *= 1099511628211ull;
  };
  for (char c : key) mix(static_cast<unsigned char>(c));
  mix('#');
  for (int i = 0; i < 8; ++i) mix(static_cast<unsigned char>(seed >> (8 * i)));
  // Final avalanche (splitmix64) so that similar keys spread evenly.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

Split AssignSplit(absl::string_view key, const SplitOptions& options) {
  double u = KeyUnit(key, options.seed);
  if (u < options.val_ratio) return Split::kVal;
  if (u < options.val_ratio + options.test_ratio) return Split::kTest;
  return Split::kTrain;
}

absl::StatusOr<BalanceSpec> ParseBalance(absl::string_view text) {
  BalanceSpec spec;
  if (text == "none" || text.empty()) return spec;
  if (text == "weighted") {
    spec.mode = BalanceSpec::kWeighted;
    return spec;
  }
  if (absl::StartsWith(text, "cap:")) {
    int cap = 0;
    if (absl::SimpleAtoi(text.substr(4), &cap) && cap > 0) {
      spec.mode = BalanceSpec::kCap;
      spec.cap = cap;
      return spec;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("--balance '", text, "' is not none, weighted or cap:N (N > 0)"));
}

std::vector<int64_t> CapPerClass(const std::vector<int64_t>& indices, const std::vector<int>& classes,
                                 const std::vector<std::string>& keys, int cap, uint64_t seed) {
  std::map<int, std::vector<std::pair<double, int64_t>>> by_class;
  for (int64_t i : indices) by_class[classes[i]].push_back({KeyUnit(keys[i], seed ^ 0x9e3779b97f4a7c15ull), i});
  std::set<int64_t> kept;
  for (auto& [cls, members] : by_class) {
    if (cls < 0) {
      for (auto& m : members) kept.insert(m.second);
      continue;
    }
    std::sort(members.begin(), members.end());
    for (size_t j = 0; j < members.size() && j < static_cast<size_t>(cap); ++j) kept.insert(members[j].second);
  }
  std::vector<int64_t> out;
  for (int64_t i : indices) {
    if (kept.count(i)) out.push_back(i);
  }
  return out;
}

std::vector<double> InverseFrequencyWeights(const std::vector<int64_t>& class_counts) {
  int64_t n = 0;
  int k = 0;
  for (int64_t c : class_counts) {
    n += c;
    if (c > 0) ++k;
  }
  std::vector<double> weights(class_counts.size(), 1.0);
  for (size_t i = 0; i < class_counts.size(); ++i) {
    if (class_counts[i] > 0) weights[i] = static_cast<double>(n) / (static_cast<double>(k) * class_counts[i]);
  }
  return weights;
}

}  // namespace atelier::trainer
