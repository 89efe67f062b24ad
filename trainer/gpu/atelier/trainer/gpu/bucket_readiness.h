// BucketReadiness: decides, as gradients become ready during backward, which
// allreduce buckets may be launched now.
//
// A bucket is launchable once every one of its parameters has its gradient AND
// every bucket with a lower index has been launched. NCCL requires every rank
// to issue its collectives in the same order; backward may finish buckets in a
// different order on different ranks (or from step to step), so launches are
// always released in bucket order 0, 1, 2, ... (as DDP does).
//
// Not thread-safe: one backward pass at a time calls MarkReady (LibTorch's
// autograd runs one device's hooks on one thread). Holds a copy of the
// plan's shape; the plan may be destroyed afterwards.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "atelier/trainer/gpu/gradient_buckets.h"

namespace atelier::trainer::gpu {

class BucketReadiness {
 public:
  explicit BucketReadiness(const BucketPlan& plan);

  // Marks parameter `param_index` (registration order) ready. Returns the
  // buckets released by this call, in launch order (often none, sometimes
  // several). InvalidArgument for an index out of range, FailedPrecondition
  // when the parameter was already marked in this iteration.
  absl::StatusOr<std::vector<int>> MarkReady(int param_index);

  // True once every bucket has been released in this iteration.
  bool AllLaunched() const { return next_launch_ == static_cast<int>(pending_in_bucket_.size()); }

  // Parameters not marked ready in this iteration (registration order), for
  // an error that names the parameters backward did not reach.
  std::vector<int> PendingParams() const;

  // Starts the next iteration: nothing ready, nothing launched.
  void Reset();

 private:
  std::vector<int> bucket_of_param_;
  std::vector<int> bucket_sizes_;        // parameters per bucket
  std::vector<int> pending_in_bucket_;   // parameters not yet ready, per bucket
  std::vector<bool> ready_;              // per parameter
  int next_launch_ = 0;
};

}  // namespace atelier::trainer::gpu
