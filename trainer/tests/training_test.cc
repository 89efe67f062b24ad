// End-to-end training through the atelier-trainer executable.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <regex>

#include "absl/strings/str_cat.h"
#include "atelier/common/status_matchers.h"
#include "atelier/testing/html_check.h"
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

// Replaces the value of `flag` in `args` (or appends flag and value).
std::vector<std::string> With(std::vector<std::string> args, const std::string& flag, const std::string& value) {
  auto it = std::find(args.begin(), args.end(), flag);
  if (it != args.end() && it + 1 != args.end()) {
    *(it + 1) = value;
  } else {
    args.insert(args.end(), {flag, value});
  }
  return args;
}

std::vector<std::string> Without(std::vector<std::string> args, const std::string& flag) {
  auto it = std::find(args.begin(), args.end(), flag);
  if (it != args.end()) args.erase(it, it + 2);
  return args;
}

nlohmann::json EvaluateJson(const fs::path& checkpoint, const fs::path& data, std::vector<std::string> more) {
  std::vector<std::string> args = {BinaryPath("atelier-trainer").string(), "evaluate", "--checkpoint",
                                   checkpoint.string(), "--data", data.string(), "--json"};
  args.insert(args.end(), more.begin(), more.end());
  auto result = RunCommand(args);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  auto brace = result.output.find('{');
  if (result.exit_code != 0 || brace == std::string::npos) return nlohmann::json::object();
  return nlohmann::json::parse(result.output.substr(brace));
}

// Finding 1: --seed reaches the split, the run records it, and `evaluate`
// finds the run's own split without repeating flags: its val loss on the
// final model equals the last epoch's logged val loss.
TEST(TrainingTest, SeedReachesTheSplitAndEvaluateFindsTheRunsOwnSplit) {
  TempDir dir;
  testing::WriteShard(dir / "data", 0, testing::ColourSamples(30, 12, 4));
  std::map<uint64_t, nlohmann::json> records;
  for (uint64_t seed : {1, 7}) {
    fs::path run = dir / absl::StrCat("run", seed);
    auto result = RunCommand(With(TrainArgs(dir / "data", run, 2), "--seed", std::to_string(seed)));
    ASSERT_EQ(result.exit_code, 0) << result.output;
    records[seed] = nlohmann::json::parse(ReadFileOrEmpty(run / "split.json"));
    EXPECT_EQ(records[seed]["split"]["seed"], seed);
    auto metrics = Metrics(run);
    ASSERT_EQ(metrics.size(), 2u);
    auto val = EvaluateJson(run, dir / "data", {"--split", "val"});
    EXPECT_EQ(val["samples"], records[seed]["val"]);
    EXPECT_NEAR(val["heads"]["colour"]["loss"].get<double>(), metrics[1]["val"]["colour"]["loss"].get<double>(), 1e-5)
        << "seed " << seed;
    EXPECT_NEAR(val["heads"]["colour"]["accuracy"].get<double>(),
                metrics[1]["val"]["colour"]["accuracy"].get<double>(), 1e-9);
  }
  // Another seed selects other val samples: evaluating run 7's model on run
  // 1's split gives another loss than on its own.
  auto own = EvaluateJson(dir / "run7", dir / "data", {"--split", "val"});
  auto other = EvaluateJson(dir / "run7", dir / "data", {"--split", "val", "--split-seed", "1"});
  EXPECT_NE(own["heads"]["colour"]["loss"], other["heads"]["colour"]["loss"]);
  // A different --split-seed on its own also changes the split of a run.
  auto separate = RunCommand(With(TrainArgs(dir / "data", dir / "run-split-seed", 1), "--split-seed", "7"));
  ASSERT_EQ(separate.exit_code, 0) << separate.output;
  auto sep = nlohmann::json::parse(ReadFileOrEmpty(dir / "run-split-seed" / "split.json"));
  EXPECT_EQ(sep["split"]["seed"], 7);
}

// Finding 4: cap on every head; too few samples for one batch lowers the batch.
TEST(TrainingTest, CapOnEveryHeadAndABatchLargerThanTheDataIsLowered) {
  TempDir dir;
  auto samples = testing::ColourSamples(20, 12, 5);
  for (size_t i = 0; i < samples.size(); ++i) samples[i].meta.labels["parity"] = i % 2 ? "odd" : "even";
  testing::WriteShard(dir / "data", 0, samples);
  auto args = With(With(TrainArgs(dir / "data", dir / "run", 1), "--balance", "cap:3"), "--batch-size", "64");
  args = With(With(args, "--val-ratio", "0.1"), "--test-ratio", "0");
  auto result = RunCommand(args);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  auto summary = nlohmann::json::parse(ReadFileOrEmpty(dir / "run" / "summary.json"));
  // parity has 2 classes: at most 6 samples survive a cap of 3 on both heads
  // (a cap on the first head alone keeps 9).
  EXPECT_LE(summary["train"].get<int>(), 6);
  EXPECT_GE(summary["train"].get<int>(), 3);
  EXPECT_EQ(summary["batch_size"], summary["train"]);
  // Per head: only parity capped.
  auto per_head = RunCommand(With(args, "--balance", "parity=cap:3"));
  ASSERT_EQ(per_head.exit_code, 0) << per_head.output;
  summary = nlohmann::json::parse(ReadFileOrEmpty(dir / "run" / "summary.json"));
  EXPECT_EQ(summary["train"], 6);
  auto unknown = RunCommand(With(args, "--balance", "style=cap:3"));
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.output, ::testing::HasSubstr("style"));
}

