// Train/val/test splits: deterministic by seed, grouped, stratified. No LibTorch.
//
// Groups: every sample belongs to one group and every group lands on one side
// (SampleGroup): with `group_by` set, the value of that field of the sample
// JSON (its "extra" fields, then its labels); otherwise the group the source
// implies: a Met object ("met-<objectID>-<n>" keys: all images of one object),
// a BAM project (extra "project_id"); else the sample alone. A sample without
// the group_by field is a group of its own.
//
// Stratification (PlanSplit): a group's stratum is the most frequent class of
// the stratify head among its samples (unlabelled groups form one stratum of
// their own). Within each stratum the groups are ordered by
// KeyUnit(group, seed) and taken in that order: into val while the val count
// plus half the group stays within val_ratio * n, then into test the same way,
// the rest into train. So the val and test shares of every class are within
// one group of their targets. A class with too few groups to give every
// non-empty split one group (ratio * groups < 0.5, or fewer groups than
// splits) goes to train whole and is reported by name in `too_small`.
//
// The split is a pure function of the samples (keys, groups, classes) and the
// options: the same data and options give the same split on every rank and in
// `evaluate`. Adding data can move groups of the classes it adds to (the
// quotas change); other classes keep their assignment.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "atelier/trainer/image_set.h"
#include "atelier/trainer/labels.h"
#include "nlohmann/json.hpp"

namespace atelier::trainer {

enum class Split { kTrain = 0, kVal = 1, kTest = 2 };
absl::string_view SplitName(Split split);

struct SplitOptions {
  double val_ratio = 0.1;
  double test_ratio = 0.0;
  uint64_t seed = 1;          // --split-seed (default: --seed)
  std::string group_by;       // empty: the source's groups
  std::string stratify_head;  // empty: the first head

  nlohmann::json ToJson() const;
  static absl::StatusOr<SplitOptions> FromJson(const nlohmann::json& j);
  bool operator==(const SplitOptions&) const = default;
};
absl::Status ValidateSplitOptions(const SplitOptions& options);

// The group of one sample (see above).
std::string SampleGroup(const std::string& key, const std::map<std::string, std::string>& extra,
                        const std::map<std::string, std::string>& labels, const std::string& group_by);

struct SplitPlan {
  std::vector<Split> of;                // per sample
  std::vector<std::string> too_small;   // classes of the stratify head kept whole in train
  int64_t groups = 0;
};

// `groups` and `classes` (stratify head's class per sample, -1 = none) have one
// entry per sample; `class_names` name the classes for too_small.
SplitPlan PlanSplit(const std::vector<std::string>& groups, const std::vector<int>& classes,
                    const std::vector<std::string>& class_names, const SplitOptions& options);

// The split of a loaded set: SampleGroup per sample, classes of the stratify
// head (`targets`: size() * heads entries). NotFound when stratify_head is not
// a head of `space`.
absl::StatusOr<SplitPlan> SplitImageSet(const ImageSet& set, const LabelSpace& space,
                                        const std::vector<int32_t>& targets, const SplitOptions& options);

// RUN/split.json, written by `train` (rank 0) before the first step:
// {"split": SplitOptions, "too_small": [class names], "train"/"val"/"test":
// sample counts, "groups": N}.
inline constexpr char kSplitRecordFile[] = "split.json";
// The split options of the run a model belongs to: the split.json of
// `checkpoint` (a run directory) or of the run directory holding it
// (RUN/model.pt, RUN/checkpoints/ckpt-N.pt). NotFound when there is none.
absl::StatusOr<SplitOptions> FindRunSplit(const std::filesystem::path& checkpoint);

}  // namespace atelier::trainer
