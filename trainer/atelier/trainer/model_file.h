// Saving and loading models and training checkpoints, and initial weights.
//
// Both are written in torch.save's zip format without TorchScript type tags
// (torch_file.h), so Python's torch.load reads them, also with
// weights_only=True: a dict
//   {"format": "atelier-model-v1" | "atelier-checkpoint-v1",
//    "config": {"backbone", "normalize", "in_channels", "image_size", "width",
//               "depth", "dropout", "batch_norm", "label_fields", "heads": [names],
//               "classes": {head: [names]}},
//    "state_dict": {parameter/buffer name: tensor},
//    # checkpoints only:
//    "optimizer": {"steps": int, "exp_avg": [tensors], "exp_avg_sq": [tensors]},
//    "trainer": JSON text (epoch, step, data position, metrics so far, RNG
//               seed, the options that change the computation),
//    "checksum": "sha256:<hex>" over everything else, in order}
// Loading verifies the checksum (DataLoss on a mismatch); files without one
// (written before it existed) and files re-saved by Python's torch.save load.
// Files are written atomically (atelier::WriteFileAtomically: a temporary
// "<name>.tmp-<pid>-<hex>" in the same directory, fsync, rename). LibTorch
// exceptions become statuses naming the file.
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
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "absl/status/statusor.h"
#include "atelier/common/env.h"
#include "atelier/trainer/adamw.h"
#include "atelier/trainer/model.h"

namespace atelier::trainer {

// Written atomically through `env` (temporary, fsync, rename): a failure
// leaves what was at `path` before.
absl::Status SaveModelFile(const std::filesystem::path& path, Classifier& model, Env& env = *Env::Default());

// A model from a model.pt, a checkpoint file, or a run directory (its model.pt,
// else the checkpoint `latest` points to). The model is in eval mode.
absl::StatusOr<Classifier> LoadModelFile(const std::filesystem::path& path);

// Written atomically through `env`, like SaveModelFile.
absl::Status SaveCheckpoint(const std::filesystem::path& path, Classifier& model, AdamW& optimizer,
                            const std::string& trainer_json, Env& env = *Env::Default());
// Loads weights and optimizer state into `model` / `optimizer` (which must have
// the checkpoint's architecture) and returns the trainer's JSON.
absl::StatusOr<std::string> LoadCheckpoint(const std::filesystem::path& path, Classifier& model, AdamW& optimizer);
// The model config stored in a checkpoint or model file.
absl::StatusOr<ModelConfig> ReadModelConfig(const std::filesystem::path& path);
// The trainer's JSON state stored in a checkpoint.
absl::StatusOr<std::string> ReadCheckpointState(const std::filesystem::path& path);
// OK when `path` is a readable training checkpoint with a matching checksum.
absl::Status VerifyCheckpoint(const std::filesystem::path& path);

// Initial weights for `train --init`: a torchvision state_dict .pth
// (torch.save(model.state_dict())) or an atelier model/checkpoint.
struct InitWeights {
  std::filesystem::path path;
  bool atelier = false;           // an atelier file (else a plain state_dict)
  std::string backbone, normalize;  // atelier files only
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
};
absl::StatusOr<InitWeights> ReadInitWeights(const std::filesystem::path& path);
// Copies the backbone's tensors into `model` with strict names: every backbone
// tensor must be in the file with its shape, and the file may hold nothing
// else but the layer the new heads replace (torchvision's fc / classifier.3,
// atelier's heads). InvalidArgument naming the mismatching tensors.
absl::Status ApplyInitWeights(const InitWeights& init, Classifier& model);

class CheckpointStore;

// The checkpoint to resume from: the first of store.ResumeCandidates() that
// VerifyCheckpoint accepts (warning about each one skipped); nullopt when the
// store holds no checkpoint and no `latest`; DataLoss when it holds some but
// none is valid (a run never silently restarts from step 0).
absl::StatusOr<std::optional<std::filesystem::path>> FindResumeCheckpoint(const CheckpointStore& store);

class CheckpointStore {
 public:
  // `env` writes the directory and the `latest`/`best` pointers (atomically).
  CheckpointStore(std::filesystem::path dir, int keep_last, Env* env = Env::Default())
      : dir_(std::move(dir)), keep_last_(keep_last), env_(env) {}
  // Creates the directory and removes leftover temporaries; returns how many.
  absl::StatusOr<int> Open();
  // Path for the checkpoint of `global_step`.
  std::filesystem::path PathFor(int64_t global_step) const;
  // After a checkpoint was saved at PathFor(step): points `latest` (and `best`
  // if is_best) at it and prunes old ones.
  absl::Status Commit(int64_t global_step, bool is_best);
  std::optional<std::filesystem::path> Latest() const;
  std::optional<std::filesystem::path> Best() const;
  // What to try on resume, in order: the file `latest` names (when it exists),
  // then every ckpt-*.pt, newest first. Sets *pointer_problem when a `latest`
  // pointer exists but names no existing file.
  std::vector<std::filesystem::path> ResumeCandidates(std::string* pointer_problem) const;
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::optional<std::filesystem::path> Pointer(const char* name) const;
  std::filesystem::path dir_;
  int keep_last_;
  Env* env_;
};

}  // namespace atelier::trainer
