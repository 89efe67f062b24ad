#include "atelier/trainer/resume_options.h"

#include "absl/strings/str_cat.h"
#include "atelier/dataset/label_fields.h"

namespace atelier::trainer {
namespace {

// "mode:cap" for every head, then "head=mode:cap" for each head of its own.
std::string BalanceRecord(const BalancePlan& plan) {
  std::string out = absl::StrCat(static_cast<int>(plan.every.mode), ":", plan.every.cap);
  for (const auto& [head, spec] : plan.per_head) {
    absl::StrAppend(&out, ",", head, "=", static_cast<int>(spec.mode), ":", spec.cap);
  }
  return out;
}

}  // namespace

nlohmann::json ComputationOptions(const TrainOptions& o) {
  nlohmann::json head_weights = nlohmann::json::object();
  for (const auto& [head, weight] : o.head_weights) head_weights[head] = weight;
  return {{"backbone", o.backbone},
          {"normalize", o.normalize},
          {"image-size", o.image_size},
          {"channels", o.channels},
          {"width", o.width},
          {"depth", o.depth},
          {"dropout", o.dropout},
          {"batch-norm", o.batch_norm},
          {"heads", o.heads},
          {"label-field", dataset::LabelFieldsToString(o.label_fields)},
          {"head-weights", head_weights},
          {"epochs", o.epochs},
          {"batch-size", o.batch_size},
          {"lr", o.lr},
          {"min-lr", o.min_lr},
          {"warmup-epochs", o.warmup_epochs},
          {"weight-decay", o.weight_decay},
          {"label-smoothing", o.label_smoothing},
          {"clip-norm", o.clip_norm},
          {"val-ratio", o.split.val_ratio},
          {"test-ratio", o.split.test_ratio},
          {"split-seed", o.split.seed},
          {"group-by", o.split.group_by},
          {"stratify-head", o.split.stratify_head},
          {"balance", BalanceRecord(o.balance)},
          {"augment", o.augment},
          {"crop", o.augment_options.crop},
          {"flip", o.augment_options.hflip},
          {"rotate", o.augment_options.rotate},
          {"min-crop-area", o.augment_options.min_crop_area},
          {"max-rotation", o.augment_options.max_rotation_deg},
          {"seed", o.seed},
          {"precision", o.bf16 ? "bf16" : "fp32"},
          {"freeze-backbone-epochs", o.freeze_backbone_epochs},
          {"backbone-lr-scale", o.backbone_lr_scale}};
}

absl::Status CheckResumeOptions(const nlohmann::json& saved_state, const nlohmann::json& now,
                                const std::set<std::string>& overrides) {
  nlohmann::json saved;
  if (saved_state.contains("options")) {
    saved = saved_state.at("options");
  } else if (saved_state.contains("seed")) {
    saved = {{"seed", saved_state.at("seed")}};  // checkpoints from before options were recorded
  }
  for (const auto& [name, value] : saved.items()) {
    if (overrides.count(name)) continue;
    auto it = now.find(name);
    if (it == now.end() || *it == value) continue;
    return absl::FailedPreconditionError(absl::StrCat("cannot resume: the checkpoint was made with --", name, " ",
                                                      value.dump(), ", this run has ", it->dump(),
                                                      " (pass --override ", name, " to resume anyway)"));
  }
  for (const std::string& name : overrides) {
    if (!now.contains(name)) return absl::InvalidArgumentError(absl::StrCat("--override ", name, ": no such option"));
  }
  return absl::OkStatus();
}

}  // namespace atelier::trainer
