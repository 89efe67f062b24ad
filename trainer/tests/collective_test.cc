// Data-parallel logic with the in-process collective (threads as ranks).
#include <atomic>
#include <fstream>
#include <thread>

#include <torch/torch.h>

#include "atelier/common/status_matchers.h"
#include "atelier/testing/temp_dir.h"
#include "atelier/trainer/collective.h"
#include "atelier/trainer/image_set.h"
#include "atelier/trainer/in_process_collective.h"
#include "atelier/trainer/inference.h"
#include "atelier/trainer/model_file.h"
#include "atelier/trainer/trainer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "test_images.h"

namespace atelier::trainer {
namespace {

using ::atelier::testing::StatusIs;
using ::atelier::testing::TempDir;

TEST(CollectiveTest, BroadcastCopiesRootValues) {
  InProcessHub hub(3);
  std::vector<torch::Tensor> values = {torch::full({2}, 0.f), torch::full({2}, 1.f), torch::full({2}, 2.f)};
  std::vector<std::thread> threads;
  for (int r = 0; r < 3; ++r) {
    threads.emplace_back([&, r] {
      auto member = hub.Member(r);
      EXPECT_TRUE(BroadcastTensors(*member, {values[r]}, 1).ok());
    });
  }
  for (auto& t : threads) t.join();
  for (int r = 0; r < 3; ++r) EXPECT_TRUE(torch::equal(values[r], torch::full({2}, 1.f)));
}

// A rank whose peers never arrive (their thread gave up) fails with
// DeadlineExceeded instead of hanging the test.
TEST(CollectiveTest, InProcessHubTimesOutAMemberLeftAlone) {
  InProcessHub hub(2, absl::Milliseconds(50));
  auto member = hub.Member(0);
  EXPECT_THAT(member->Barrier(), StatusIs(absl::StatusCode::kDeadlineExceeded));
}

// Runs Train on two in-process ranks with per-rank options.
std::vector<absl::StatusOr<TrainResult>> TrainTwoRanks(const TrainOptions& rank0, const TrainOptions& rank1) {
  InProcessHub hub(2);
  std::vector<absl::StatusOr<TrainResult>> results(2, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      auto member = hub.Member(r);
      results[r] = Train(r == 0 ? rank0 : rank1, *member);
    });
  }
  for (auto& t : threads) t.join();
  return results;
}

std::vector<nlohmann::json> MetricsOf(const std::filesystem::path& run) {
  std::vector<nlohmann::json> out;
  std::ifstream in(run / "metrics.jsonl");
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

// Finding 6: with batch norm on two ranks, the logged val metrics are those
// of the saved model (rank 0's BN buffers are broadcast before validation).
TEST(CollectiveTest, TwoRanksWithBatchNormLogTheValMetricsOfTheSavedModel) {
  TempDir dir;
  testing::WriteShard(dir / "data", 0, testing::ColourSamples(16, 8, 9));
  TrainOptions options = testing::SmallTrainOptions(dir / "data", dir / "run");
  options.batch_norm = true;
  auto results = TrainTwoRanks(options, options);
  ASSERT_OK(results[0].status());
  ASSERT_OK(results[1].status());
  auto metrics = MetricsOf(dir / "run");
  ASSERT_EQ(metrics.size(), 2u);
  ASSERT_OK_AND_ASSIGN(Classifier model, LoadModelFile(dir / "run" / "model.pt"));
  LoadOptions load;
  load.image_size = model->config.image_size;
  load.channels = model->config.in_channels;
  ASSERT_OK_AND_ASSIGN(ImageSet set, LoadDatasetRoot(dir / "data", load));
  std::vector<int32_t> targets = BuildTargets(set, model->config.labels);
  ASSERT_OK_AND_ASSIGN(SplitOptions split, FindRunSplit(dir / "run"));
  ASSERT_OK_AND_ASSIGN(SplitPlan plan, SplitImageSet(set, model->config.labels, targets, split));
  std::vector<int64_t> val;
  for (int64_t i = 0; i < set.size(); ++i) {
    if (plan.of[i] == Split::kVal) val.push_back(i);
  }
  ASSERT_FALSE(val.empty());
  ASSERT_OK_AND_ASSIGN(EvalResult eval, Evaluate(model, set, targets, val, {1.0}, 256, nullptr));
  EXPECT_NEAR(eval.loss[0], metrics[1]["val"]["colour"]["loss"].get<double>(), 1e-5);
  EXPECT_NEAR(eval.confusion[0].Accuracy(), metrics[1]["val"]["colour"]["accuracy"].get<double>(), 1e-9);
}

// Finding 7: ranks with other options or other data refuse to start, on
// every rank, naming the difference, before step 1.
TEST(CollectiveTest, MismatchedRanksAreRefusedBeforeTheFirstStep) {
  TempDir dir;
  testing::WriteShard(dir / "data", 0, testing::ColourSamples(8, 8, 10));
  TrainOptions a = testing::SmallTrainOptions(dir / "data", dir / "run");
  TrainOptions b = a;
  b.lr = a.lr * 2;
  auto results = TrainTwoRanks(a, b);
  for (int r = 0; r < 2; ++r) {
    EXPECT_THAT(results[r].status(), StatusIs(absl::StatusCode::kFailedPrecondition)) << r;
    EXPECT_THAT(results[r].status().message(), ::testing::HasSubstr("--lr")) << results[r].status();
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "run" / "metrics.jsonl"));
  EXPECT_FALSE(std::filesystem::exists(dir / "run" / "checkpoints" / "latest"));

  // One rank sees one more shard (a crawler still writing).
  std::filesystem::copy(dir / "data", dir / "more", std::filesystem::copy_options::recursive);
  testing::WriteShard(dir / "more", 1, testing::ColourSamples(2, 8, 11, "x"));
  TrainOptions c = a;
  c.data_root = dir / "more";
  results = TrainTwoRanks(a, c);
  for (int r = 0; r < 2; ++r) {
    EXPECT_THAT(results[r].status(), StatusIs(absl::StatusCode::kFailedPrecondition)) << r;
    EXPECT_THAT(results[r].status().message(), ::testing::HasSubstr("shards")) << results[r].status();
    EXPECT_THAT(results[r].status().message(), ::testing::HasSubstr("samples")) << results[r].status();
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "run" / "metrics.jsonl"));
}

