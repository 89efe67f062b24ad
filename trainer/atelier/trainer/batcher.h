// Turning packed images into model batches, and a prefetching thread.
//
// MakeBatch copies (or augments) the images at `indices` into a float tensor
// [B, C, S, S] = pixel / 255 (NCHW; channel 0 = red for RGB data) and gathers
// their targets [B, heads] (int64, -1 = no label for that head). The
// augmentation of sample i in epoch e is drawn from an RNG seeded by
// (seed, e, i) only, so it does not depend on batch composition, rank count or
// resumption.
//
// MakeDeviceBatch is the GPU variant: it only gathers the raw uint8 pixels
// [B, S, S, C] (into pinned memory when asked, for asynchronous copies) and
// the affine matrices [B, 2, 3] of the same per-sample draws; the device does
// the conversion and the warp (PrepareImages in device_augment.h).
//
// Prefetcher runs `make(b)` for b = begin..end-1 on one background thread,
// keeping up to `depth` batches ready ahead of the consumer. Next() returns
// them in order and std::nullopt after the last. Destroying it stops the
// thread. One consumer thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <thread>
#include <vector>

#include <torch/torch.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "atelier/trainer/augment.h"
#include "atelier/trainer/image_set.h"

namespace atelier::trainer {

struct Batch {
  torch::Tensor images;   // float32 [B, C, S, S] (MakeBatch)
  torch::Tensor raw;      // uint8 [B, S, S, C] (MakeDeviceBatch)
  torch::Tensor theta;    // float32 [B, 2, 3] (MakeDeviceBatch with augmentation)
  torch::Tensor targets;  // int64 [B, heads]
  std::vector<int64_t> indices;
};

uint64_t MixSeed(uint64_t a, uint64_t b, uint64_t c = 0);

// `targets`: size() * heads entries, row per sample.
Batch MakeBatch(const ImageSet& set, const std::vector<int32_t>& targets, int heads,
                const std::vector<int64_t>& indices, const AugmentOptions* augment, uint64_t seed, int epoch);

Batch MakeDeviceBatch(const ImageSet& set, const std::vector<int32_t>& targets, int heads,
                      const std::vector<int64_t>& indices, const AugmentOptions* augment, uint64_t seed, int epoch,
                      bool pinned);

class Prefetcher {
 public:
  Prefetcher(std::function<Batch(int64_t)> make, int64_t begin, int64_t end, int depth);
  ~Prefetcher();
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;
  std::optional<Batch> Next();

 private:
  void Run();
  std::function<Batch(int64_t)> make_;
  int64_t next_, end_;
  size_t depth_;
  absl::Mutex mu_;
  std::deque<Batch> ready_ ABSL_GUARDED_BY(mu_);
  int64_t produced_end_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace atelier::trainer
