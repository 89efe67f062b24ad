// Data-parallel logic with the in-process collective (threads as ranks).
#include <thread>

#include <torch/torch.h>

#include "atelier/common/status_matchers.h"
#include "atelier/testing/temp_dir.h"
#include "atelier/trainer/collective.h"
#include "atelier/trainer/in_process_collective.h"
#include "atelier/trainer/model_file.h"
#include "atelier/trainer/trainer.h"
#include "gtest/gtest.h"
#include "test_images.h"

namespace atelier::trainer {
namespace {

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
