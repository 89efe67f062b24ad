// `atelier demo` end to end on a small setting: import, crawl a loopback Met
// replica and BAM SQLite with 2 crawlers, train 2 Gloo ranks, pull the best
// checkpoint over gRPC, evaluate on held-out images, predict.
#include <filesystem>
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

namespace atelier {
namespace {

namespace fs = std::filesystem;
using ::atelier::testing::BinaryPath;
using ::atelier::testing::ReadFileOrEmpty;
using ::atelier::testing::RunCommand;
using ::testing::HasSubstr;

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
    EXPECT_OK(listing.error) << shard;
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
}

}  // namespace
}  // namespace atelier
