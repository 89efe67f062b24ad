#include "atelier/trainer/gradient_sync.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "atelier/common/status_macros.h"

namespace atelier::trainer {

absl::StatusOr<std::unique_ptr<GradientSync>> GradientSync::Create(Collective& collective,
                                                                  std::vector<torch::Tensor> params,
                                                                  const GradientSyncOptions& options) {
  std::vector<gpu::ParamInfo> infos;
  for (size_t i = 0; i < params.size(); ++i) {
    const torch::Tensor& p = params[i];
    if (!p.defined() || !p.requires_grad()) {
      return absl::InvalidArgumentError(absl::StrCat("parameter ", i, " does not require a gradient"));
    }
    infos.push_back({absl::StrCat("parameter ", i), p.numel(), static_cast<int64_t>(p.element_size()),
                     std::string(c10::toString(p.scalar_type()))});
  }
  gpu::BucketOptions bucket_options;
  bucket_options.cap_bytes = options.bucket_bytes;
  bucket_options.first_cap_bytes = options.first_bucket_bytes;
  ASSIGN_OR_RETURN(gpu::BucketPlan plan, gpu::AssignBuckets(infos, bucket_options));
  std::unique_ptr<GradientSync> sync(new GradientSync(collective, std::move(params), std::move(plan)));
  if (collective.world_size() == 1) return sync;
  for (const gpu::Bucket& bucket : sync->plan_.buckets) {
    const torch::Tensor& first = sync->params_[bucket.entries.front().param_index];
    sync->flat_.push_back(torch::empty({bucket.numel}, first.options().requires_grad(false)));
  }
  sync->pending_.resize(sync->plan_.buckets.size());
  for (size_t i = 0; i < sync->params_.size(); ++i) {
    GradientSync* self = sync.get();
    int index = static_cast<int>(i);
    sync->hooks_.push_back(
        sync->params_[i].register_hook([self, index](torch::Tensor grad) { self->OnGradient(index, grad); }));
  }
  return sync;
}

GradientSync::GradientSync(Collective& collective, std::vector<torch::Tensor> params, gpu::BucketPlan plan)
    : collective_(collective), params_(std::move(params)), plan_(std::move(plan)), readiness_(plan_) {}

GradientSync::~GradientSync() {
  for (size_t i = 0; i < hooks_.size(); ++i) params_[i].remove_hook(hooks_[i]);
  // Never leave a started collective behind: its buffer is about to go.
  for (auto& pending : pending_) {
    if (pending) pending->Wait().IgnoreError();
  }
}

torch::Tensor GradientSync::Slot(int param_index) {
  const int b = plan_.bucket_of_param[param_index];
  const gpu::BucketEntry& entry = plan_.buckets[b].entries[plan_.entry_of_param[param_index]];
  return flat_[b].narrow(0, entry.offset, entry.numel);
}

void GradientSync::OnGradient(int param_index, const torch::Tensor& grad) {
  if (!hook_error_.ok()) return;
  {
    torch::NoGradGuard no_grad;
    Slot(param_index).view(grad.sizes()).copy_(grad);
  }
  if (absl::Status status = MarkReady(param_index); !status.ok()) hook_error_ = status;
}

absl::Status GradientSync::MarkReady(int param_index) {
  ASSIGN_OR_RETURN(std::vector<int> released, readiness_.MarkReady(param_index));
  for (int b : released) {
    ASSIGN_OR_RETURN(pending_[b], collective_.StartAllReduceSum(flat_[b]),
                     _.prefix(absl::StrCat("gradient bucket ", b)));
    ++started_;
  }
  return absl::OkStatus();
}

absl::Status GradientSync::Finish() {
  if (collective_.world_size() == 1) return absl::OkStatus();
  started_during_backward_ = started_;
  absl::Status status = hook_error_;
  if (status.ok() && !readiness_.AllLaunched()) {
    // Parameters backward did not reach (an unused head) send zeros.
    for (int p : readiness_.PendingParams()) {
      Slot(p).zero_();
      status = MarkReady(p);
      if (!status.ok()) break;
    }
  }
  // Wait for everything started, even after an error (buffers stay valid).
  for (size_t b = 0; b < pending_.size(); ++b) {
    if (!pending_[b]) continue;
    absl::Status waited = pending_[b]->Wait();
    pending_[b].reset();
    if (status.ok() && !waited.ok()) {
      status = absl::Status(waited.code(), absl::StrCat("gradient bucket ", b, ": ", waited.message()));
    }
  }
  readiness_.Reset();
  hook_error_ = absl::OkStatus();
  started_ = 0;
  RETURN_IF_ERROR(status);

  torch::NoGradGuard no_grad;
  const double scale = 1.0 / collective_.world_size();
  for (torch::Tensor& flat : flat_) flat.mul_(scale);
  for (size_t i = 0; i < params_.size(); ++i) {
    torch::Tensor& param = params_[i];
    if (!param.grad().defined()) param.mutable_grad() = torch::zeros_like(param);
    param.mutable_grad().copy_(Slot(static_cast<int>(i)).view(param.sizes()));
  }
  return absl::OkStatus();
}

}  // namespace atelier::trainer
