// `atelier sweep` end to end with the real atelier-trainer (found next to
// atelier, as users run it): two trials of two epochs on 256 Fashion-MNIST
// images, ASHA with a rung at epoch 1.
#include <filesystem>
#include <string>

#include "atelier/testing/subprocess.h"
#include "atelier/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace atelier {
namespace {

namespace fs = std::filesystem;
using ::atelier::testing::BinaryPath;
using ::atelier::testing::ReadFileOrEmpty;
using ::atelier::testing::RunCommand;
using ::testing::HasSubstr;

constexpr char kMnist[] = "/usr/share/datasets/fashion-mnist";

TEST(SweepEndToEnd, TwoRealTrialsRecordTheTrainersMetrics) {
  testing::TempDir dir("sweep-e2e");
  const fs::path data = dir / "data";
  auto import = RunCommand({BinaryPath("atelier").string(), "import", "idx", "--images",
                            std::string(kMnist) + "/t10k-images-idx3-ubyte.gz", "--labels",
                            std::string(kMnist) + "/t10k-labels-idx1-ubyte.gz", "--head", "garment", "--limit", "256",
                            "--data", data.string()});
  ASSERT_EQ(import.exit_code, 0) << import.output;
  testing::WriteFileOrDie(dir / "sweep.yaml", R"(data: data
epochs: 2
train: {threads: 1, depth: 2, batch-size: 32, val-ratio: 0.25}
parameters:
  lr: {choices: [0.01, 0.002]}
  width: {choices: [8]}
sampler: grid
metric: val_accuracy:garment
asha: {min_epochs: 1, eta: 2}
)");
  const fs::path sweep = dir / "sweep";
  testing::ChildProcess driver({BinaryPath("atelier").string(), "sweep", "--spec", (dir / "sweep.yaml").string(),
                                "--dir", sweep.string()},
                               dir / "sweep.log");
  ASSERT_EQ(driver.Wait(std::chrono::seconds(240)), 0) << ReadFileOrEmpty(dir / "sweep.log");
  const std::string out = ReadFileOrEmpty(dir / "sweep.log");
  auto state = nlohmann::json::parse(ReadFileOrEmpty(sweep / "sweep.json"), nullptr, false);
  ASSERT_TRUE(state.is_object()) << out;
  ASSERT_EQ(state["trials"].size(), 2u);
  EXPECT_EQ(state["trials"][0]["state"], "completed") << out;  // first at its rung: goes on
  EXPECT_EQ(state["trials"][0]["epochs"], 2);
  const std::string second = state["trials"][1]["state"];
  EXPECT_TRUE(second == "completed" || second == "stopped") << out;
  for (int id : {0, 1}) {
    // The record's metric is the trainer's own last val accuracy of the head.
    const fs::path run = sweep / "trials" / ("000" + std::to_string(id)) / "run";
    const std::string jsonl = ReadFileOrEmpty(run / "metrics.jsonl");
    ASSERT_FALSE(jsonl.empty()) << ReadFileOrEmpty(sweep / "trials" / ("000" + std::to_string(id)) / "train.log");
    const auto last = nlohmann::json::parse(jsonl.substr(jsonl.rfind('\n', jsonl.size() - 2) + 1));
    EXPECT_DOUBLE_EQ(state["trials"][id]["metric"].get<double>(), last["val"]["garment"]["accuracy"].get<double>());
  }
  EXPECT_THAT(out, HasSubstr("best: trial "));
  EXPECT_THAT(out, HasSubstr("atelier train --data " + data.string()));
  EXPECT_TRUE(fs::exists(sweep / "sweep.html"));
}

}  // namespace
}  // namespace atelier
