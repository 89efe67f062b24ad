// `atelier embed` (features as .npy with their rows) and `atelier probe` (a
// cross-validated linear probe from features to a field): the .npy format as
// numpy reads it, embed through the executable over shards, folders and
// unreadable files, and the probe's folds and figures.
#include <cmath>
#include <fstream>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "atelier/common/env.h"
#include "atelier/common/status_matchers.h"
#include "atelier/testing/subprocess.h"
#include "atelier/testing/temp_dir.h"
#include "atelier/trainer/inference.h"
#include "atelier/trainer/model_file.h"
#include "atelier/trainer/npy_file.h"
#include "atelier/trainer/probe.h"
#include "atelier/trainer/probe_command.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "test_images.h"

namespace atelier::trainer {
namespace {

using ::atelier::testing::BinaryPath;
using ::atelier::testing::CommandResult;
using ::atelier::testing::RunCommand;
using ::atelier::testing::TempDir;
using ::atelier::testing::WriteFileOrDie;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

CommandResult Python(const std::string& program) { return RunCommand({"/usr/bin/python3", "-c", program}); }

std::vector<nlohmann::json> ReadJsonl(const fs::path& path) {
  std::vector<nlohmann::json> rows;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

// ---- .npy ----

TEST(NpyFileTest, HeaderIsAlignedAsNumpyWritesIt) {
  for (int64_t rows : {int64_t{0}, int64_t{7}, int64_t{123456789012}}) {
    const std::string header = NpyHeader(rows, 512);
    EXPECT_EQ(header.size() % 64, 0u);
    EXPECT_EQ(header.back(), '\n');
    EXPECT_THAT(header, HasSubstr(absl::StrCat("'shape': (", rows, ", 512)")));
  }
}

TEST(NpyFileTest, NumpyLoadsWhatTheWriterWrites) {
  TempDir dir;
  const fs::path path = dir / "sub" / "feats.npy";
  ASSERT_OK_AND_ASSIGN(auto writer, NpyMatrixWriter::Open(*Env::Default(), path, 3));
  ASSERT_OK(writer->AppendRow(std::vector<float>{1.5f, -2.0f, 3.25f}));
  ASSERT_OK(writer->AppendRow(std::vector<float>{0.0f, 1e-7f, -1e30f}));
  EXPECT_FALSE(fs::exists(path)) << "nothing before Close()";
  EXPECT_FALSE(writer->AppendRow(std::vector<float>{1.0f}).ok()) << "a row of the wrong width";
  ASSERT_OK(writer->Close());
  EXPECT_EQ(std::distance(fs::directory_iterator(path.parent_path()), fs::directory_iterator()), 1)
      << "the scratch file is gone";
  CommandResult r = Python(absl::StrCat(
      "import numpy as np; a = np.load('", path.string(),
      "'); assert a.dtype == np.float32 and a.shape == (2, 3), (a.dtype, a.shape); "
      "assert (a == np.array([[1.5, -2.0, 3.25], [0.0, 1e-7, -1e30]], dtype=np.float32)).all(), a; print('ok')"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  ASSERT_OK_AND_ASSIGN(NpyMatrix back, ReadNpyMatrix(*Env::Default(), path));
  EXPECT_EQ(back.rows, 2);
  EXPECT_EQ(back.cols, 3);
  EXPECT_EQ(back.row(1)[2], -1e30f);
}

TEST(NpyFileTest, ReadsWhatNumpySavesAndRefusesOtherArraysNamingTheFile) {
  TempDir dir;
  CommandResult r = Python(absl::StrCat(
      "import numpy as np; d = '", dir.path().string(), "'; "
      "np.save(d + '/f64.npy', np.arange(6, dtype=np.float64).reshape(2, 3) / 4); "
      "np.save(d + '/f32.npy', np.arange(6, dtype=np.float32).reshape(3, 2)); "
      "np.save(d + '/int.npy', np.arange(6).reshape(2, 3)); "
      "np.save(d + '/fortran.npy', np.asfortranarray(np.ones((2, 3), dtype=np.float32))); "
      "np.save(d + '/rank1.npy', np.ones(4, dtype=np.float32)); "
      "np.save(d + '/big.npy', np.ones((2, 3), dtype='>f4'))"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_OK_AND_ASSIGN(NpyMatrix f64, ReadNpyMatrix(*Env::Default(), dir / "f64.npy"));
  EXPECT_EQ(f64.rows, 2);
  EXPECT_FLOAT_EQ(f64.row(1)[2], 1.25f);
  ASSERT_OK_AND_ASSIGN(NpyMatrix f32, ReadNpyMatrix(*Env::Default(), dir / "f32.npy"));
  EXPECT_EQ(f32.cols, 2);
  EXPECT_EQ(f32.row(2)[1], 5.0f);
  for (const char* bad : {"int.npy", "fortran.npy", "rank1.npy", "big.npy"}) {
    auto read = ReadNpyMatrix(*Env::Default(), dir / bad);
    ASSERT_FALSE(read.ok()) << bad;
    EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(read.status().message()), HasSubstr(bad));
  }
  // A cut file.
  std::string bytes = Env::Default()->ReadFile(dir / "f32.npy").value();
  WriteFileOrDie(dir / "cut.npy", bytes.substr(0, bytes.size() - 3));
  EXPECT_FALSE(ReadNpyMatrix(*Env::Default(), dir / "cut.npy").ok());
}

// ---- embed ----

fs::path SaveRandomModel(const fs::path& dir) {
  ModelConfig c;
  c.in_channels = 3;
  c.image_size = 12;
  c.width = 6;
  c.depth = 2;
  c.labels.heads = {{"colour", {"blue", "green", "red"}}};
  torch::manual_seed(5);
  Classifier model(c);
  const fs::path path = dir / "model.pt";
  EXPECT_OK(SaveModelFile(path, model));
  return path;
}

CommandResult Embed(std::vector<std::string> args) {
  args.insert(args.begin(), {BinaryPath("atelier-trainer").string(), "embed", "--decode-threads", "2", "--threads",
                             "1", "--batch-size", "4"});
  return RunCommand(args);
}

std::vector<dataset::Sample> Samples() {
  auto samples = testing::ColourSamples(4, 16, 9);
  for (size_t i = 0; i < samples.size(); ++i) {
    samples[i].meta.url = "https://example.org/" + samples[i].meta.key;
    if (i % 3 != 2) samples[i].meta.extra["neighbourhood"] = i % 2 ? "Bushwick" : "Red Hook";
  }
  return samples;
}

TEST(EmbedTest, FeaturesOfShardsEqualTheModelsFeaturesOfTheSameImagesAsFiles) {
  TempDir dir;
  const fs::path model_path = SaveRandomModel(dir.path());
  const auto samples = Samples();
  testing::WriteShard(dir / "data", 0, samples);
  CommandResult r = Embed({"--checkpoint", model_path.string(), "--data", (dir / "data").string(), "--out",
                           (dir / "out" / "feats.npy").string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_OK_AND_ASSIGN(NpyMatrix feats, ReadNpyMatrix(*Env::Default(), dir / "out" / "feats.npy"));
  const auto rows = ReadJsonl(dir / "out" / "feats.jsonl");
  ASSERT_EQ(feats.rows, static_cast<int64_t>(samples.size()));
  ASSERT_EQ(rows.size(), samples.size());
  EXPECT_FALSE(fs::exists(dir / "out" / "feats.errors.jsonl"));

  ASSERT_OK_AND_ASSIGN(Classifier model, LoadModelFile(model_path));
  EXPECT_EQ(feats.cols, model->backbone->feature_dim());
  for (size_t i = 0; i < samples.size(); ++i) {
    EXPECT_EQ(rows[i]["key"], samples[i].meta.key);
    EXPECT_EQ(rows[i]["url"], samples[i].meta.url);
    EXPECT_EQ(rows[i]["labels"]["colour"], samples[i].meta.labels.at("colour"));
    EXPECT_EQ(rows[i]["extra"].contains("neighbourhood"), i % 3 != 2);
    EXPECT_TRUE(rows[i]["heads"]["colour"].contains("class"));
    // The same image through the in-process path.
    ASSERT_OK_AND_ASSIGN(std::vector<uint8_t> pixels, PrepareImage(samples[i].image_bytes, model->config));
    torch::Tensor prepared = torch::from_blob(pixels.data(), {1, 12, 12, 3}, torch::kUInt8).clone();
    torch::Tensor features;
    ClassifyPrepared(model, prepared, nullptr, &features);
    for (int64_t d = 0; d < feats.cols; ++d) {
      EXPECT_NEAR(feats.row(static_cast<int64_t>(i))[d], features[0][d].item<float>(), 1e-5) << i << "," << d;
    }
  }
}

TEST(EmbedTest, AnUnreadableFileIsAnErrorRowAndTheRowsStayAligned) {
  TempDir dir;
  const fs::path model_path = SaveRandomModel(dir.path());
  const auto samples = Samples();
  for (size_t i = 0; i < 4; ++i) WriteFileOrDie(dir / "images" / absl::StrCat("a", i, ".png"), samples[i].image_bytes);
  WriteFileOrDie(dir / "images" / "a1b-broken.png", "not an image");
  CommandResult r = Embed({"--checkpoint", model_path.string(), "--folder", (dir / "images").string(), "--out",
                           (dir / "feats.npy").string(), "--progress"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // The progress line's last report counts every input against the known total.
  EXPECT_THAT(r.output, HasSubstr("embed: 5/5 (100%)"));
  EXPECT_THAT(r.output, HasSubstr("ETA"));
  ASSERT_OK_AND_ASSIGN(NpyMatrix feats, ReadNpyMatrix(*Env::Default(), dir / "feats.npy"));
  const auto rows = ReadJsonl(dir / "feats.jsonl");
  const auto errors = ReadJsonl(dir / "feats.errors.jsonl");
  EXPECT_EQ(feats.rows, 4);
  ASSERT_EQ(rows.size(), 4u);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]["key"], "a1b-broken.png");
  EXPECT_TRUE(errors[0].contains("error"));
  std::set<std::string> keys;
  for (const auto& row : rows) keys.insert(row["key"].get<std::string>());
  EXPECT_EQ(keys, (std::set<std::string>{"a0.png", "a1.png", "a2.png", "a3.png"}));
  // Row i is the features of rows[i]: a1.png's features are the same as a1.png's alone.
  CommandResult one = Embed({"--checkpoint", model_path.string(), (dir / "images" / "a1.png").string(), "--out",
                             (dir / "one.npy").string()});
  ASSERT_EQ(one.exit_code, 0) << one.output;
  ASSERT_OK_AND_ASSIGN(NpyMatrix single, ReadNpyMatrix(*Env::Default(), dir / "one.npy"));
  int64_t at = -1;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i]["key"] == "a1.png") at = static_cast<int64_t>(i);
  }
  ASSERT_GE(at, 0);
  for (int64_t d = 0; d < feats.cols; ++d) EXPECT_NEAR(feats.row(at)[d], single.row(0)[d], 1e-5);

  // A second run without errors removes the first run's error file.
  fs::remove(dir / "images" / "a1b-broken.png");
  ASSERT_EQ(Embed({"--checkpoint", model_path.string(), "--folder", (dir / "images").string(), "--out",
                   (dir / "feats.npy").string()})
                .exit_code,
            0);
  EXPECT_FALSE(fs::exists(dir / "feats.errors.jsonl"));
}

TEST(EmbedTest, RefusesAnOutputThatIsNotNpy) {
  TempDir dir;
  const fs::path model_path = SaveRandomModel(dir.path());
  CommandResult r = Embed({"--checkpoint", model_path.string(), "--folder", dir.path().string(), "--out",
                           (dir / "feats.csv").string()});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("feats.csv"));
}

// ---- probe ----

// Features with `informative` columns that separate the classes of `target`
// (one-hot + noise) and noise columns.
NpyMatrix SyntheticFeatures(const std::vector<int>& cls, int classes, bool informative, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> noise(0.0f, 0.3f);
  NpyMatrix m;
  m.rows = static_cast<int64_t>(cls.size());
  m.cols = classes + 4;
  for (size_t i = 0; i < cls.size(); ++i) {
    for (int64_t d = 0; d < m.cols; ++d) {
      float v = noise(rng);
      if (informative && d == cls[i]) v += 2.0f;
      m.values.push_back(v);
    }
  }
  return m;
}

std::vector<ProbeSample> SamplesOf(const std::vector<int>& cls, int group_size = 1) {
  std::vector<ProbeSample> out;
  for (size_t i = 0; i < cls.size(); ++i) {
    out.push_back({absl::StrCat("c", cls[i]), absl::StrCat("g", i / group_size)});
  }
  return out;
}

TEST(ProbeTest, ReadsAnInformativeFieldAndNotANoiseOne) {
  std::vector<int> cls;
  for (int i = 0; i < 150; ++i) cls.push_back(i % 3 == 0 ? 0 : i % 3 == 1 ? 1 : (i % 2 ? 2 : 0));
  ProbeOptions options;
  ASSERT_OK_AND_ASSIGN(ProbeResult good, RunProbe(SyntheticFeatures(cls, 3, true, 1), SamplesOf(cls), "f", options));
  EXPECT_GT(good.accuracy, 0.95);
  EXPECT_EQ(good.samples, 150);
  EXPECT_EQ(good.fold_accuracy.size(), 5u);
  EXPECT_EQ(good.confusion.Total(), 150);
  ASSERT_OK_AND_ASSIGN(ProbeResult noise, RunProbe(SyntheticFeatures(cls, 3, false, 2), SamplesOf(cls), "f", options));
  EXPECT_LT(noise.accuracy, noise.baseline + 0.15);
  EXPECT_GT(noise.baseline, 0.4);  // class 0 is half of the samples
  EXPECT_LT(noise.baseline, 0.6);
  // Deterministic for a seed.
  ASSERT_OK_AND_ASSIGN(ProbeResult again, RunProbe(SyntheticFeatures(cls, 3, true, 1), SamplesOf(cls), "f", options));
  EXPECT_EQ(again.fold_accuracy, good.fold_accuracy);
}

TEST(ProbeTest, FoldsKeepGroupsTogetherAndStratifyClasses) {
  std::vector<int> cls;
  for (int i = 0; i < 120; ++i) cls.push_back((i / 3) % 4);  // groups of 3 share a class
  auto samples = SamplesOf(cls, 3);
  samples[5].target.reset();  // no target: no fold
  ProbeOptions options;
  options.folds = 4;
  const std::vector<int> folds = ProbeFolds(samples, options);
  ASSERT_EQ(folds.size(), samples.size());
  EXPECT_EQ(folds[5], -1);
  std::map<std::string, std::set<int>> group_folds;
  std::map<std::pair<int, int>, int> per_class_fold;
  for (size_t i = 0; i < samples.size(); ++i) {
    if (folds[i] < 0) continue;
    group_folds[samples[i].group].insert(folds[i]);
    ++per_class_fold[{cls[i], folds[i]}];
  }
  for (const auto& [group, in] : group_folds) EXPECT_EQ(in.size(), 1u) << group;
  // 10 groups per class over 4 folds: each class has 2 or 3 groups (6-9 samples) in every fold.
  for (int c = 0; c < 4; ++c) {
    for (int f = 0; f < 4; ++f) {
      const int n = per_class_fold[std::make_pair(c, f)];
      EXPECT_GE(n, 5) << c << "," << f;
      EXPECT_LE(n, 9) << c << "," << f;
    }
  }
}

TEST(ProbeTest, RefusesTooFewClassesOrGroupsAndMismatchedRows) {
  std::vector<int> cls(20, 0);
  ProbeOptions options;
  auto one_class = RunProbe(SyntheticFeatures(cls, 1, true, 1), SamplesOf(cls), "style", options);
  ASSERT_FALSE(one_class.ok());
  EXPECT_THAT(std::string(one_class.status().message()), HasSubstr("style"));
  std::vector<int> two = {0, 1, 0, 1, 0, 1};
  auto few_groups = RunProbe(SyntheticFeatures(two, 2, true, 1), SamplesOf(two, 3), "style", options);
  EXPECT_FALSE(few_groups.ok());
  auto mismatch = RunProbe(SyntheticFeatures(two, 2, true, 1), SamplesOf({0, 1}), "style", options);
  EXPECT_FALSE(mismatch.ok());
  // A class below --min-class-count is left out and named.
  std::vector<int> rare;
  for (int i = 0; i < 40; ++i) rare.push_back(i % 2);
  rare.push_back(2);
  ASSERT_OK_AND_ASSIGN(ProbeResult r, RunProbe(SyntheticFeatures(rare, 3, true, 3), SamplesOf(rare), "f", options));
  EXPECT_EQ(r.dropped_classes, std::vector<std::string>{"c2"});
  EXPECT_EQ(r.samples, 40);
}

TEST(ProbeCommandTest, ProbesEmbedOutputForAnExtraField) {
  TempDir dir;
  const fs::path model_path = SaveRandomModel(dir.path());
  auto samples = testing::ColourSamples(12, 16, 4);
  for (size_t i = 0; i < samples.size(); ++i) {
    if (i % 7 != 6) samples[i].meta.extra["borough"] = samples[i].meta.labels.at("colour") == "red" ? "Queens" : "Bronx";
  }
  testing::WriteShard(dir / "data", 0, samples);
  ASSERT_EQ(Embed({"--checkpoint", model_path.string(), "--data", (dir / "data").string(), "--out",
                   (dir / "feats.npy").string()})
                .exit_code,
            0);
  CommandResult r = RunCommand({BinaryPath("atelier-trainer").string(), "probe", "--features",
                                (dir / "feats.npy").string(), "--target", "extra.borough", "--folds", "3", "--out",
                                (dir / "probe.json").string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ifstream in(dir / "probe.json");
  const nlohmann::json result = nlohmann::json::parse(in);
  int64_t with_field = 0;
  for (size_t i = 0; i < samples.size(); ++i) with_field += i % 7 != 6;
  EXPECT_EQ(result["samples"], with_field);
  EXPECT_EQ(result["missing"], static_cast<int64_t>(samples.size()) - with_field);
  EXPECT_EQ(result["fold_accuracy"].size(), 3u);
  EXPECT_TRUE(result["classes"].contains("Queens"));
  // The labels are a field too; a field no row has is an error naming it.
  CommandResult missing = RunCommand({BinaryPath("atelier-trainer").string(), "probe", "--features",
                                      (dir / "feats.npy").string(), "--target", "extra.nowhere"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.output, HasSubstr("extra.nowhere"));
  // Rows that do not match the features.
  WriteFileOrDie(dir / "short.jsonl", "{\"key\": \"a\"}\n");
  CommandResult mismatch = RunCommand({BinaryPath("atelier-trainer").string(), "probe", "--features",
                                       (dir / "feats.npy").string(), "--rows", (dir / "short.jsonl").string(),
                                       "--target", "colour"});
  EXPECT_EQ(mismatch.exit_code, 1);
  EXPECT_THAT(mismatch.output, HasSubstr("short.jsonl"));
}

}  // namespace
}  // namespace atelier::trainer
