// Resume you can trust: changed options are refused by name (unless
// --override), a damaged `latest` resumes from the newest valid checkpoint,
// a full disk at a checkpoint keeps the one before, and errors about damaged
// files are one line.
#include <algorithm>
#include <cerrno>

#include "atelier/common/status_matchers.h"
#include "atelier/common/testing/fault_env.h"
#include "atelier/testing/subprocess.h"
#include "atelier/testing/temp_dir.h"
#include "atelier/trainer/model_file.h"
#include "atelier/trainer/resume_options.h"
#include "atelier/trainer/trainer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_images.h"

namespace atelier::trainer {
namespace {

using ::atelier::testing::BinaryPath;
using ::atelier::testing::ReadFileOrEmpty;
using ::atelier::testing::RunCommand;
using ::atelier::testing::StatusIs;
using ::atelier::testing::TempDir;
using ::atelier::testing::WriteFileOrDie;
namespace fs = std::filesystem;

TEST(ResumeOptionsTest, EveryChangedOptionIsNamedUnlessOverridden) {
  TrainOptions a;
  const nlohmann::json saved = {{"options", ComputationOptions(a)}};
  EXPECT_OK(CheckResumeOptions(saved, ComputationOptions(a), {}));
  TrainOptions b = a;
  b.batch_size = 32;
  EXPECT_THAT(CheckResumeOptions(saved, ComputationOptions(b), {}),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::HasSubstr("--batch-size")));
  EXPECT_OK(CheckResumeOptions(saved, ComputationOptions(b), {"batch-size"}));
  b = a;
  b.backbone = "resnet18";
  EXPECT_THAT(CheckResumeOptions(saved, ComputationOptions(b), {}),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::HasSubstr("--backbone")));
  b = a;
  b.lr = 0.1;
  EXPECT_THAT(CheckResumeOptions(saved, ComputationOptions(b), {}), StatusIs(absl::StatusCode::kFailedPrecondition));
  b = a;
  b.image_size = 32;
  EXPECT_THAT(CheckResumeOptions(saved, ComputationOptions(b), {}),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::HasSubstr("--image-size")));
  b = a;
  b.label_fields = {{"style", dataset::LabelField::Kind::kJsonPath, "style"}};
  EXPECT_THAT(CheckResumeOptions(saved, ComputationOptions(b), {}),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::HasSubstr("--label-field")));
  b = a;
  b.split.group_by = "artist";
  EXPECT_THAT(CheckResumeOptions(saved, ComputationOptions(b), {}),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::HasSubstr("--group-by")));
  b = a;
  b.split.seed = 5;
  EXPECT_THAT(CheckResumeOptions(saved, ComputationOptions(b), {}),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::HasSubstr("--split-seed")));
  b = a;
  b.threads = 7;  // where and how fast, not what
  b.keep_last = 9;
  EXPECT_OK(CheckResumeOptions(saved, ComputationOptions(b), {}));
  EXPECT_THAT(CheckResumeOptions(saved, ComputationOptions(a), {"no-such-option"}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // Checkpoints from before options were recorded: the seed is still checked.
  b = a;
  b.seed = 99;
  EXPECT_THAT(CheckResumeOptions({{"seed", 1}}, ComputationOptions(b), {}),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::HasSubstr("--seed")));
}

std::vector<std::string> TrainArgs(const fs::path& data, const fs::path& out) {
  return {BinaryPath("atelier-trainer").string(), "train", "--data", data.string(), "--out", out.string(),
          "--image-size", "12", "--width", "4", "--depth", "2", "--epochs", "2", "--batch-size", "8",
          "--threads", "1", "--decode-threads", "1", "--plain", "--val-ratio", "0.2", "--test-ratio", "0"};
}

