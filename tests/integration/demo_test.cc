// `atelier demo` end to end on a small setting: import, crawl a loopback Met
// replica and BAM SQLite with 2 crawlers, train 2 Gloo ranks, pull the best
// checkpoint over gRPC, evaluate on held-out images, predict; the pulled
// checkpoint gives the same predictions in Python's torch.load.
#include <filesystem>
#include <algorithm>
#include <regex>
#include <string>

#include "atelier/common/status_matchers.h"
#include "atelier/dataset/sha256.h"
#include "atelier/dataset/shard_paths.h"
#include "atelier/dataset/shard_reader.h"
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

// Loads a checkpoint with Python's torch.load into the PyTorch twin of the
// model and prints the top class of each dumped input.
constexpr char kPythonPredict[] = R"(
import sys
sys.path.insert(0, sys.argv[1])
import torch
import atelier_model
model, cfg = atelier_model.load_model(sys.argv[2])
dump = torch.load(sys.argv[3])
with torch.no_grad():
    logits = model(dump["input"])
head = cfg["heads"].index("garment")
diff = max(float((a - b).abs().max()) for a, b in zip(logits, dump["logits"]))
assert diff < 1e-4, diff
classes = cfg["classes"]["garment"]
print("top " + "".join(classes[int(i)] + " " for i in logits[head].argmax(dim=1)))
)";

TEST(DemoEndToEnd, CrawlsTrainsPullsAndEvaluates) {
  testing::TempDir dir("demo-e2e");
  const fs::path work = dir.path() / "demo";
  auto result = RunCommand({BinaryPath("atelier").string(), "demo", "--work", work.string(), "--images", "1200",
                            "--heldout", "300", "--epochs", "5"});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_THAT(result.output, HasSubstr("1/5 import"));
  EXPECT_THAT(result.output, HasSubstr("2/5 crawl"));
  EXPECT_THAT(result.output, HasSubstr("5/5 predict"));
  // Status after training shows the run the ranks reported to the coordinator.
  EXPECT_THAT(result.output, HasSubstr("training demo (2 ranks)  epoch 5/5"));

  // The held-out evaluation is far better than chance (10 classes).
  std::smatch match;
  ASSERT_TRUE(std::regex_search(result.output, match, std::regex(R"(garment: accuracy ([0-9.]+) on 300)")))
      << result.output;
  EXPECT_GT(std::stod(match[1]), 0.4) << result.output;
  EXPECT_THAT(result.output, HasSubstr("garment: "));  // predict printed class probabilities

  // Shards read back intact, with labels from both sources.
  ASSERT_OK_AND_ASSIGN(auto shards, dataset::ListShards(work / "data"));
  ASSERT_FALSE(shards.empty());
  int samples = 0, met = 0, bam = 0;
  for (const auto& shard : shards) {
    ASSERT_OK_AND_ASSIGN(auto listing, dataset::ListShard(shard));
    EXPECT_EQ(listing.report, dataset::ReadReport{}) << shard << ": " << listing.report.Summary();
    for (const auto& s : listing.samples) {
      ++samples;
      met += s.key.rfind("met-", 0) == 0 ? 1 : 0;
      bam += s.key.rfind("bam-", 0) == 0 ? 1 : 0;
    }
  }
  EXPECT_GT(samples, 1000);
  EXPECT_GT(met, 0);
  EXPECT_GT(bam, 0);

  // The report and the pulled checkpoint, byte-identical to the run's best.
  const fs::path run = work / "data" / "runs" / "demo";
  EXPECT_THAT(ReadFileOrEmpty(run / "report.html"), HasSubstr("<svg"));
  const std::string best_name = ReadFileOrEmpty(run / "checkpoints" / "best");
  ASSERT_FALSE(best_name.empty());
  const std::string pulled = ReadFileOrEmpty(work / "pulled" / "best.pt");
  ASSERT_FALSE(pulled.empty());
  std::string trimmed = best_name.substr(0, best_name.find_first_of("\r\n"));
  EXPECT_EQ(dataset::Sha256Hex(pulled), dataset::Sha256Hex(ReadFileOrEmpty(run / "checkpoints" / trimmed)));
  EXPECT_FALSE(fs::exists(work / "pulled" / "best.pt.part"));

  // The pulled checkpoint loads in Python's torch.load and gives the same
  // predictions as `atelier predict` on the same images.
  std::vector<std::string> predict = {BinaryPath("atelier").string(), "predict", "--json", "--checkpoint",
                                      (work / "pulled" / "best.pt").string(), "--dump-tensors",
                                      (dir.path() / "dump.pt").string()};
  for (const auto& entry : fs::directory_iterator(work / "samples")) predict.push_back(entry.path().string());
  std::sort(predict.begin() + 7, predict.end());
  auto cpp = RunCommand(predict);
  ASSERT_EQ(cpp.exit_code, 0) << cpp.output;
  const auto predictions = nlohmann::json::parse(cpp.output.substr(cpp.output.find('[')));
  std::string cpp_top;
  for (const auto& p : predictions) cpp_top += p["heads"]["garment"][0]["class"].get<std::string>() + " ";
  testing::WriteFileOrDie(dir.path() / "python_predict.py", kPythonPredict);
  auto python = RunCommand({"/usr/bin/python3", (dir.path() / "python_predict.py").string(),
                            testing::SourcePath("bench/trainer").string(), (work / "pulled" / "best.pt").string(),
                            (dir.path() / "dump.pt").string()});
  ASSERT_EQ(python.exit_code, 0) << python.output;
  EXPECT_THAT(python.output, HasSubstr("top " + cpp_top)) << cpp.output;
}

}  // namespace
}  // namespace atelier
