#include "atelier/trainer/collective.h"

#include <map>

namespace atelier::trainer {

absl::Status BroadcastTensors(Collective& collective, const std::vector<torch::Tensor>& tensors, int root) {
  if (collective.world_size() == 1 || tensors.empty()) return absl::OkStatus();
  std::map<int, std::vector<torch::Tensor>> by_dtype;
  for (const auto& t : tensors) by_dtype[static_cast<int>(t.scalar_type())].push_back(t);
  torch::NoGradGuard no_grad;
  for (auto& [dtype, group] : by_dtype) {
    std::vector<torch::Tensor> flat_parts;
    for (const auto& t : group) flat_parts.push_back(t.detach().reshape({-1}));
    std::vector<torch::Tensor> flat = {torch::cat(flat_parts).contiguous()};
    if (absl::Status s = collective.Broadcast(flat, root); !s.ok()) return s;
    int64_t offset = 0;
    for (auto& t : group) {
      int64_t n = t.numel();
      t.detach().copy_(flat[0].narrow(0, offset, n).view(t.sizes()));
      offset += n;
    }
  }
  return absl::OkStatus();
}

absl::Status AllReduceGradients(Collective& collective, const std::vector<torch::Tensor>& params,
                                int64_t bucket_bytes) {
  if (collective.world_size() == 1) return absl::OkStatus();
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads;
  for (const auto& p : params) {
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    grads.push_back(p.grad());
  }
  const double scale = 1.0 / collective.world_size();
  size_t i = 0;
  while (i < grads.size()) {
    std::vector<torch::Tensor> bucket;
    int64_t bytes = 0;
    while (i < grads.size() && (bucket.empty() || bytes + static_cast<int64_t>(grads[i].nbytes()) <= bucket_bytes)) {
      bytes += static_cast<int64_t>(grads[i].nbytes());
      bucket.push_back(grads[i++]);
    }
    std::vector<torch::Tensor> flat_parts;
    for (const auto& g : bucket) flat_parts.push_back(g.reshape({-1}));
    torch::Tensor flat = torch::cat(flat_parts).contiguous();
    if (absl::Status s = collective.AllReduceSum(flat); !s.ok()) return s;
    flat.mul_(scale);
    int64_t offset = 0;
    for (auto& g : bucket) {
      g.copy_(flat.narrow(0, offset, g.numel()).view(g.sizes()));
      offset += g.numel();
    }
  }
  return absl::OkStatus();
}

}  // namespace atelier::trainer
