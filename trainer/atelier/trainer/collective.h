// The narrow collective-communication interface the trainer uses for data
// parallelism, and helpers built on it.
//
// Implementations: SingleProcessCollective (world of 1, no-ops),
// InProcessHub members (threads of one process; for unit tests), Gloo through
// LibTorch's c10d over TCP (gloo_collective.h; CPU, multi-process), and NCCL
// when built with ATELIER_CUDA. All calls are collective: every rank must make
// the same calls in the same order with tensors of the same shapes and dtypes.
// Errors (a peer that died, a timeout) come back as absl::Status. One
// Collective is used by one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <torch/torch.h>

#include "absl/status/status.h"

namespace atelier::trainer {

class Collective {
 public:
  virtual ~Collective() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // Replaces every tensor (contiguous, CPU) with root's, in place.
  virtual absl::Status Broadcast(std::vector<torch::Tensor>& tensors, int root) = 0;
  // Sums `tensor` (contiguous) over all ranks, in place.
  virtual absl::Status AllReduceSum(torch::Tensor& tensor) = 0;
  virtual absl::Status Barrier() = 0;
};

class SingleProcessCollective : public Collective {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  absl::Status Broadcast(std::vector<torch::Tensor>&, int) override { return absl::OkStatus(); }
  absl::Status AllReduceSum(torch::Tensor&) override { return absl::OkStatus(); }
  absl::Status Barrier() override { return absl::OkStatus(); }
};

// Copies rank `root`'s values of `tensors` to every rank (through one flat
// buffer per dtype).
absl::Status BroadcastTensors(Collective& collective, const std::vector<torch::Tensor>& tensors, int root);

// Averages the gradients of `params` over the ranks: gradients are flattened
// into buckets of at most `bucket_bytes`, each bucket summed with one
// AllReduceSum and divided by the world size. Parameters without a gradient
// get a zero gradient first, so every rank sends the same buckets.
absl::Status AllReduceGradients(Collective& collective, const std::vector<torch::Tensor>& params,
                                int64_t bucket_bytes);

}  // namespace atelier::trainer
