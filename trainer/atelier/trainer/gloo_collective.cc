#include "atelier/trainer/gloo_collective.h"

#include <cstdlib>

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>

#include "absl/strings/str_cat.h"
#include "atelier/trainer/rendezvous_store.h"

namespace atelier::trainer {
namespace {

// Runs a c10d call; its exceptions become Unavailable naming the call and rank.
template <typename F>
absl::Status RunC10d(const char* what, int rank, F&& f) {
  try {
    f();
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("c10d ", what, " failed on rank ", rank, ": ", e.what()));
  }
}

// A started c10d operation; Wait() blocks on it.
class PendingWork : public PendingCollective {
 public:
  PendingWork(c10::intrusive_ptr<c10d::Work> work, int rank) : work_(std::move(work)), rank_(rank) {}
  absl::Status Wait() override {
    return RunC10d("allreduce", rank_, [&] { work_->wait(); });
  }

 private:
  c10::intrusive_ptr<c10d::Work> work_;
  int rank_;
};

class ProcessGroupCollective : public Collective {
 public:
  ProcessGroupCollective(c10::intrusive_ptr<c10d::Store> store, c10::intrusive_ptr<c10d::ProcessGroup> group,
                         int rank, int world)
      : store_(std::move(store)), group_(std::move(group)), rank_(rank), world_(world) {}

  int rank() const override { return rank_; }
  int world_size() const override { return world_; }

  absl::Status Broadcast(std::vector<torch::Tensor>& tensors, int root) override {
    return Run("broadcast", [&] {
      for (auto& t : tensors) {
        std::vector<torch::Tensor> one = {t};
        c10d::BroadcastOptions options;
        options.rootRank = root;
        group_->broadcast(one, options)->wait();
      }
    });
  }
  absl::Status AllReduceSum(torch::Tensor& tensor) override {
    return Run("allreduce", [&] {
      std::vector<torch::Tensor> one = {tensor};
      group_->allreduce(one)->wait();
    });
  }
  absl::Status Barrier() override {
    return Run("barrier", [&] { group_->barrier()->wait(); });
  }
  absl::StatusOr<std::unique_ptr<PendingCollective>> StartAllReduceSum(torch::Tensor tensor) override {
    c10::intrusive_ptr<c10d::Work> work;
    absl::Status started = Run("allreduce", [&] {
      std::vector<torch::Tensor> one = {tensor};
      work = group_->allreduce(one);
    });
    if (!started.ok()) return started;
    return std::unique_ptr<PendingCollective>(std::make_unique<PendingWork>(std::move(work), rank_));
  }

 private:
  template <typename F>
  absl::Status Run(const char* what, F&& f) {
    return RunC10d(what, rank_, std::forward<F>(f));
  }
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::ProcessGroup> group_;
  int rank_, world_;
};

bool IsLoopback(const std::string& addr) {
  return addr == "localhost" || addr == "::1" || addr.rfind("127.", 0) == 0;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Collective>> ConnectGloo(const LaunchInfo& launch,
                                                              std::chrono::seconds timeout) {
  if (launch.world_size == 1) return std::unique_ptr<Collective>(std::make_unique<SingleProcessCollective>());
  try {
    c10::intrusive_ptr<c10d::Store> store = JoinRendezvousStore(launch, timeout);
    auto options = c10d::ProcessGroupGloo::Options::create();
    options->timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
    if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname != nullptr && *ifname != '\0') {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    } else if (IsLoopback(launch.master_addr)) {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    } else {
      options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    c10::intrusive_ptr<c10d::ProcessGroup> group =
        c10::make_intrusive<c10d::ProcessGroupGloo>(store, launch.rank, launch.world_size, options);
    return std::unique_ptr<Collective>(
        std::make_unique<ProcessGroupCollective>(store, group, launch.rank, launch.world_size));
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("cannot join the process group at ", launch.master_addr, ":",
                                               launch.master_port, " as rank ", launch.rank, " of ",
                                               launch.world_size, ": ", e.what()));
  }
}

}  // namespace atelier::trainer
