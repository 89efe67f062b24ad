// Saving and loading models and training checkpoints.
//
// Both are written with torch::pickle_save, i.e. in torch.save's zip format, so
// Python's torch.load reads them: a dict
//   {"format": "atelier-model-v1" | "atelier-checkpoint-v1",
//    "config": {"in_channels", "image_size", "width", "depth", "dropout",
//               "batch_norm", "heads": [names], "classes": {head: [names]}},
//    "state_dict": {parameter/buffer name: tensor},
//    # checkpoints only:
//    "optimizer": {"steps": int, "exp_avg": [tensors], "exp_avg_sq": [tensors]},
//    "trainer": JSON text (epoch, step, data position, metrics so far, RNG seed)}
// Files are written atomically: a temporary "<name>.tmp-<pid>" in the same
// directory, fsync, rename. LibTorch exceptions become statuses naming the file.
//
// CheckpointStore manages RUN/checkpoints: ckpt-<global step>.pt files, the
// pointer files `latest` and `best` (each holds one file name), keeps the last
// `keep_last` checkpoints plus the best, and removes temporaries left by a
// killed write when opened. Not thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <torch/torch.h>

#include "absl/status/statusor.h"
#include "atelier/trainer/adamw.h"
#include "atelier/trainer/model.h"

namespace atelier::trainer {

absl::Status WriteFileAtomically(const std::filesystem::path& path, const std::string& bytes);

absl::Status SaveModelFile(const std::filesystem::path& path, Classifier& model);

// A model from a model.pt, a checkpoint file, or a run directory (its model.pt,
// else the checkpoint `latest` points to). The model is in eval mode.
absl::StatusOr<Classifier> LoadModelFile(const std::filesystem::path& path);

absl::Status SaveCheckpoint(const std::filesystem::path& path, Classifier& model, AdamW& optimizer,
                            const std::string& trainer_json);
// Loads weights and optimizer state into `model` / `optimizer` (which must have
// the checkpoint's architecture) and returns the trainer's JSON.
absl::StatusOr<std::string> LoadCheckpoint(const std::filesystem::path& path, Classifier& model, AdamW& optimizer);
// The model config stored in a checkpoint or model file.
absl::StatusOr<ModelConfig> ReadModelConfig(const std::filesystem::path& path);

class CheckpointStore {
 public:
  CheckpointStore(std::filesystem::path dir, int keep_last) : dir_(std::move(dir)), keep_last_(keep_last) {}
  // Creates the directory and removes leftover temporaries; returns how many.
  absl::StatusOr<int> Open();
  // Path for the checkpoint of `global_step`.
  std::filesystem::path PathFor(int64_t global_step) const;
  // After a checkpoint was saved at PathFor(step): points `latest` (and `best`
  // if is_best) at it and prunes old ones.
  absl::Status Commit(int64_t global_step, bool is_best);
  std::optional<std::filesystem::path> Latest() const;
  std::optional<std::filesystem::path> Best() const;

 private:
  std::optional<std::filesystem::path> Pointer(const char* name) const;
  std::filesystem::path dir_;
  int keep_last_;
};

}  // namespace atelier::trainer