// Finding 5: absurd shapes and learning rates are refused at once.
TEST(TrainingTest, AbsurdShapesAreRefusedBeforeAllocation) {
  TempDir dir;
  testing::WriteShard(dir / "data", 0, testing::ColourSamples(10, 28, 6));
  auto base = With(TrainArgs(dir / "data", dir / "run", 1), "--image-size", "28");
  // Under an address-space limit that a 22 GB model could never get.
  std::vector<std::string> args = {"prlimit", "--as=6000000000", "--"};
  auto deep = With(base, "--depth", "20");
  args.insert(args.end(), deep.begin(), deep.end());
  auto start = std::chrono::steady_clock::now();
  auto result = RunCommand(args);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_THAT(result.output, ::testing::HasSubstr("--depth"));
  // Refused before the data is read; the time is the process start (0.3 s on
  // a quiet machine, 2.8 s measured on the 2-core build machine under load).
  EXPECT_LT(seconds, 5.0);
  EXPECT_FALSE(fs::exists(dir / "run" / "metrics.jsonl"));
  EXPECT_FALSE(fs::exists(dir / "run" / "split.json"));  // refused before the data was read

  for (const auto& [flag, value] : std::vector<std::pair<std::string, std::string>>{
           {"--width", "0"}, {"--lr", "nan"}, {"--lr", "-1"}, {"--memory-budget", "1M"}}) {
    auto bad = RunCommand(With(base, flag, value));
    EXPECT_EQ(bad.exit_code, 1) << flag << " " << value << ": " << bad.output;
    EXPECT_THAT(bad.output, ::testing::HasSubstr(flag)) << bad.output;
    EXPECT_EQ(std::count(bad.output.begin(), bad.output.end(), '\n'), 1) << bad.output;
    EXPECT_FALSE(fs::exists(dir / "run" / "metrics.jsonl"));
  }
}

// Finding 5: a loss that is no longer finite stops the run, naming the step
// and the last checkpoint.
TEST(TrainingTest, NonFiniteLossStopsTheRun) {
  TempDir dir;
  testing::WriteShard(dir / "data", 0, testing::ColourSamples(20, 12, 7));
  auto args = With(With(With(TrainArgs(dir / "data", dir / "run", 5), "--lr", "1e30"), "--clip-norm", "0"),
                   "--warmup-epochs", "0");
  auto result = RunCommand(args);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_THAT(result.output, ::testing::HasSubstr("non-finite"));
  EXPECT_THAT(result.output, ::testing::HasSubstr("at step"));
  EXPECT_THAT(result.output, ::testing::HasSubstr("last checkpoint"));
  EXPECT_FALSE(fs::exists(dir / "run" / "model.pt"));
}

// Finding 11: without --image-size, small images train at their own size.
TEST(TrainingTest, SmallImagesTrainAtTheirOwnSizeByDefault) {
  TempDir dir;
  testing::WriteShard(dir / "small", 0, testing::ColourSamples(8, 20, 8));
  auto result = RunCommand(Without(TrainArgs(dir / "small", dir / "run", 1), "--image-size"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  auto summary = nlohmann::json::parse(ReadFileOrEmpty(dir / "run" / "summary.json"));
  EXPECT_EQ(summary["image_size"], 20);
  testing::WriteShard(dir / "large", 0, testing::ColourSamples(8, 80, 8));
  auto large = RunCommand(Without(TrainArgs(dir / "large", dir / "run-large", 1), "--image-size"));
  ASSERT_EQ(large.exit_code, 0) << large.output;
  summary = nlohmann::json::parse(ReadFileOrEmpty(dir / "run-large" / "summary.json"));
  EXPECT_EQ(summary["image_size"], 64);
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
  auto page = ::atelier::testing::CheckHtmlPage(dir / "run" / "report.html");
  EXPECT_EQ(page.exit_code, 0) << page.output;
  // The embedding sections: one map point per test sample, a query per class,
  // and a class-similarity matrix whose diagonal dominates for a model this good.
  auto count = [&html](const std::string& needle) {
    int64_t n = 0;
    for (size_t at = html.find(needle); at != std::string::npos; at = html.find(needle, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("class='point'"), summary["test"].get<int64_t>());
  EXPECT_EQ(count("class='query'"), 3);
  for (const char* c : {"blue", "green", "red"}) {
    const std::regex diagonal(absl::StrCat("<title>", c, " &#8594; ", c, ": ([0-9.]+)</title>"));
    std::smatch m;
    ASSERT_TRUE(std::regex_search(html, m, diagonal)) << c;
    EXPECT_GT(std::stod(m[1]), 0.8) << c;
  }

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
// labels from the .cls member and from a top-level JSON field; the model
// records where its labels came from, so evaluate needs no --label-field.
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
    EXPECT_EQ(dataset::ParseLabelFields((*model)->config.label_fields).value(),
              dataset::ParseLabelFields(c.label_field).value());

    // Without --label-field, evaluate reads the labels the way training did.
    auto recorded = RunCommand({BinaryPath("atelier-trainer").string(), "evaluate", "--checkpoint", run.string(),
                                "--data", (dir / "foreign" / "00000.tar").string(), "--json"});
    ASSERT_EQ(recorded.exit_code, 0) << recorded.output;
    auto same = nlohmann::json::parse(recorded.output.substr(recorded.output.find('{')));
    EXPECT_EQ(same["heads"], report["heads"]) << recorded.output;
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
