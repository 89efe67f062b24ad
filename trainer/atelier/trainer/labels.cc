#include "atelier/trainer/labels.h"

#include <algorithm>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "atelier/common/status_macros.h"

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

namespace {

absl::StatusOr<BalanceSpec> ParseOneBalance(absl::string_view text, absl::string_view whole) {
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
  return absl::InvalidArgumentError(absl::StrCat("--balance '", whole, "': '", text,
                                                 "' is not none, weighted or cap:N (N > 0); per head: HEAD=SPEC,..."));
}

}  // namespace

const BalanceSpec& BalancePlan::For(const std::string& head) const {
  auto it = per_head.find(head);
  return it == per_head.end() ? every : it->second;
}

absl::StatusOr<BalancePlan> ParseBalance(absl::string_view text) {
  BalancePlan plan;
  if (!absl::StrContains(text, '=')) {
    ASSIGN_OR_RETURN(plan.every, ParseOneBalance(text, text));
    return plan;
  }
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(item, absl::MaxSplits('=', 1));
    if (kv.first.empty()) return absl::InvalidArgumentError(absl::StrCat("--balance '", text, "': '", item, "' has no head"));
    ASSIGN_OR_RETURN(BalanceSpec spec, ParseOneBalance(kv.second, text));
    if (!plan.per_head.emplace(std::string(kv.first), spec).second) {
      return absl::InvalidArgumentError(absl::StrCat("--balance '", text, "': head '", kv.first, "' given twice"));
    }
  }
  return plan;
}

std::vector<int64_t> CapPerClass(const std::vector<int64_t>& indices, const std::vector<int32_t>& targets,
                                 int heads, const std::vector<int>& caps, const std::vector<std::string>& keys,
                                 uint64_t seed) {
  std::vector<std::pair<double, int64_t>> order;
  for (int64_t i : indices) order.push_back({KeyUnit(keys[i], seed ^ 0x9e3779b97f4a7c15ull), i});
  std::sort(order.begin(), order.end());
  std::vector<std::map<int, int>> kept_per_class(heads);
  std::set<int64_t> kept;
  for (const auto& [unit, i] : order) {
    bool keep = true;
    for (int h = 0; h < heads && keep; ++h) {
      const int c = targets[i * heads + h];
      if (caps[h] > 0 && c >= 0 && kept_per_class[h][c] >= caps[h]) keep = false;
    }
    if (!keep) continue;
    for (int h = 0; h < heads; ++h) {
      if (targets[i * heads + h] >= 0) ++kept_per_class[h][targets[i * heads + h]];
    }
    kept.insert(i);
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
