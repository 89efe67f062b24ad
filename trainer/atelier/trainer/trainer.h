// `atelier train`: trains a multi-head classifier on a dataset root, on one
// rank or data-parallel over a Collective.
//
// Data parallelism: every rank loads the data and computes the same split and
// epoch order (seeded); global batch b of an epoch is the slice
// [b*B, (b+1)*B) of the shuffled train indices and rank r takes its r-th
// B/world part (disjoint shares). Before the first step the ranks compare a
// fingerprint of their options and samples (rank_agreement.h) and refuse to
// start when they differ. Rank 0's initial weights are broadcast, gradients
// are averaged in buckets, batch-norm buffers are broadcast from rank 0 before
// every validation and checkpoint (as PyTorch DDP's broadcast_buffers does),
// so validation runs on the model that is saved; metrics are summed over
// ranks, and only rank 0 writes files. Gradients
// are averaged by GradientSync, which starts each bucket's allreduce from
// backward's gradient hooks as soon as it is full (communication overlaps
// backward, as in DDP).
//
// Device (TrainOptions::device): "cpu", or "cuda:N" in a CUDA build (with the
// NCCL collective, one GPU per process). On a GPU the host only gathers raw
// uint8 pixels into pinned memory; they are copied on a separate stream and
// converted and augmented on the GPU (PrepareImages: one affine warp per image
// with the same random draws as the host path), optionally in channels-last
// memory order and under bf16 autocast. Per-step loss and accuracy sums stay on
// the device and are read only for progress lines and checkpoints, so the
// host never waits for the GPU inside a step. Checkpoints and model.pt always
// hold contiguous float32 CPU tensors, so they move freely between CPU and GPU
// runs.
//
// RUN_DIR layout (written by rank 0):
//   metrics.jsonl, metrics.csv   one line per epoch
//   checkpoints/ckpt-<step>.pt, checkpoints/latest, checkpoints/best
//   model.pt                     final weights (torch.load-able, see model_file.h)
//   report.html                  charts, confusion matrices, gallery
//   summary.json                 split sizes, skipped samples, final metrics
//   split.json                   the split options and sizes (split.h), before step 1
//
// Checks before anything large is allocated: CheckTrainShape (shape_check.h)
// with the memory budget; a non-finite loss stops the run with an error
// naming the step and the last checkpoint (no step with it is applied).
//
// Stopping: the library owns no signals. When *TrainOptions::stop becomes true
// (the executable sets it from SIGTERM/SIGUSR1) the run finishes its current
// step, writes a checkpoint and returns exit_code
// kExitCheckpointedOnSignal (75); `--resume` continues exactly (same weights,
// same data order, same metrics). Randomness is a pure function of the seed
// and the position (epoch, step, sample), so nothing else needs restoring.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <atomic>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "atelier/common/env.h"
#include "atelier/dataset/label_fields.h"
#include "atelier/trainer/augment.h"
#include "atelier/trainer/collective.h"
#include "atelier/trainer/labels.h"
#include "atelier/trainer/metrics.h"
#include "atelier/trainer/split.h"

namespace atelier::trainer {

inline constexpr int kExitCheckpointedOnSignal = 75;

struct TrainOptions {
  std::filesystem::path data_root;
  std::filesystem::path out_dir;
  // Writes every file under out_dir that is replaced atomically (checkpoints
  // and their pointers, model.pt, split.json, report.html, summary.json).
  Env* env = Env::Default();
  std::vector<std::string> heads;               // empty = every label key
  std::vector<dataset::LabelField> label_fields;  // --label-field; empty = the JSON's "labels" (and .cls)
  std::map<std::string, double> head_weights;   // default 1
  int image_size = 0;  // 0: 64, or the data's own size when that is smaller
  int channels = 0;  // 0 auto (3 for the torchvision backbones), 1, 3
  // Backbone (backbones.h) and initial weights (--init: a torchvision
  // state_dict .pth or an atelier model.pt/checkpoint; empty: random).
  std::string backbone = "small-cnn";
  std::filesystem::path init;
  // "auto" (ImageNet statistics with a torchvision --init, the init's own
  // setting with an atelier --init, else none), "none" or "imagenet".
  std::string normalize = "auto";
  // Epochs at the start that train only the heads; afterwards the backbone
  // learns at lr * backbone_lr_scale.
  int freeze_backbone_epochs = 0;
  double backbone_lr_scale = 1.0;
  // Recorded options (resume_options.h) that --resume may change.
  std::set<std::string> overrides;
  int width = 32;
  int depth = 3;
  double dropout = 0.2;
  bool batch_norm = true;
  int epochs = 10;
  int batch_size = 64;  // global, over all ranks
  double lr = 2e-3;
  double min_lr = 1e-5;
  double warmup_epochs = 1.0;
  double weight_decay = 0.05;
  double label_smoothing = 0.1;
  double clip_norm = 1.0;  // 0 = off
  SplitOptions split;
  BalancePlan balance;
  double memory_budget = 0;  // bytes for CheckTrainShape; 0 = DefaultMemoryBudget()
  bool augment = true;
  AugmentOptions augment_options;
  int threads = 0;         // LibTorch intra-op threads; 0 = its default
  int decode_threads = 2;
  // Non-empty: keep the decoded images in a packed cache file in this folder
  // (built by rank 0 on the first run, memory-mapped afterwards).
  std::filesystem::path cache_dir;
  uint64_t seed = 1;
  int keep_last = 3;
  bool resume = false;
  int64_t checkpoint_every_steps = 0;  // 0 = at the end of every epoch only
  int64_t bucket_bytes = 25 << 20;
  int64_t first_bucket_bytes = 1 << 20;
  // "cpu" or "cuda:N" (OpenDevice in device_context.h).
  std::string device = "cpu";
  // bf16 autocast for forward and loss (weights and optimizer stay float32).
  bool bf16 = false;
  // Channels-last memory order for the model's 4-D weights and its input.
  bool channels_last = false;
  // Augment and convert on the training device instead of in the host's
  // prefetch thread; unset: on the device exactly when it is a GPU.
  std::optional<bool> augment_on_device;
  // Stop token: the run checkpoints and returns 75 once it reads true.
  const std::atomic<bool>* stop = nullptr;
  int64_t stop_at_step = -1;  // testing: behave as if stop were set after this global step
  bool progress_bar = false;  // true: a \r progress bar; false: plain log lines
  int gallery_per_class = 4;
  // Called on rank 0 after each epoch's checkpoint is written, with the
  // optimizer steps of the whole run and the checkpoint's path (may be unset).
  std::function<void(const EpochRecord& record, int64_t steps_total, const std::filesystem::path& checkpoint)>
      on_epoch_end;
};

struct TrainResult {
  int exit_code = 0;  // 0, or kExitCheckpointedOnSignal
  int epochs_done = 0;
  int64_t global_step = 0;
  int64_t samples_skipped = 0;  // by the reader or the decoder (ImageSet::read_report)
};

absl::StatusOr<TrainResult> Train(const TrainOptions& options, Collective& collective);

}  // namespace atelier::trainer
