// GradientSync: averages a model's gradients over the ranks of a Collective
// while backward is still running, as PyTorch DDP does.
//
// Create() assigns the parameters to buckets (gpu::AssignBuckets: reverse
// registration order, `bucket_bytes` each, a small first bucket) and registers
// a gradient hook on every parameter. During backward each hook copies its
// gradient into its bucket's flat buffer (on the parameter's device, on the
// stream backward runs on) and marks the parameter ready; a bucket whose
// gradients are all there is started with Collective::StartAllReduceSum as
// soon as every lower bucket has been started (gpu::BucketReadiness), so every
// rank starts the same collectives in the same order and communication of the
// last layers overlaps backward of the first ones.
//
// Finish(), after backward: parameters that got no gradient contribute zeros
// (every rank sends the same buckets), waits for every bucket, and writes the
// average (sum / world size) into each parameter's .grad (created when
// undefined). Then the next step may begin. A world of one registers no hooks
// and Finish() does nothing.
//
// Ownership: borrows the Collective (must outlive this object); shares the
// parameter tensors; owns the flat buffers. The destructor removes the hooks.
// Thread safety: used by the training thread; hooks run inside its backward.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <torch/torch.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "atelier/trainer/collective.h"
#include "atelier/trainer/gpu/bucket_readiness.h"
#include "atelier/trainer/gpu/gradient_buckets.h"

namespace atelier::trainer {

struct GradientSyncOptions {
  int64_t bucket_bytes = 25 << 20;      // DDP's bucket_cap_mb
  int64_t first_bucket_bytes = 1 << 20;  // DDP's first bucket: start early
};

class GradientSync {
 public:
  // InvalidArgument for a parameter that does not require grad or a bad cap.
  static absl::StatusOr<std::unique_ptr<GradientSync>> Create(Collective& collective,
                                                             std::vector<torch::Tensor> params,
                                                             const GradientSyncOptions& options);
  GradientSync(const GradientSync&) = delete;
  GradientSync& operator=(const GradientSync&) = delete;
  ~GradientSync();

  // Completes the step's reduction (see above). The first error of a hook or
  // of a collective is returned here; the step must not be applied then.
  absl::Status Finish();

  int num_buckets() const { return static_cast<int>(plan_.buckets.size()); }
  // Buckets started during the last backward before Finish() was called
  // (observability and tests: > 0 means communication overlapped backward).
  int started_during_backward() const { return started_during_backward_; }

 private:
  GradientSync(Collective& collective, std::vector<torch::Tensor> params, gpu::BucketPlan plan);
  // The parameter's part of its bucket's flat buffer.
  torch::Tensor Slot(int param_index);
  void OnGradient(int param_index, const torch::Tensor& grad);
  // Marks the parameter ready and starts the buckets that this releases.
  absl::Status MarkReady(int param_index);

  Collective& collective_;
  std::vector<torch::Tensor> params_;
  gpu::BucketPlan plan_;
  gpu::BucketReadiness readiness_;
  std::vector<torch::Tensor> flat_;  // one per bucket
  std::vector<std::unique_ptr<PendingCollective>> pending_;  // per bucket, this step
  std::vector<unsigned> hooks_;
  absl::Status hook_error_;
  int started_ = 0;
  int started_during_backward_ = 0;
};

}  // namespace atelier::trainer