TEST(ResumeTest, ChangedOptionsAreRefusedBeforeTrainingUnlessOverridden) {
  TempDir dir;
  testing::WriteShard(dir / "data", 0, testing::ColourSamples(10, 12, 5));
  auto stop = TrainArgs(dir / "data", dir / "run");
  stop.insert(stop.end(), {"--stop-at-step", "4"});  // epoch 2 (3 steps per epoch)
  auto stopped = RunCommand(stop);
  ASSERT_EQ(stopped.exit_code, kExitCheckpointedOnSignal) << stopped.output;
  const std::string metrics = ReadFileOrEmpty(dir / "run" / "metrics.jsonl");
  ASSERT_FALSE(metrics.empty());
  for (const auto& change : std::vector<std::pair<std::string, std::string>>{
           {"--batch-size", "4"}, {"--lr", "0.01"}, {"--image-size", "16"}, {"--backbone", "resnet18"}}) {
    SCOPED_TRACE(change.first);
    auto args = TrainArgs(dir / "data", dir / "run");
    auto flag = std::find(args.begin(), args.end(), change.first);
    if (flag != args.end()) {
      *(flag + 1) = change.second;
    } else {
      args.insert(args.end(), {change.first, change.second});
    }
    args.push_back("--resume");
    auto refused = RunCommand(args);
    EXPECT_EQ(refused.exit_code, 1) << refused.output;
    EXPECT_THAT(refused.output, ::testing::HasSubstr(change.first));
    EXPECT_EQ(ReadFileOrEmpty(dir / "run" / "metrics.jsonl"), metrics);
  }
  auto args = TrainArgs(dir / "data", dir / "run");
  *(std::find(args.begin(), args.end(), "--batch-size") + 1) = "4";
  args.insert(args.end(), {"--resume", "--override", "batch-size"});
  auto allowed = RunCommand(args);
  EXPECT_EQ(allowed.exit_code, 0) << allowed.output;
}

TEST(ResumeTest, DamagedLatestResumesFromTheNewestValidCheckpoint) {
  TempDir dir;
  testing::WriteShard(dir / "data", 0, testing::ColourSamples(10, 12, 6));
  auto args = TrainArgs(dir / "data", dir / "run");
  args.insert(args.end(), {"--checkpoint-every", "1", "--keep", "10"});
  auto stop = args;
  stop.insert(stop.end(), {"--stop-at-step", "4"});  // epoch 2 (3 steps per epoch)
  auto stopped = RunCommand(stop);
  ASSERT_EQ(stopped.exit_code, kExitCheckpointedOnSignal) << stopped.output;
  const std::string metrics = ReadFileOrEmpty(dir / "run" / "metrics.jsonl");
  ASSERT_FALSE(metrics.empty());
  CheckpointStore store(dir / "run" / "checkpoints", 10);
  ASSERT_EQ(store.Latest(), store.PathFor(4));
  WriteFileOrDie(store.PathFor(4), "garbage");
  args.push_back("--resume");
  auto resumed = RunCommand(args);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  // Epoch 1 was not trained again: its record (with its measured time) is kept.
  std::string after = ReadFileOrEmpty(dir / "run" / "metrics.jsonl");
  EXPECT_EQ(after.substr(0, metrics.size()), metrics);
  EXPECT_EQ(std::count(after.begin(), after.end(), '\n'), 2);
}

