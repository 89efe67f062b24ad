#include "atelier/trainer/in_process_collective.h"

#include "absl/strings/str_cat.h"
#include "atelier/common/status_macros.h"

namespace atelier::trainer {

class InProcessMember : public Collective {
 public:
  InProcessMember(InProcessHub* hub, int rank) : hub_(hub), rank_(rank) {}
  int rank() const override { return rank_; }
  int world_size() const override { return hub_->world_size_; }
  absl::Status Broadcast(std::vector<torch::Tensor>& tensors, int root) override {
    ASSIGN_OR_RETURN(auto out, hub_->Exchange(rank_, tensors, /*sum=*/false, root));
    for (size_t i = 0; i < tensors.size(); ++i) tensors[i].copy_(out[i]);
    return absl::OkStatus();
  }
  absl::Status AllReduceSum(torch::Tensor& tensor) override {
    ASSIGN_OR_RETURN(auto out, hub_->Exchange(rank_, {tensor}, /*sum=*/true, 0));
    tensor.copy_(out[0]);
    return absl::OkStatus();
  }
  absl::Status Barrier() override {
    return hub_->Exchange(rank_, {}, false, 0).status();
  }

 private:
  InProcessHub* hub_;
  int rank_;
};

InProcessHub::InProcessHub(int world_size, absl::Duration timeout)
    : world_size_(world_size), timeout_(timeout), slots_(world_size) {}

std::unique_ptr<Collective> InProcessHub::Member(int rank) { return std::make_unique<InProcessMember>(this, rank); }

absl::StatusOr<std::vector<torch::Tensor>> InProcessHub::Exchange(int rank, std::vector<torch::Tensor> contribution,
                                                                  bool sum, int root) {
  auto timed_out = [&] {
    return absl::DeadlineExceededError(absl::StrCat("in-process collective: rank ", rank, " waited ",
                                                    absl::FormatDuration(timeout_), " for the other ranks"));
  };
  absl::MutexLock lock(&mu_);
  // Wait until the previous round has been collected by everyone.
  auto collected = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return departed_ == 0 || departed_ == world_size_; };
  if (!mu_.AwaitWithTimeout(absl::Condition(&collected), timeout_)) return timed_out();
  if (departed_ == world_size_) {
    departed_ = 0;
  }
  std::vector<torch::Tensor> copies;
  for (const auto& t : contribution) copies.push_back(t.detach().clone());
  slots_[rank] = std::move(copies);
  int64_t my_generation = generation_;
  if (++arrived_ == world_size_) {
    result_.clear();
    if (sum) {
      for (size_t i = 0; i < slots_[0].size(); ++i) {
        torch::Tensor total = slots_[0][i].clone();
        for (int r = 1; r < world_size_; ++r) total.add_(slots_[r][i]);
        result_.push_back(total);
      }
    } else {
      result_ = slots_[root];
    }
    arrived_ = 0;
    ++generation_;
  } else {
    auto computed = [this, my_generation]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return generation_ != my_generation; };
    if (!mu_.AwaitWithTimeout(absl::Condition(&computed), timeout_)) return timed_out();
  }
  std::vector<torch::Tensor> out = result_;
  ++departed_;
  return out;
}

}  // namespace atelier::trainer