// Finding 10: the library takes a stop token; one set before training starts
// (a signal during start-up) checkpoints after the first step.
TEST(CollectiveTest, StopTokenSetDuringStartUpCheckpointsAndReturns75) {
  TempDir dir;
  testing::WriteShard(dir / "data", 0, testing::ColourSamples(8, 8, 12));
  TrainOptions options = testing::SmallTrainOptions(dir / "data", dir / "run");
  std::atomic<bool> stop{true};
  options.stop = &stop;
  SingleProcessCollective single;
  ASSERT_OK_AND_ASSIGN(TrainResult result, Train(options, single));
  EXPECT_EQ(result.exit_code, kExitCheckpointedOnSignal);
  EXPECT_EQ(result.global_step, 1);
  CheckpointStore store(dir / "run" / "checkpoints", 3);
  EXPECT_TRUE(store.Latest().has_value());
}

struct DataPath {
  const char* name;
  bool on_device;
  bool channels_last;
};

void PrintTo(const DataPath& path, std::ostream* os) { *os << path.name; }

class TwoRanksTest : public ::testing::TestWithParam<DataPath> {};

// Whole training runs: gradients averaged by GradientSync's hooks during
// backward (many small buckets) give the same weights as one rank with the
// whole batch, on the host data path and on the device data path (conversion
// and affine augmentation by PrepareImages, channels-last).
TEST_P(TwoRanksTest, TwoInProcessRanksTrainLikeOneRank) {
  TempDir dir;
  testing::WriteShard(dir / "data", 0, testing::ColourSamples(12, 8, 5));
  TrainOptions options;
  options.data_root = dir / "data";
  options.image_size = 8;
  options.width = 4;
  options.depth = 1;
  options.dropout = 0;
  options.batch_norm = false;  // BN statistics are per rank, as in PyTorch DDP
  options.augment = true;      // per-sample RNG: identical on any number of ranks
  options.epochs = 2;
  options.batch_size = 8;
  options.split.val_ratio = 0;
  options.threads = 1;
  options.decode_threads = 1;
  options.bucket_bytes = 64;  // many buckets
  options.first_bucket_bytes = 32;
  options.augment_on_device = GetParam().on_device;
  options.channels_last = GetParam().channels_last;
  options.out_dir = dir / "one";
  SingleProcessCollective single;
  ASSERT_OK_AND_ASSIGN(TrainResult one, Train(options, single));
  EXPECT_EQ(one.exit_code, 0);

  options.out_dir = dir / "two";
  InProcessHub hub(2);
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      auto member = hub.Member(r);
      auto result = Train(options, *member);
      EXPECT_TRUE(result.ok()) << result.status();
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_OK_AND_ASSIGN(Classifier a, LoadModelFile(dir / "one" / "model.pt"));
  ASSERT_OK_AND_ASSIGN(Classifier b, LoadModelFile(dir / "two" / "model.pt"));
  auto sa = StateDict(*a), sb = StateDict(*b);
  ASSERT_EQ(sa.size(), sb.size());
  for (size_t i = 0; i < sa.size(); ++i) {
    EXPECT_LT((sa[i].second - sb[i].second).abs().max().item<double>(), 1e-5) << sa[i].first;
  }
  // And training moved the weights at all.
  torch::manual_seed(options.seed);
  ModelConfig config = a->config;
  Classifier fresh(config);
  double moved = 0;
  auto sf = StateDict(*fresh);
  for (size_t i = 0; i < sa.size(); ++i) moved += (sa[i].second - sf[i].second).abs().sum().item<double>();
  EXPECT_GT(moved, 1e-3);
}

INSTANTIATE_TEST_SUITE_P(Paths, TwoRanksTest,
                         ::testing::Values(DataPath{"Host", false, false}, DataPath{"DeviceChannelsLast", true, true}),
                         [](const ::testing::TestParamInfo<DataPath>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace atelier::trainer
