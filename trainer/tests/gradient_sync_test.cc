// GradientSync: bucketed gradient averaging started from backward's hooks.
#include "atelier/trainer/gradient_sync.h"

#include <thread>

#include <torch/torch.h>

#include "atelier/common/status_matchers.h"
#include "atelier/trainer/in_process_collective.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace atelier::trainer {
namespace {

// A small MLP whose parameters are created from a fixed seed, so that every
// rank starts from the same weights. The unused layer is registered first, so
// its gradients would come last in backward: its bucket is the last one.
struct Net {
  torch::nn::Linear a{nullptr}, b{nullptr}, unused{nullptr};
  std::vector<torch::Tensor> params;
  Net() {
    // The global generator is shared by the threads playing ranks.
    static absl::Mutex mu(absl::kConstInit);
    absl::MutexLock lock(&mu);
    torch::manual_seed(7);
    a = torch::nn::Linear(6, 16);
    b = torch::nn::Linear(16, 3);
    unused = torch::nn::Linear(2, 2);
    for (auto* m : {&unused, &a, &b}) {
      for (auto& p : (*m)->parameters()) params.push_back(p);
    }
  }
  torch::Tensor Loss(const torch::Tensor& x) { return b(torch::relu(a(x))).pow(2).mean(); }
};

torch::Tensor Inputs(int rank) {
  return torch::linspace(-1.0 + rank, 1.0 + rank, 4 * 6).reshape({4, 6});
}

// Gradients of each rank's loss alone, in one process, for the expected average.
std::vector<torch::Tensor> GradsOf(const torch::Tensor& x) {
  Net net;
  net.Loss(x).backward();
  std::vector<torch::Tensor> grads;
  for (auto& p : net.params) grads.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
  return grads;
}

TEST(GradientSyncTest, AveragesGradientsOverRanksWhileBackwardRuns) {
  const int world = 3;
  std::vector<std::vector<torch::Tensor>> expected_parts;
  for (int r = 0; r < world; ++r) expected_parts.push_back(GradsOf(Inputs(r)));

  InProcessHub hub(world);
  std::vector<std::vector<torch::Tensor>> got(world);
  std::vector<int> started(world), buckets(world);
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      auto member = hub.Member(r);
      Net net;
      GradientSyncOptions options;
      options.bucket_bytes = 64 * 4;  // several buckets
      options.first_bucket_bytes = 3 * 4;
      auto sync = GradientSync::Create(*member, net.params, options);
      if (!sync.ok()) {  // no ASSERT in a helper thread; the other ranks time out in the hub
        ADD_FAILURE() << "rank " << r << ": " << sync.status();
        return;
      }
      for (int step = 0; step < 2; ++step) {  // the second step reuses the buffers
        for (auto& p : net.params) {
          if (p.grad().defined()) p.mutable_grad().zero_();
        }
        net.Loss(Inputs(r)).backward();
        if (absl::Status finished = (*sync)->Finish(); !finished.ok()) {
          ADD_FAILURE() << "rank " << r << ": " << finished;
          return;
        }
      }
      started[r] = (*sync)->started_during_backward();
      buckets[r] = (*sync)->num_buckets();
      for (auto& p : net.params) got[r].push_back(p.grad().clone());
    });
  }
  for (auto& t : threads) t.join();
  for (int r = 0; r < world; ++r) {
    ASSERT_EQ(got[r].size(), expected_parts[0].size());
    EXPECT_GT(buckets[r], 2);
    // Every bucket holding a used parameter was started from a hook, before
    // Finish(); only the unused layer's bucket waits for Finish().
    EXPECT_EQ(started[r], buckets[r] - 1) << "rank " << r;
    for (size_t i = 0; i < got[r].size(); ++i) {
      torch::Tensor mean = (expected_parts[0][i] + expected_parts[1][i] + expected_parts[2][i]) / world;
      EXPECT_TRUE(torch::allclose(got[r][i], mean, 1e-5, 1e-6)) << "rank " << r << " param " << i;
    }
  }
  // The unused layer ends with a defined zero gradient on every rank.
  EXPECT_TRUE(torch::equal(got[0][0], torch::zeros_like(got[0][0])));
  EXPECT_TRUE(torch::equal(got[2][1], torch::zeros_like(got[2][1])));
}

TEST(GradientSyncTest, WorldOfOneLeavesGradientsAlone) {
  SingleProcessCollective single;
  Net net;
  ASSERT_OK_AND_ASSIGN(auto sync, GradientSync::Create(single, net.params, {}));
  net.Loss(Inputs(0)).backward();
  torch::Tensor before = net.params.back().grad().clone();
  ASSERT_OK(sync->Finish());
  EXPECT_TRUE(torch::equal(net.params.back().grad(), before));
  EXPECT_FALSE(net.params[0].grad().defined());  // no zero-filling without peers
}

// A collective whose allreduce fails: the error reaches Finish(), naming the bucket.
class FailingCollective : public Collective {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 2; }
  absl::Status Broadcast(std::vector<torch::Tensor>&, int) override { return absl::OkStatus(); }
  absl::Status AllReduceSum(torch::Tensor&) override { return absl::UnavailableError("peer 1 went away"); }
  absl::Status Barrier() override { return absl::OkStatus(); }
};

TEST(GradientSyncTest, CollectiveErrorsComeBackFromFinish) {
  FailingCollective failing;
  Net net;
  ASSERT_OK_AND_ASSIGN(auto sync, GradientSync::Create(failing, net.params, {}));
  net.Loss(Inputs(0)).backward();
  absl::Status status = sync->Finish();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("peer 1 went away"), std::string::npos) << status;
  EXPECT_NE(status.message().find("gradient bucket"), std::string::npos) << status;
}

TEST(GradientSyncTest, RejectsParametersWithoutGradients) {
  SingleProcessCollective single;
  std::vector<torch::Tensor> params = {torch::zeros({3})};
  auto sync = GradientSync::Create(single, params, {});
  EXPECT_EQ(sync.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace atelier::trainer
