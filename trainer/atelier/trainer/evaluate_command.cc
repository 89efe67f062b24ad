#include "atelier/trainer/evaluate_command.h"

#include <cstdio>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "atelier/common/status_macros.h"
#include "atelier/dataset/label_fields.h"
#include "atelier/trainer/command_support.h"
#include "atelier/trainer/image_set.h"
#include "atelier/trainer/inference.h"
#include "atelier/trainer/model_file.h"
#include "atelier/trainer/split.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace atelier::trainer {

CLI::App* AddEvaluateCommand(CLI::App& app, EvaluateFlags* flags) {
  auto* evaluate = app.add_subcommand("evaluate", "accuracy, confusion matrices and per-class figures");
  evaluate->add_option("--checkpoint", flags->checkpoint, "model.pt, checkpoint file or run directory")->required();
  evaluate->add_option("--data", flags->data, "dataset root, folder of WebDataset .tar files, or one .tar");
  evaluate->add_option("--label-field", flags->label_fields,
                       absl::StrCat(kLabelFieldHelp, " (default here: the one the model was trained with)"));
  evaluate->add_option("--folder", flags->folder, "folder of class subfolders");
  evaluate->add_option("--head", flags->head, "head the --folder classes belong to (default: the first)");
  evaluate->add_option("--split", flags->split, "all | train | val | test (the run's own split, from RUN/split.json)")
      ->check(CLI::IsMember({"all", "train", "val", "test"}));
  evaluate->add_option("--val-ratio", flags->val_ratio, "replace the run's split option");
  evaluate->add_option("--test-ratio", flags->test_ratio, "replace the run's split option");
  evaluate->add_option("--split-seed,--seed", flags->seed, "replace the run's split seed");
  evaluate->add_option("--group-by", flags->group_by, "replace the run's split option");
  evaluate->add_option("--stratify-head", flags->stratify_head, "replace the run's split option");
  evaluate->add_flag("--json", flags->json, "print the figures as one JSON object");
  evaluate->add_option("--decode-threads", flags->decode_threads, "threads that decode the images");
  return evaluate;
}

namespace {

// The split `evaluate` selects: the run's own (RUN/split.json) with the
// options given on the command line replacing its values.
absl::StatusOr<SplitOptions> EvaluateSplit(const EvaluateFlags& flags) {
  SplitOptions options;
  auto recorded = FindRunSplit(flags.checkpoint);
  if (recorded.ok()) {
    options = *recorded;
  } else if (absl::IsNotFound(recorded.status())) {
    spdlog::warn("{}; using the split options given (defaults for the others)", std::string(recorded.status().message()));
  } else {
    return recorded.status();
  }
  if (flags.val_ratio) options.val_ratio = *flags.val_ratio;
  if (flags.test_ratio) options.test_ratio = *flags.test_ratio;
  if (flags.seed) options.seed = *flags.seed;
  if (flags.group_by) options.group_by = *flags.group_by;
  if (flags.stratify_head) options.stratify_head = *flags.stratify_head;
  RETURN_IF_ERROR(ValidateSplitOptions(options));
  return options;
}

}  // namespace

int RunEvaluateCommand(const EvaluateFlags& flags) {
  const std::string& checkpoint = flags.checkpoint;
  const std::string& data = flags.data;
  const std::string& folder = flags.folder;
  const std::string& split = flags.split;
  if (data.empty() == folder.empty()) return FailCommand(absl::InvalidArgumentError("give exactly one of --data or --folder"));
  SplitOptions split_options;
  if (split != "all") {
    auto chosen = EvaluateSplit(flags);
    if (!chosen.ok()) return FailCommand(chosen.status());
    split_options = *chosen;
  }
  auto model = LoadModelFile(checkpoint);
  if (!model.ok()) return FailCommand(model.status());
  const ModelConfig& config = (*model)->config;
  // Labels are read the way training read them unless --label-field says otherwise.
  const std::string& label_spec = flags.label_fields.empty() ? config.label_fields : flags.label_fields;
  std::vector<dataset::LabelField> label_fields;
  if (!label_spec.empty()) {
    auto parsed = dataset::ParseLabelFields(label_spec);
    if (!parsed.ok()) return FailCommand(parsed.status());
    label_fields = *std::move(parsed);
  }
  LoadOptions load;
  load.image_size = config.image_size;
  load.channels = config.in_channels;
  load.threads = flags.decode_threads;
  load.label_fields = label_fields;
  std::string folder_head = flags.head.empty() ? config.labels.heads[0].name : flags.head;
  auto set = data.empty() ? LoadFolder(folder, folder_head, load) : LoadDatasetRoot(data, load);
  if (!set.ok()) return FailCommand(set.status());
  int64_t unknown = 0;
  std::vector<int32_t> targets = BuildTargets(*set, config.labels, &unknown);
  std::vector<int64_t> indices;
  std::optional<SplitPlan> plan;
  if (split != "all") {
    auto planned = SplitImageSet(*set, config.labels, targets, split_options);
    if (!planned.ok()) return FailCommand(planned.status());
    plan = std::move(*planned);
  }
  for (int64_t i = 0; i < set->size(); ++i) {
    if (!plan || SplitName(plan->of[i]) == split) indices.push_back(i);
  }
  auto result = Evaluate(*model, *set, targets, indices, {}, 256, nullptr);
  if (!result.ok()) return FailCommand(result.status());
  nlohmann::json out = {{"samples", indices.size()},
                        {"skipped", set->read_report.skipped()},
                        {"skipped_by_reason", set->read_report.skipped_by_reason},
                        {"bad_shards", set->read_report.bad_shards},
                        {"unknown_labels", unknown},
                        {"split", split}};
  if (plan) out["split_options"] = split_options.ToJson();
  for (size_t h = 0; h < config.labels.heads.size(); ++h) {
    const auto& hc = config.labels.heads[h];
    out["heads"][hc.name] = result->confusion[h].ToJson(hc.classes);
    out["heads"][hc.name]["loss"] = result->loss[h];
  }
  if (flags.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("%lld samples (%lld labels of unknown classes); data: %s\n", static_cast<long long>(indices.size()),
              static_cast<long long>(unknown), set->read_report.Summary().c_str());
  for (size_t h = 0; h < config.labels.heads.size(); ++h) {
    const auto& hc = config.labels.heads[h];
    const Confusion& c = result->confusion[h];
    std::printf("\n%s: accuracy %.4f on %lld labelled samples\n", hc.name.c_str(), c.Accuracy(),
                static_cast<long long>(c.Total()));
    std::printf("  %-20s %9s %9s %9s\n", "class", "precision", "recall", "support");
    for (size_t k = 0; k < hc.classes.size(); ++k) {
      int64_t support = 0;
      for (int64_t v : c.counts[k]) support += v;
      std::printf("  %-20s %9.4f %9.4f %9lld\n", hc.classes[k].c_str(), c.Precision(int(k)), c.Recall(int(k)),
                  static_cast<long long>(support));
    }
    std::printf("  confusion (rows: true, columns: predicted, in class order):\n");
    for (const auto& row : c.counts) {
      std::string line = "   ";
      for (int64_t v : row) absl::StrAppend(&line, " ", v);
      std::printf("%s\n", line.c_str());
    }
  }
  return 0;
}


}  // namespace atelier::trainer
