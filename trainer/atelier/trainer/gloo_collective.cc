#include "atelier/trainer/gloo_collective.h"

#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

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

// After a failed collective: every live rank marks itself in the store and
// waits up to `grace` for the others; returns " ranks that did not answer"
// text, or "" when all answered (the failure was something else).
std::string SilentRanks(c10d::Store& store, int rank, int world, std::chrono::seconds collective_timeout) {
  const auto grace = std::chrono::seconds(5);
  try {
    store.setTimeout(grace);
    store.set(absl::StrCat("atelier/failed/", rank), std::vector<uint8_t>{1});
    std::vector<int> silent;
    const auto deadline = std::chrono::steady_clock::now() + grace;
    for (int r = 0; r < world; ++r) {
      const std::string key = absl::StrCat("atelier/failed/", r);
      while (!store.check({key}) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (!store.check({key})) silent.push_back(r);
    }
    if (silent.empty()) return "";
    std::string names;
    for (int r : silent) absl::StrAppend(&names, names.empty() ? "" : ", ", r);
    return absl::StrCat("; rank(s) ", names, " stopped answering (no reply within --collective-timeout ",
                        collective_timeout.count(), " s)");
  } catch (const std::exception&) {
    // The store itself is gone: it is served by rank 0.
    return rank == 0 ? "" : absl::StrCat("; rank 0 (which serves the rendezvous store) stopped answering");
  }
}

// A started c10d operation; Wait() blocks on it. `explain` adds the silent
// ranks to a failure.
class PendingWork : public PendingCollective {
 public:
  PendingWork(c10::intrusive_ptr<c10d::Work> work, int rank, std::function<absl::Status(absl::Status)> explain)
      : work_(std::move(work)), rank_(rank), explain_(std::move(explain)) {}
  absl::Status Wait() override {
    absl::Status status = RunC10d("allreduce", rank_, [&] { work_->wait(); });
    return status.ok() ? status : explain_(status);
  }

 private:
  c10::intrusive_ptr<c10d::Work> work_;
  int rank_;
  std::function<absl::Status(absl::Status)> explain_;
};

class ProcessGroupCollective : public Collective {
 public:
  ProcessGroupCollective(c10::intrusive_ptr<c10d::Store> store, c10::intrusive_ptr<c10d::ProcessGroup> group,
                         int rank, int world, std::chrono::seconds collective_timeout)
      : store_(std::move(store)),
        group_(std::move(group)),
        rank_(rank),
        world_(world),
        collective_timeout_(collective_timeout) {}

  int rank() const override { return rank_; }
  int world_size() const override { return world_; }

  absl::Status Broadcast(std::vector<torch::Tensor>& tensors, int root) override {
    return Run("broadcast", [&] {
      for (auto& t : tensors) {
        std::vector<torch::Tensor> one = {t};
        c10d::BroadcastOptions options;
        options.rootRank = root;
        options.timeout = timeout_ms();
        group_->broadcast(one, options)->wait();
      }
    });
  }
  absl::Status AllReduceSum(torch::Tensor& tensor) override {
    return Run("allreduce", [&] {
      std::vector<torch::Tensor> one = {tensor};
      c10d::AllreduceOptions options;
      options.timeout = timeout_ms();
      group_->allreduce(one, options)->wait();
    });
  }
  absl::Status Barrier() override {
    return Run("barrier", [&] {
      c10d::BarrierOptions options;
      options.timeout = timeout_ms();
      group_->barrier(options)->wait();
    });
  }
  absl::StatusOr<std::unique_ptr<PendingCollective>> StartAllReduceSum(torch::Tensor tensor) override {
    c10::intrusive_ptr<c10d::Work> work;
    absl::Status started = Run("allreduce", [&] {
      std::vector<torch::Tensor> one = {tensor};
      c10d::AllreduceOptions options;
      options.timeout = timeout_ms();
      work = group_->allreduce(one, options);
    });
    if (!started.ok()) return started;
    return std::unique_ptr<PendingCollective>(
        std::make_unique<PendingWork>(std::move(work), rank_, [this](absl::Status s) { return Explain(s); }));
  }

 private:
  std::chrono::milliseconds timeout_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(collective_timeout_);
  }
  template <typename F>
  absl::Status Run(const char* what, F&& f) {
    absl::Status status = RunC10d(what, rank_, std::forward<F>(f));
    return status.ok() ? status : Explain(status);
  }
  absl::Status Explain(const absl::Status& failed) {
    return absl::UnavailableError(
        absl::StrCat(failed.message(), SilentRanks(*store_, rank_, world_, collective_timeout_)));
  }
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::ProcessGroup> group_;
  int rank_, world_;
  std::chrono::seconds collective_timeout_;
};

bool IsLoopback(const std::string& addr) {
  return addr == "localhost" || addr == "::1" || addr.rfind("127.", 0) == 0;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Collective>> ConnectGloo(const LaunchInfo& launch, std::chrono::seconds connect_timeout,
                                                        std::chrono::seconds collective_timeout) {
  if (launch.world_size == 1) return std::unique_ptr<Collective>(std::make_unique<SingleProcessCollective>());
  try {
    c10::intrusive_ptr<c10d::Store> store = JoinRendezvousStore(launch, connect_timeout);
    auto options = c10d::ProcessGroupGloo::Options::create();
    // Gloo's transport waits this long for a peer in every operation (the
    // per-operation timeouts below are not enough on their own). The mesh is
    // connected after every rank has joined the store, so it needs no more.
    options->timeout = std::chrono::duration_cast<std::chrono::milliseconds>(collective_timeout);
    if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname != nullptr && *ifname != '\0') {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    } else if (IsLoopback(launch.master_addr)) {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    } else {
      options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    c10::intrusive_ptr<c10d::ProcessGroup> group =
        c10::make_intrusive<c10d::ProcessGroupGloo>(store, launch.rank, launch.world_size, options);
    return std::unique_ptr<Collective>(std::make_unique<ProcessGroupCollective>(store, group, launch.rank,
                                                                                launch.world_size, collective_timeout));
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("cannot join the process group at ", launch.master_addr, ":",
                                               launch.master_port, " as rank ", launch.rank, " of ",
                                               launch.world_size, ": ", e.what()));
  }
}

}  // namespace atelier::trainer
