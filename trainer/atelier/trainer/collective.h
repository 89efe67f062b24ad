// The narrow collective-communication interface the trainer uses for data
// parallelism, and helpers built on it.
//
// Implementations: SingleProcessCollective (world of 1, no-ops),
// InProcessHub members (threads of one process; for unit tests), Gloo through
// LibTorch's c10d over TCP (gloo_collective.h; CPU, multi-process), and NCCL
// when built with ATELIER_CUDA. All calls are collective: every rank must make
// the same calls in the same order with tensors of the same shapes and dtypes.
// Errors (a peer that died, a timeout) come back as absl::Status. One
// Collective is used by one thread at a time (autograd hooks that start
// allreduces during backward count as the training thread: backward blocks it).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <torch/torch.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace atelier::trainer {

// A collective operation that has been started and may still be running. The
// tensor it was started on must stay alive and untouched until Wait() returns.
class PendingCollective {
 public:
  virtual ~PendingCollective() = default;
  // Blocks until the operation is complete (for a device backend: until the
  // caller's current stream is ordered after it) and returns its status.
  virtual absl::Status Wait() = 0;
};

class Collective {
 public:
  virtual ~Collective() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // Replaces every tensor (contiguous) with root's, in place. Tensors are on
  // the CPU, or for a device backend (NCCL) on its GPU or the CPU.
  virtual absl::Status Broadcast(std::vector<torch::Tensor>& tensors, int root) = 0;
  // Sums `tensor` (contiguous) over all ranks, in place.
  virtual absl::Status AllReduceSum(torch::Tensor& tensor) = 0;
  virtual absl::Status Barrier() = 0;
  // Starts summing `tensor` over all ranks in place and returns at once where
  // the backend can (Gloo, NCCL); the default runs AllReduceSum before
  // returning. Started operations complete in the order they were started.
  virtual absl::StatusOr<std::unique_ptr<PendingCollective>> StartAllReduceSum(torch::Tensor tensor);
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

}  // namespace atelier::trainer