// The disk fills up while the second checkpoint is written (through
// TrainOptions::env): the run stops with ResourceExhausted naming the file,
// no temporary is left, `latest` still names the first checkpoint, which is
// valid, and a resume on a healed disk continues from it to the end.
TEST(ResumeTest, ADiskFullAtACheckpointKeepsTheLastOneAndResumesFromIt) {
  TempDir dir;
  testing::WriteShard(dir / "data", 0, testing::ColourSamples(16, 8, 9));
  TrainOptions options = testing::SmallTrainOptions(dir / "data", dir / "probe");
  SingleProcessCollective single;
  // One checkpoint's size, from a healthy run of one epoch.
  options.epochs = 1;
  ASSERT_OK(Train(options, single).status());
  CheckpointStore probe(dir / "probe" / "checkpoints", 3);
  ASSERT_TRUE(probe.Latest().has_value());
  const auto one_checkpoint = static_cast<int64_t>(fs::file_size(*probe.Latest()));

  ::atelier::testing::FaultEnv env;
  env.FailAppendsAfter(one_checkpoint + one_checkpoint / 2, ENOSPC, "ckpt-");
  options.env = &env;
  options.out_dir = dir / "run";
  options.epochs = 3;
  auto failed = Train(options, single);
  ASSERT_THAT(failed.status(), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(failed.status().message(), ::testing::HasSubstr("ckpt-"));
  CheckpointStore store(dir / "run" / "checkpoints", 3);
  for (const auto& entry : fs::directory_iterator(store.dir())) {
    EXPECT_EQ(entry.path().filename().string().find("tmp"), std::string::npos) << entry.path();
  }
  ASSERT_TRUE(store.Latest().has_value());
  const fs::path first = *store.Latest();
  EXPECT_OK(VerifyCheckpoint(first));
  EXPECT_FALSE(fs::exists(dir / "run" / "model.pt"));

  env.Heal();
  options.resume = true;
  ASSERT_OK(Train(options, single).status());
  EXPECT_TRUE(fs::exists(dir / "run" / "model.pt"));
  const std::string metrics = ReadFileOrEmpty(dir / "run" / "metrics.jsonl");
  EXPECT_EQ(std::count(metrics.begin(), metrics.end(), '\n'), 3);
  EXPECT_NE(*store.Latest(), first);
}

TEST(ResumeTest, AllCheckpointsDamagedIsAnErrorNotARestart) {
  TempDir dir;
  testing::WriteShard(dir / "data", 0, testing::ColourSamples(10, 12, 7));
  auto stop = TrainArgs(dir / "data", dir / "run");
  stop.insert(stop.end(), {"--stop-at-step", "4"});
  ASSERT_EQ(RunCommand(stop).exit_code, kExitCheckpointedOnSignal);
  for (const auto& e : fs::directory_iterator(dir / "run" / "checkpoints")) {
    if (e.path().extension() == ".pt") WriteFileOrDie(e.path(), "");
  }
  const std::string metrics = ReadFileOrEmpty(dir / "run" / "metrics.jsonl");
  auto args = TrainArgs(dir / "data", dir / "run");
  args.push_back("--resume");
  auto resumed = RunCommand(args);
  EXPECT_EQ(resumed.exit_code, 1) << resumed.output;
  EXPECT_EQ(ReadFileOrEmpty(dir / "run" / "metrics.jsonl"), metrics);
}

TEST(ResumeTest, DamagedFilesGiveOneLineErrors) {
  TempDir dir;
  testing::WriteShard(dir / "data", 0, testing::ColourSamples(10, 12, 8));
  auto train = TrainArgs(dir / "data", dir / "run");
  ASSERT_EQ(RunCommand(train).exit_code, 0);
  std::string model = ReadFileOrEmpty(dir / "run" / "model.pt");
  WriteFileOrDie(dir / "half.pt", model.substr(0, model.size() / 2));
  WriteFileOrDie(dir / "garbage.pt", "PK\x03\x04 garbage");
  auto png = imaging::EncodePng(testing::SolidImage(12, 200, 30, 30));
  ASSERT_TRUE(png.ok());
  WriteFileOrDie(dir / "red.png", *png);
  for (const char* file : {"half.pt", "garbage.pt"}) {
    SCOPED_TRACE(file);
    auto predict = RunCommand({BinaryPath("atelier-trainer").string(), "predict", "--checkpoint",
                               (dir / file).string(), (dir / "red.png").string()});
    EXPECT_EQ(predict.exit_code, 1);
    EXPECT_THAT(predict.output, ::testing::HasSubstr(file));
    EXPECT_EQ(std::count(predict.output.begin(), predict.output.end(), '\n'), 1) << predict.output;
  }
}

}  // namespace
}  // namespace atelier::trainer
