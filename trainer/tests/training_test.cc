// End-to-end training through the atelier-trainer executable.
#include <fstream>

#include "absl/strings/str_cat.h"
#include "atelier/common/status_matchers.h"
#include "atelier/testing/subprocess.h"
#include "atelier/testing/temp_dir.h"
#include "atelier/imaging/image.h"
#include "atelier/trainer/device_context.h"
#include "atelier/trainer/model_file.h"
#include "atelier/trainer/trainer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "test_images.h"

namespace atelier::trainer {
namespace {

using ::atelier::testing::BinaryPath;
using ::atelier::testing::ReadFileOrEmpty;
using ::atelier::testing::RunCommand;
using ::atelier::testing::TempDir;
namespace fs = std::filesystem;

std::vector<std::string> TrainArgs(const fs::path& data, const fs::path& out, int epochs) {
  return {BinaryPath("atelier-trainer").string(), "train", "--data", data.string(), "--out", out.string(),
          "--image-size", "12", "--width", "6", "--depth", "2", "--epochs", std::to_string(epochs),
          "--batch-size", "12", "--lr", "0.01", "--warmup-epochs", "0.5", "--threads", "1",
          "--decode-threads", "1", "--plain", "--val-ratio", "0.15", "--test-ratio", "0.2"};
}

std::vector<nlohmann::json> Metrics(const fs::path& run) {
  std::vector<nlohmann::json> out;
  std::ifstream in(run / "metrics.jsonl");
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

TEST(TrainingTest, LearnableDatasetReachesHighAccuracy) {
  TempDir dir;
  testing::WriteShard(dir / "data", 0, testing::ColourSamples(40, 12, 1));
  auto args = TrainArgs(dir / "data", dir / "run", 6);
  auto result = RunCommand(args);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  auto summary = nlohmann::json::parse(ReadFileOrEmpty(dir / "run" / "summary.json"));
  EXPECT_EQ(summary["eval_split"], "test");
  EXPECT_GT(summary["eval"]["colour"]["samples"].get<int>(), 10);
  EXPECT_GT(summary["eval"]["colour"]["accuracy"].get<double>(), 0.95) << summary.dump(2);
  // Outputs: metrics per epoch, pointers, model and report.
  EXPECT_EQ(Metrics(dir / "run").size(), 6u);
  std::string csv = ReadFileOrEmpty(dir / "run" / "metrics.csv");
  EXPECT_THAT(csv, ::testing::StartsWith("epoch,step,lr,"));
  EXPECT_THAT(csv, ::testing::HasSubstr("val_acc_colour"));
  CheckpointStore store(dir / "run" / "checkpoints", 3);
  EXPECT_TRUE(store.Latest().has_value());
  EXPECT_TRUE(store.Best().has_value());
  int checkpoints = 0;
  for (const auto& e : fs::directory_iterator(dir / "run" / "checkpoints")) {
    checkpoints += e.path().extension() == ".pt";
  }
  EXPECT_LE(checkpoints, 4);  // keep 3 + best
  std::string html = ReadFileOrEmpty(dir / "run" / "report.html");
  EXPECT_THAT(html, ::testing::HasSubstr("<svg"));
  EXPECT_THAT(html, ::testing::HasSubstr("data:image/png;base64,"));
  EXPECT_THAT(html, ::testing::Not(::testing::HasSubstr("<script")));

  // predict and evaluate with the result.
  testing::WriteShard(dir / "other", 0, testing::ColourSamples(5, 12, 99, "o"));
  auto eval = RunCommand({BinaryPath("atelier-trainer").string(), "evaluate", "--checkpoint",
                          (dir / "run").string(), "--data", (dir / "other").string(), "--json"});
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  auto report = nlohmann::json::parse(eval.output.substr(eval.output.find('{')));
  EXPECT_EQ(report["samples"], 15);
  EXPECT_GT(report["heads"]["colour"]["accuracy"].get<double>(), 0.9);
  EXPECT_EQ(report["heads"]["colour"]["per_class"].size(), 3u);

  auto png = imaging::EncodePng(testing::SolidImage(12, 20, 20, 230));
  ASSERT_TRUE(png.ok());
  ::atelier::testing::WriteFileOrDie(dir / "blue.png", *png);
  auto predict = RunCommand({BinaryPath("atelier-trainer").string(), "predict", "--checkpoint",
                             (dir / "run" / "model.pt").string(), (dir / "blue.png").string()});
  ASSERT_EQ(predict.exit_code, 0) << predict.output;
  EXPECT_THAT(predict.output, ::testing::HasSubstr("colour: blue"));
}

TEST(TrainingTest, StopAndResumeGivesTheSameRunAsStraightTraining) {
  TempDir dir;
  // 60 samples: about 39 train, 3 steps of 12 per epoch.
  testing::WriteShard(dir / "data", 0, testing::ColourSamples(20, 12, 2));
  auto straight = RunCommand(TrainArgs(dir / "data", dir / "straight", 3));
  ASSERT_EQ(straight.exit_code, 0) << straight.output;

  // Stopped by SIGTERM (raised by the trainer itself after step 4, mid-epoch),
  // then resumed.
  auto args = TrainArgs(dir / "data", dir / "resumed", 3);
  // The stopped run builds a packed cache and the resumed run maps it: the
  // same images as decoding, so the same run.
  args.insert(args.end(), {"--cache", (dir / "cache").string()});
  auto stopped_args = args;
  stopped_args.insert(stopped_args.end(), {"--stop-at-step", "4"});
  auto stopped = RunCommand(stopped_args);
  ASSERT_EQ(stopped.exit_code, kExitCheckpointedOnSignal) << stopped.output;
  // A leftover temporary of a killed checkpoint write is removed on resume.
  ::atelier::testing::WriteFileOrDie(dir / "resumed" / "checkpoints" / "ckpt-000000009.pt.tmp-4242", "partial");
  args.push_back("--resume");
  auto resumed = RunCommand(args);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_THAT(stopped.output, ::testing::HasSubstr("packed cache: wrote 60 images"));
  EXPECT_THAT(resumed.output, ::testing::HasSubstr("packed cache: mapped 60 images"));
  EXPECT_FALSE(fs::exists(dir / "resumed" / "checkpoints" / "ckpt-000000009.pt.tmp-4242"));

  auto a = Metrics(dir / "straight"), b = Metrics(dir / "resumed");
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(b.size(), 3u);
  for (size_t e = 0; e < a.size(); ++e) {
    EXPECT_EQ(a[e]["step"], b[e]["step"]);
    EXPECT_NEAR(a[e]["train_loss"].get<double>(), b[e]["train_loss"].get<double>(), 1e-9) << "epoch " << e + 1;
    EXPECT_NEAR(a[e]["val_loss"].get<double>(), b[e]["val_loss"].get<double>(), 1e-9) << "epoch " << e + 1;
    EXPECT_EQ(a[e]["train"]["colour"]["accuracy"], b[e]["train"]["colour"]["accuracy"]);
  }
  ASSERT_OK_AND_ASSIGN(Classifier ma, LoadModelFile(dir / "straight" / "model.pt"));
  ASSERT_OK_AND_ASSIGN(Classifier mb, LoadModelFile(dir / "resumed" / "model.pt"));
  auto sa = StateDict(*ma), sb = StateDict(*mb);
  for (size_t i = 0; i < sa.size(); ++i) EXPECT_TRUE(torch::equal(sa[i].second, sb[i].second)) << sa[i].first;
}

// The GPU data path's options, run on the CPU: bf16 autocast, channels-last,
// conversion and augmentation by PrepareImages. It learns, and its files hold
// plain contiguous float32 CPU tensors that a default run resumes from.
TEST(TrainingTest, Bf16ChannelsLastDevicePathLearnsAndWritesPortableCheckpoints) {
  TempDir dir;
  testing::WriteShard(dir / "data", 0, testing::ColourSamples(40, 12, 1));
  auto args = TrainArgs(dir / "data", dir / "run", 6);
  args.insert(args.end(), {"--precision", "bf16", "--channels-last", "--augment-on", "device", "--device", "auto"});
  auto result = RunCommand(args);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  auto summary = nlohmann::json::parse(ReadFileOrEmpty(dir / "run" / "summary.json"));
  EXPECT_GT(summary["eval"]["colour"]["accuracy"].get<double>(), 0.9) << summary.dump(2);
  ASSERT_OK_AND_ASSIGN(Classifier model, LoadModelFile(dir / "run" / "model.pt"));
  for (auto& [name, t] : StateDict(*model)) {
    EXPECT_TRUE(t.is_contiguous()) << name;
    EXPECT_TRUE(t.device().is_cpu()) << name;
  }
  // A plain fp32 host-path run continues from its checkpoint.
  // Training longer and in fp32 change recorded options: allowed explicitly.
  auto more = TrainArgs(dir / "data", dir / "run", 7);
  more.insert(more.end(), {"--resume", "--override", "epochs,precision"});
  auto resumed = RunCommand(more);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_EQ(Metrics(dir / "run").size(), 7u);
}

// GPU only (CUDA build on a machine with a GPU; skipped elsewhere): trains on
// cuda with the GPU data path, then a CPU run resumes from its checkpoint, and
// the learned model works on both.
TEST(TrainingTest, TrainsOnTheGpuAndResumesOnTheCpu) {
  if (!BuiltWithCuda() || torch::cuda::device_count() == 0) GTEST_SKIP() << "needs a CUDA build and a GPU";
  TempDir dir;
  testing::WriteShard(dir / "data", 0, testing::ColourSamples(40, 12, 1));
  auto args = TrainArgs(dir / "data", dir / "run", 6);
  args.insert(args.end(), {"--device", "cuda", "--precision", "bf16", "--channels-last"});
  auto gpu = RunCommand(args);
  ASSERT_EQ(gpu.exit_code, 0) << gpu.output;
  auto summary = nlohmann::json::parse(ReadFileOrEmpty(dir / "run" / "summary.json"));
  EXPECT_GT(summary["eval"]["colour"]["accuracy"].get<double>(), 0.9) << summary.dump(2);
  auto more = TrainArgs(dir / "data", dir / "run", 7);
  more.insert(more.end(), {"--resume", "--device", "cpu", "--override", "epochs,precision"});
  auto cpu = RunCommand(more);
  ASSERT_EQ(cpu.exit_code, 0) << cpu.output;
  EXPECT_EQ(Metrics(dir / "run").size(), 7u);
}

TEST(TrainingTest, CudaDeviceInACpuBuildFailsNamingTheBuildOption) {
  if (BuiltWithCuda()) GTEST_SKIP() << "a CUDA build";
  TempDir dir;
  testing::WriteShard(dir / "data", 0, testing::ColourSamples(4, 12, 2));
  auto args = TrainArgs(dir / "data", dir / "run", 1);
  args.insert(args.end(), {"--device", "cuda"});
  auto result = RunCommand(args);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_THAT(result.output, ::testing::HasSubstr("--device"));
  EXPECT_THAT(result.output, ::testing::HasSubstr("ATELIER_CUDA"));
  args.back() = "tpu";
  auto bad = RunCommand(args);
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.output, ::testing::HasSubstr("--device"));
  auto bad_precision = RunCommand([&] {
    auto a = TrainArgs(dir / "data", dir / "run", 1);
    a.insert(a.end(), {"--precision", "fp8"});
    return a;
  }());
  EXPECT_EQ(bad_precision.exit_code, 2) << bad_precision.output;
  EXPECT_THAT(bad_precision.output, ::testing::HasSubstr("--precision"));
}

// A foreign WebDataset shard (img2dataset's layout written by Python's
// tarfile, in a plain folder as img2dataset leaves it): training reads it with
// labels from the .cls member and from a top-level JSON field.
TEST(TrainingTest, TrainsOnAnImg2datasetShardWithLabelsFromClsOrAJsonField) {
  TempDir dir;
  std::vector<std::string> script = {"/usr/bin/python3", ATELIER_IMG2DATASET_SCRIPT, (dir / "foreign" / "00000.tar").string()};
  fs::create_directories(dir / "images");
  fs::create_directories(dir / "foreign");
  int n = 0;
  for (const dataset::Sample& sample : testing::ColourSamples(12, 12, 3)) {
    auto decoded = imaging::DecodeImage(sample.image_bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    auto jpeg = imaging::EncodeJpeg(decoded->image, 95);
    ASSERT_TRUE(jpeg.ok()) << jpeg.status();
    const fs::path file = dir / "images" / (std::to_string(n++) + ".jpg");
    ::atelier::testing::WriteFileOrDie(file, *jpeg);
    script.push_back(file.string() + "=" + sample.meta.labels.at("colour"));
  }
  auto written = RunCommand(script);
  ASSERT_EQ(written.exit_code, 0) << written.output;

  struct Case {
    std::string label_field, head;
    std::vector<std::string> classes;
  };
  for (const Case& c : {Case{"colour=.cls", "colour", {"0", "1", "2"}}, Case{"style", "style", {"blue", "green", "red"}}}) {
    SCOPED_TRACE(c.label_field);
    const fs::path run = dir / ("run-" + c.head);
    auto args = TrainArgs(dir / "foreign", run, 2);
    args.insert(args.end(), {"--label-field", c.label_field});
    auto result = RunCommand(args);
    ASSERT_EQ(result.exit_code, 0) << result.output;
    auto summary = nlohmann::json::parse(ReadFileOrEmpty(run / "summary.json"));
    EXPECT_EQ(summary["samples"], 36);
    EXPECT_EQ(summary["skipped"], 0);
    EXPECT_EQ(summary["unknown_labels"], 0);
    ASSERT_TRUE(summary["eval"].contains(c.head)) << summary.dump(2);
    auto model = LoadModelFile(run / "model.pt");
    ASSERT_TRUE(model.ok()) << model.status();
    ASSERT_EQ((*model)->config.labels.heads.size(), 1u);
    EXPECT_EQ((*model)->config.labels.heads[0].classes, c.classes);

    auto eval = RunCommand({BinaryPath("atelier-trainer").string(), "evaluate", "--checkpoint", run.string(),
                            "--data", (dir / "foreign" / "00000.tar").string(), "--label-field", c.label_field,
                            "--json"});
    ASSERT_EQ(eval.exit_code, 0) << eval.output;
    auto report = nlohmann::json::parse(eval.output.substr(eval.output.find('{')));
    EXPECT_EQ(report["samples"], 36);
    EXPECT_EQ(report["unknown_labels"], 0);
  }
}

// The summary of a run counts skipped samples by reason and names the shards that gave nothing.
TEST(TrainingTest, SummaryCountsSkippedSamplesByReasonAndNamesEmptyShards) {
  TempDir dir;
  testing::WriteShard(dir / "data", 0, testing::ColourSamples(12, 12, 1));
  const fs::path shard = dir / "data" / "shards" / "000000.tar";
  std::string bytes = ReadFileOrEmpty(shard);
  bytes[bytes.find("\"labels\"")] = 'X';  // the first sample's JSON no longer parses
  ::atelier::testing::WriteFileOrDie(shard, bytes);
  ::atelier::testing::WriteFileOrDie(dir / "data" / "shards" / "000001.tar", "");
  auto result = RunCommand(TrainArgs(dir / "data", dir / "run", 1));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  auto summary = nlohmann::json::parse(ReadFileOrEmpty(dir / "run" / "summary.json"));
  EXPECT_EQ(summary["samples"], 35);
  EXPECT_EQ(summary["skipped"], 1);
  EXPECT_EQ(summary["skipped_by_reason"], nlohmann::json({{"invalid_json", 1}}));
  ASSERT_EQ(summary["bad_shards"].size(), 1u);
  EXPECT_THAT(summary["bad_shards"][0].get<std::string>(), ::testing::HasSubstr("000001.tar"));
  EXPECT_THAT(result.output, ::testing::HasSubstr("000001.tar")) << "the log names the empty shard";
}

TEST(TrainingTest, BadArgumentsFailClearly) {
  TempDir dir;
  auto missing = RunCommand(TrainArgs(dir / "nothing", dir / "run", 1));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.output, ::testing::HasSubstr("nothing"));
  auto args = TrainArgs(dir / "nothing", dir / "run", 1);
  args.insert(args.end(), {"--balance", "sometimes"});
  testing::WriteShard(dir / "nothing", 0, testing::ColourSamples(4, 12, 2));
  auto bad = RunCommand(args);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.output, ::testing::HasSubstr("--balance"));
}

}  // namespace
}  // namespace atelier::trainer
