#include "atelier/trainer/split.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "atelier/trainer/labels.h"

namespace atelier::trainer {
namespace {

// "met-436535-0" -> "met-436535"; empty when `key` is not a Met image key.
std::string MetObjectGroup(const std::string& key) {
  if (!absl::StartsWith(key, "met-")) return "";
  const size_t dash = key.rfind('-');
  if (dash <= 3) return "";
  return key.substr(0, dash);
}

}  // namespace

absl::string_view SplitName(Split split) {
  switch (split) {
    case Split::kTrain: return "train";
    case Split::kVal: return "val";
    case Split::kTest: return "test";
  }
  return "train";
}

nlohmann::json SplitOptions::ToJson() const {
  return {{"val_ratio", val_ratio}, {"test_ratio", test_ratio},       {"seed", seed},
          {"group_by", group_by},   {"stratify_head", stratify_head}};
}

absl::StatusOr<SplitOptions> SplitOptions::FromJson(const nlohmann::json& j) {
  try {
    SplitOptions o;
    o.val_ratio = j.at("val_ratio").get<double>();
    o.test_ratio = j.at("test_ratio").get<double>();
    o.seed = j.at("seed").get<uint64_t>();
    o.group_by = j.at("group_by").get<std::string>();
    o.stratify_head = j.at("stratify_head").get<std::string>();
    return o;
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("bad split record: ", e.what()));
  }
}

absl::Status ValidateSplitOptions(const SplitOptions& options) {
  if (!(options.val_ratio >= 0) || !(options.test_ratio >= 0) || !(options.val_ratio + options.test_ratio < 1.0)) {
    return absl::InvalidArgumentError(absl::StrCat("split ratios val=", options.val_ratio, " test=",
                                                   options.test_ratio, " must be >= 0 and sum to less than 1"));
  }
  return absl::OkStatus();
}

std::string SampleGroup(const std::string& key, const std::map<std::string, std::string>& extra,
                        const std::map<std::string, std::string>& labels, const std::string& group_by) {
  if (!group_by.empty()) {
    if (auto it = extra.find(group_by); it != extra.end()) return absl::StrCat(group_by, "=", it->second);
    if (auto it = labels.find(group_by); it != labels.end()) return absl::StrCat(group_by, "=", it->second);
    return absl::StrCat("key=", key);
  }
  if (std::string met = MetObjectGroup(key); !met.empty()) return met;
  if (auto it = extra.find("project_id"); it != extra.end()) return absl::StrCat("project_id=", it->second);
  return absl::StrCat("key=", key);
}

SplitPlan PlanSplit(const std::vector<std::string>& groups, const std::vector<int>& classes,
                    const std::vector<std::string>& class_names, const SplitOptions& options) {
  SplitPlan plan;
  plan.of.assign(groups.size(), Split::kTrain);
  // Members of each group, and each group's class counts.
  std::map<std::string, std::vector<size_t>> members;
  for (size_t i = 0; i < groups.size(); ++i) members[groups[i]].push_back(i);
  plan.groups = static_cast<int64_t>(members.size());
  // Stratum -> (unit, group name, size), one per group.
  std::map<int, std::vector<std::pair<double, const std::string*>>> strata;
  std::map<int, int64_t> stratum_samples;
  for (const auto& [group, idx] : members) {
    std::map<int, int> count;
    for (size_t i : idx) {
      if (classes[i] >= 0) ++count[classes[i]];
    }
    int stratum = -1, best = 0;
    for (const auto& [c, n] : count) {
      if (n > best) best = n, stratum = c;
    }
    strata[stratum].push_back({KeyUnit(group, options.seed), &group});
    stratum_samples[stratum] += static_cast<int64_t>(idx.size());
  }
  const int splits_wanted = 1 + (options.val_ratio > 0) + (options.test_ratio > 0);
  for (auto& [stratum, list] : strata) {
    std::sort(list.begin(), list.end(),
              [](const auto& a, const auto& b) { return a.first != b.first ? a.first < b.first : *a.second < *b.second; });
    const double g = static_cast<double>(list.size());
    const bool too_small = static_cast<int>(list.size()) < splits_wanted ||
                           (options.val_ratio > 0 && options.val_ratio * g < 0.5) ||
                           (options.test_ratio > 0 && options.test_ratio * g < 0.5);
    if (too_small) {
      if (stratum >= 0 && splits_wanted > 1) {
        plan.too_small.push_back(static_cast<size_t>(stratum) < class_names.size() ? class_names[stratum]
                                                                                    : absl::StrCat(stratum));
      }
      continue;  // all of it stays in train
    }
    const double n = static_cast<double>(stratum_samples[stratum]);
    size_t next = 0;
    // Fills `split` in group order up to `target` samples: a group goes in
    // while the count plus half of it stays within the target; the first group
    // always goes in (every split of an eligible class gets one).
    auto fill = [&](Split split, double target) {
      double taken = 0;
      bool first = true;
      // Leave at least one group for train.
      while (next + 1 < list.size()) {
        const double size = static_cast<double>(members[*list[next].second].size());
        if (!first && taken + size / 2 > target) break;
        for (size_t i : members[*list[next].second]) plan.of[i] = split;
        taken += size;
        first = false;
        ++next;
      }
    };
    if (options.val_ratio > 0) fill(Split::kVal, options.val_ratio * n);
    if (options.test_ratio > 0) fill(Split::kTest, options.test_ratio * n);
  }
  return plan;
}

absl::StatusOr<SplitPlan> SplitImageSet(const ImageSet& set, const LabelSpace& space,
                                        const std::vector<int32_t>& targets, const SplitOptions& options) {
  size_t head = 0;
  if (!options.stratify_head.empty()) {
    head = space.heads.size();
    for (size_t h = 0; h < space.heads.size(); ++h) {
      if (space.heads[h].name == options.stratify_head) head = h;
    }
    if (head == space.heads.size()) {
      return absl::NotFoundError(absl::StrCat("--stratify-head '", options.stratify_head, "' is not a head"));
    }
  }
  const size_t nh = space.heads.size();
  std::vector<std::string> groups(set.size());
  std::vector<int> classes(set.size());
  static const std::map<std::string, std::string> kNone;
  for (int64_t i = 0; i < set.size(); ++i) {
    const auto& extra = static_cast<size_t>(i) < set.extra.size() ? set.extra[i] : kNone;
    groups[i] = SampleGroup(set.keys[i], extra, set.labels[i], options.group_by);
    classes[i] = targets[i * nh + head];
  }
  return PlanSplit(groups, classes, space.heads[head].classes, options);
}

absl::StatusOr<SplitOptions> FindRunSplit(const std::filesystem::path& checkpoint) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> candidates;
  if (fs::is_directory(checkpoint, ec)) candidates.push_back(checkpoint / kSplitRecordFile);
  const fs::path parent = checkpoint.parent_path();
  candidates.push_back(parent / kSplitRecordFile);
  if (parent.filename() == "checkpoints") candidates.push_back(parent.parent_path() / kSplitRecordFile);
  for (const fs::path& file : candidates) {
    std::ifstream in(file);
    if (!in) continue;
    std::stringstream text;
    text << in.rdbuf();
    nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.contains("split")) {
      return absl::DataLossError(absl::StrCat(file.string(), " is not a split record"));
    }
    auto options = SplitOptions::FromJson(j["split"]);
    if (!options.ok()) return absl::DataLossError(absl::StrCat(file.string(), ": ", options.status().message()));
    return options;
  }
  return absl::NotFoundError(absl::StrCat("no ", kSplitRecordFile, " next to ", checkpoint.string()));
}

}  // namespace atelier::trainer
