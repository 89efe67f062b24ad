#include "atelier/trainer/gpu/bucket_readiness.h"

#include "absl/strings/str_cat.h"

namespace atelier::trainer::gpu {

BucketReadiness::BucketReadiness(const BucketPlan& plan) : bucket_of_param_(plan.bucket_of_param) {
  bucket_sizes_.reserve(plan.buckets.size());
  for (const Bucket& b : plan.buckets) bucket_sizes_.push_back(static_cast<int>(b.entries.size()));
  Reset();
}

void BucketReadiness::Reset() {
  pending_in_bucket_ = bucket_sizes_;
  ready_.assign(bucket_of_param_.size(), false);
  next_launch_ = 0;
}

absl::StatusOr<std::vector<int>> BucketReadiness::MarkReady(int param_index) {
  if (param_index < 0 || static_cast<size_t>(param_index) >= ready_.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("parameter index ", param_index, " out of range [0, ", ready_.size(), ")"));
  }
  if (ready_[param_index]) {
    return absl::FailedPreconditionError(
        absl::StrCat("parameter ", param_index, " marked ready twice in one iteration"));
  }
  ready_[param_index] = true;
  --pending_in_bucket_[bucket_of_param_[param_index]];
  std::vector<int> released;
  const int n = static_cast<int>(pending_in_bucket_.size());
  while (next_launch_ < n && pending_in_bucket_[next_launch_] == 0) released.push_back(next_launch_++);
  return released;
}

std::vector<int> BucketReadiness::PendingParams() const {
  std::vector<int> pending;
  for (size_t i = 0; i < ready_.size(); ++i) {
    if (!ready_[i]) pending.push_back(static_cast<int>(i));
  }
  return pending;
}

}  // namespace atelier::trainer::gpu
