// Two real atelier-trainer processes over Gloo (127.0.0.1) against one.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "atelier/common/status_matchers.h"
#include "atelier/testing/subprocess.h"
#include "atelier/testing/temp_dir.h"
#include "atelier/trainer/model_file.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "test_images.h"

namespace atelier::trainer {
namespace {

using ::atelier::testing::BinaryPath;
using ::atelier::testing::ChildProcess;
using ::atelier::testing::PickFreePort;
using ::atelier::testing::ReadFileOrEmpty;
using ::atelier::testing::RunCommand;
using ::atelier::testing::TempDir;
namespace fs = std::filesystem;

std::vector<std::string> Args(const fs::path& data, const fs::path& out) {
  // No batch norm (its statistics are per rank, as in PyTorch DDP) and no
  // dropout (per-rank masks); augmentation is per sample, so it stays on.
  return {BinaryPath("atelier-trainer").string(), "train", "--data", data.string(), "--out", out.string(),
          "--image-size", "10", "--width", "4", "--depth", "2", "--dropout", "0", "--no-batch-norm",
          "--epochs", "2", "--batch-size", "8", "--val-ratio", "0.2", "--threads", "1", "--decode-threads", "1",
          "--bucket-mb", "1", "--plain", "--connect-timeout", "120"};
}

TEST(MultiProcessTest, TwoGlooRanksTrainToTheSameWeightsAsOne) {
  TempDir dir;
  testing::WriteShard(dir / "data", 0, testing::ColourSamples(10, 10, 3));
  auto single = RunCommand(Args(dir / "data", dir / "one"));
  ASSERT_EQ(single.exit_code, 0) << single.output;

  std::string port = std::to_string(PickFreePort());
  std::map<std::string, std::string> env = {{"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", port}};
  auto env0 = env, env1 = env;
  env0["RANK"] = "0";
  env1["RANK"] = "1";
  // The ranks share a packed cache: rank 0 builds it, rank 1 maps it after.
  auto args = Args(dir / "data", dir / "two");
  args.insert(args.end(), {"--cache", (dir / "cache").string()});
  ChildProcess rank1(args, dir / "rank1.log", env1);
  auto rank0 = RunCommand(args, env0);
  ASSERT_EQ(rank0.exit_code, 0) << rank0.output << ReadFileOrEmpty(dir / "rank1.log");
  ASSERT_EQ(rank1.Wait(std::chrono::seconds(120)), 0) << ReadFileOrEmpty(dir / "rank1.log");
  EXPECT_NE(rank0.output.find("rank 0 of 2 (torchrun)"), std::string::npos) << rank0.output;
  EXPECT_NE(rank0.output.find("packed cache: wrote 30 images"), std::string::npos) << rank0.output;
  EXPECT_NE(ReadFileOrEmpty(dir / "rank1.log").find("packed cache: mapped 30 images"), std::string::npos)
      << ReadFileOrEmpty(dir / "rank1.log");

  ASSERT_OK_AND_ASSIGN(Classifier a, LoadModelFile(dir / "one" / "model.pt"));
  ASSERT_OK_AND_ASSIGN(Classifier b, LoadModelFile(dir / "two" / "model.pt"));
  auto sa = StateDict(*a), sb = StateDict(*b);
  ASSERT_EQ(sa.size(), sb.size());
  for (size_t i = 0; i < sa.size(); ++i) {
    EXPECT_LT((sa[i].second - sb[i].second).abs().max().item<double>(), 1e-5) << sa[i].first;
  }
  // Only rank 0 wrote, and the reduced metrics match the single rank's.
  EXPECT_EQ(ReadFileOrEmpty(dir / "one" / "metrics.jsonl").size() > 0, true);
  auto one = ReadFileOrEmpty(dir / "one" / "summary.json"), two = ReadFileOrEmpty(dir / "two" / "summary.json");
  EXPECT_EQ(nlohmann::json::parse(one)["eval"], nlohmann::json::parse(two)["eval"]);
}


// Finding 10: a rank that stops answering is named after --collective-timeout
// (not after the 300 s --connect-timeout).
TEST(MultiProcessTest, ARankThatStopsAnsweringIsNamedAfterTheCollectiveTimeout) {
  TempDir dir;
  testing::WriteShard(dir / "data", 0, testing::ColourSamples(20, 10, 3));
  std::string port = std::to_string(PickFreePort());
  std::map<std::string, std::string> env = {{"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", port}};
  auto env0 = env, env1 = env;
  env0["RANK"] = "0";
  env1["RANK"] = "1";
  auto args = Args(dir / "data", dir / "run");
  args = [&] {
    auto a = args;
    a[std::find(a.begin(), a.end(), "--epochs") - a.begin() + 1] = "1000";
    a.insert(a.end(), {"--collective-timeout", "3"});
    return a;
  }();
  ChildProcess rank1(args, dir / "rank1.log", env1);
  ChildProcess rank0(args, dir / "rank0.log", env0);
  // Wait (bounded) until the ranks train, then freeze rank 1.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (ReadFileOrEmpty(dir / "rank0.log").find("epoch 1 done") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline && rank0.running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_NE(ReadFileOrEmpty(dir / "rank0.log").find("epoch 1 done"), std::string::npos)
      << ReadFileOrEmpty(dir / "rank0.log");
  ASSERT_EQ(kill(rank1.pid(), SIGSTOP), 0);
  const auto stopped = std::chrono::steady_clock::now();
  EXPECT_EQ(rank0.Wait(std::chrono::seconds(60)), 1) << ReadFileOrEmpty(dir / "rank0.log");
  EXPECT_LT(std::chrono::steady_clock::now() - stopped, std::chrono::seconds(30));
  EXPECT_NE(ReadFileOrEmpty(dir / "rank0.log").find("rank(s) 1 stopped answering"), std::string::npos)
      << ReadFileOrEmpty(dir / "rank0.log");
  kill(rank1.pid(), SIGCONT);
}

}  // namespace
}  // namespace atelier::trainer
