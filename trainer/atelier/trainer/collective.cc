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

namespace {

class CompletedCollective : public PendingCollective {
 public:
  explicit CompletedCollective(absl::Status status) : status_(std::move(status)) {}
  absl::Status Wait() override { return status_; }

 private:
  absl::Status status_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<PendingCollective>> Collective::StartAllReduceSum(torch::Tensor tensor) {
  return std::unique_ptr<PendingCollective>(std::make_unique<CompletedCollective>(AllReduceSum(tensor)));
}

}  // namespace atelier::trainer
