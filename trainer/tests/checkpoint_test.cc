// torch.save-format files (torch_file.h), model files and checkpoints
// (model_file.h): Python interoperability both ways, checksums, damaged
// `latest` pointers, one-line errors.
#include <fstream>

#include "atelier/common/status_matchers.h"
#include "atelier/testing/subprocess.h"
#include "atelier/testing/temp_dir.h"
#include "atelier/trainer/adamw.h"
#include "atelier/trainer/model_file.h"
#include "atelier/trainer/torch_file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace atelier::trainer {
namespace {

using ::atelier::testing::ReadFileOrEmpty;
using ::atelier::testing::RunCommand;
using ::atelier::testing::StatusIs;
using ::atelier::testing::TempDir;
using ::atelier::testing::WriteFileOrDie;
namespace fs = std::filesystem;

constexpr char kPython[] = "/usr/bin/python3";

::atelier::testing::CommandResult RunPython(const fs::path& dir, const std::string& script, std::vector<std::string> args = {}) {
  WriteFileOrDie(dir / "script.py", script);
  std::vector<std::string> argv = {kPython, (dir / "script.py").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv);
}

ModelConfig SmallConfig() {
  ModelConfig c;
  c.in_channels = 3;
  c.image_size = 8;
  c.width = 4;
  c.depth = 2;
  c.labels.heads = {{"colour", {"red", "green", "blue"}}};
  return c;
}

TEST(TorchFileTest, ReadsWhatPythonsTorchSaveWrites) {
  if (!fs::exists(kPython)) GTEST_SKIP() << "no " << kPython;
  TempDir dir;
  auto py = RunPython(dir.path(), R"(
import sys, torch
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2))
base = torch.arange(10, dtype=torch.float32)
torch.save({"sd": net.state_dict(), "one": {"k": 1}, "items": [1, 2.5, "x", True, None],
            "pair": (7, -300000000000), "view": base[2:5], "same": base}, sys.argv[1])
torch.save(net.state_dict(), sys.argv[2])
)", {(dir / "a.pt").string(), (dir / "sd.pth").string()});
  ASSERT_EQ(py.exit_code, 0) << py.output;

  ASSERT_OK_AND_ASSIGN(c10::IValue v, ReadTorchFile(ReadFileOrEmpty(dir / "a.pt"), "a.pt"));
  auto d = v.toGenericDict();
  auto sd = d.at("sd").toGenericDict();
  EXPECT_EQ(sd.size(), 7u);  // weight, bias, BN weight, bias, running_mean, running_var, num_batches_tracked
  EXPECT_EQ(sd.at("0.weight").toTensor().sizes(), (std::vector<int64_t>{2, 1, 3, 3}));
  EXPECT_EQ(sd.at("1.num_batches_tracked").toTensor().scalar_type(), torch::kLong);
  EXPECT_EQ(d.at("one").toGenericDict().at("k").toInt(), 1);
  const auto& items = d.at("items").toListRef();
  ASSERT_EQ(items.size(), 5u);
  EXPECT_EQ(items[0].toInt(), 1);
  EXPECT_DOUBLE_EQ(items[1].toDouble(), 2.5);
  EXPECT_EQ(items[2].toStringRef(), "x");
  EXPECT_TRUE(items[3].toBool());
  EXPECT_TRUE(items[4].isNone());
  EXPECT_EQ(d.at("pair").toTupleRef().elements()[1].toInt(), -300000000000);
  EXPECT_TRUE(torch::equal(d.at("view").toTensor(), torch::tensor({2.0f, 3.0f, 4.0f})));
  EXPECT_TRUE(torch::equal(d.at("same").toTensor(), torch::arange(10, torch::kFloat32)));

  // A bare state_dict (an OrderedDict with _metadata) as --init reads it.
  ASSERT_OK_AND_ASSIGN(InitWeights init, ReadInitWeights(dir / "sd.pth"));
  EXPECT_FALSE(init.atelier);
  EXPECT_EQ(init.tensors.size(), 7u);
  EXPECT_EQ(init.tensors.front().first, "0.weight");
}

TEST(TorchFileTest, WrittenFilesLoadInPythonWithWeightsOnly) {
  if (!fs::exists(kPython)) GTEST_SKIP() << "no " << kPython;
  TempDir dir;
  c10::impl::GenericDict d(c10::StringType::get(), c10::AnyType::get());
  c10::impl::GenericDict inner(c10::StringType::get(), c10::AnyType::get());
  inner.insert("n", int64_t{3});
  d.insert("inner", inner);
  d.insert("ints", c10::List<int64_t>({1, 2}));
  d.insert("tensors", c10::List<torch::Tensor>({torch::ones({2}), torch::zeros({1, 2})}));
  d.insert("x", 0.25);
  d.insert("flag", true);
  d.insert("name", std::string("atelier"));
  d.insert("strided", torch::arange(6, torch::kFloat32).view({2, 3}).t());
  ASSERT_OK_AND_ASSIGN(std::string bytes, WriteTorchFile(c10::IValue(d)));
  WriteFileOrDie(dir / "c.pt", bytes);
  auto py = RunPython(dir.path(), R"(
import sys, torch
d = torch.load(sys.argv[1], weights_only=True)
assert d["inner"] == {"n": 3}, d
assert d["ints"] == [1, 2]
assert torch.equal(d["tensors"][0], torch.ones(2)) and d["tensors"][1].shape == (1, 2)
assert float(d["x"]) == 0.25 and d["flag"] is True and d["name"] == "atelier"
assert torch.equal(d["strided"], torch.arange(6.0).view(2, 3).t())
print("ok")
)", {(dir / "c.pt").string()});
  EXPECT_EQ(py.exit_code, 0) << py.output;
  ASSERT_OK_AND_ASSIGN(c10::IValue back, ReadTorchFile(bytes, "c.pt"));
  EXPECT_EQ(back.toGenericDict().at("inner").toGenericDict().at("n").toInt(), 3);
}

TEST(TorchFileTest, RefusesOtherPythonObjectsAndGarbageInOneLine) {
  if (!fs::exists(kPython)) GTEST_SKIP() << "no " << kPython;
  TempDir dir;
  auto py = RunPython(dir.path(), R"(
import sys, collections, torch
torch.save({"c": collections.Counter("aab")}, sys.argv[1])
)", {(dir / "counter.pt").string()});
  ASSERT_EQ(py.exit_code, 0) << py.output;
  auto counter = ReadTorchFile(ReadFileOrEmpty(dir / "counter.pt"), "counter.pt");
  EXPECT_THAT(counter.status(), StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("collections.Counter")));
  auto garbage = ReadTorchFile("PK\x03\x04 this is not a zip archive", "garbage.pt");
  ASSERT_FALSE(garbage.ok());
  EXPECT_THAT(std::string(garbage.status().message()), ::testing::Not(::testing::HasSubstr("\n")));
}

TEST(ModelFileTest, FlippedBytesInTensorDataAreDetected) {
  TempDir dir;
  torch::manual_seed(3);
  Classifier model(SmallConfig());
  ASSERT_OK(SaveModelFile(dir / "model.pt", model));
  ASSERT_OK(LoadModelFile(dir / "model.pt").status());
  // The largest tensor's bytes are stored as they are: flip 64 of them.
  torch::Tensor biggest;
  for (auto& [name, t] : StateDict(*model)) {
    if (!biggest.defined() || t.numel() > biggest.numel()) biggest = t;
  }
  std::string bytes = ReadFileOrEmpty(dir / "model.pt");
  std::string tensor(static_cast<const char*>(biggest.data_ptr()), biggest.numel() * biggest.element_size());
  ASSERT_GE(tensor.size(), 64u);
  size_t at = bytes.find(tensor);
  ASSERT_NE(at, std::string::npos);
  for (size_t i = 0; i < 64; ++i) bytes[at + i] = static_cast<char>(bytes[at + i] ^ 0x5a);
  WriteFileOrDie(dir / "model.pt", bytes);
  EXPECT_THAT(LoadModelFile(dir / "model.pt").status(), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(ModelFileTest, ModelResavedByPythonsTorchSaveLoads) {
  if (!fs::exists(kPython)) GTEST_SKIP() << "no " << kPython;
  TempDir dir;
  torch::manual_seed(4);
  Classifier model(SmallConfig());
  ASSERT_OK(SaveModelFile(dir / "model.pt", model));
  auto py = RunPython(dir.path(), R"(
import sys, torch
d = torch.load(sys.argv[1], weights_only=True)
torch.save(d, sys.argv[2])
)", {(dir / "model.pt").string(), (dir / "resaved.pt").string()});
  ASSERT_EQ(py.exit_code, 0) << py.output;
  ASSERT_OK_AND_ASSIGN(Classifier back, LoadModelFile(dir / "resaved.pt"));
  auto a = StateDict(*model), b = StateDict(*back);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i].second, b[i].second)) << a[i].first;
}

// Files from before backbones and weights_only support: TorchScript type tags,
// no backbone, no checksum.
TEST(ModelFileTest, OldModelFilesStillLoad) {
  TempDir dir;
  torch::manual_seed(5);
  Classifier model(SmallConfig());
  c10::impl::GenericDict config(c10::StringType::get(), c10::AnyType::get());
  config.insert("in_channels", int64_t{3});
  config.insert("image_size", int64_t{8});
  config.insert("width", int64_t{4});
  config.insert("depth", int64_t{2});
  config.insert("dropout", 0.2);
  config.insert("batch_norm", true);
  config.insert("heads", c10::List<std::string>({"colour"}));
  c10::impl::GenericDict classes(c10::StringType::get(), c10::AnyType::get());
  classes.insert("colour", c10::List<std::string>({"red", "green", "blue"}));
  config.insert("classes", classes);
  c10::impl::GenericDict state(c10::StringType::get(), c10::TensorType::get());
  for (auto& [name, t] : StateDict(*model)) state.insert(name, t.detach().clone());
  c10::impl::GenericDict d(c10::StringType::get(), c10::AnyType::get());
  d.insert("format", std::string("atelier-model-v1"));
  d.insert("config", config);
  d.insert("state_dict", state);
  std::vector<char> bytes = torch::pickle_save(c10::IValue(d));
  WriteFileOrDie(dir / "old.pt", std::string(bytes.begin(), bytes.end()));
  ASSERT_OK_AND_ASSIGN(Classifier back, LoadModelFile(dir / "old.pt"));
  EXPECT_EQ(back->config.backbone, "small-cnn");
  EXPECT_EQ(back->config.normalize, "none");
  auto a = StateDict(*model), b = StateDict(*back);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i].second, b[i].second)) << a[i].first;
}

class CheckpointStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::manual_seed(6);
    model_ = Classifier(SmallConfig());
    optimizer_ = std::make_unique<AdamW>(model_->parameters(), AdamWOptions{});
    store_ = std::make_unique<CheckpointStore>(dir_ / "checkpoints", 5);
    ASSERT_OK(store_->Open().status());
    for (int64_t step : {10, 20, 30}) {
      ASSERT_OK(SaveCheckpoint(store_->PathFor(step), model_, *optimizer_, "{}"));
      ASSERT_OK(store_->Commit(step, false));
    }
  }
  TempDir dir_;
  Classifier model_{nullptr};
  std::unique_ptr<AdamW> optimizer_;
  std::unique_ptr<CheckpointStore> store_;
};

TEST_F(CheckpointStoreTest, ResumesFromLatestWhenItIsValid) {
  ASSERT_OK_AND_ASSIGN(std::optional<fs::path> found, FindResumeCheckpoint(*store_));
  EXPECT_EQ(found, store_->PathFor(30));
}

TEST_F(CheckpointStoreTest, GarbageOrEmptyLatestFallsBackToTheNewestValid) {
  WriteFileOrDie(store_->PathFor(30), "garbage, not a checkpoint");
  ASSERT_OK_AND_ASSIGN(std::optional<fs::path> found, FindResumeCheckpoint(*store_));
  EXPECT_EQ(found, store_->PathFor(20));
  WriteFileOrDie(store_->PathFor(20), "");
  ASSERT_OK_AND_ASSIGN(found, FindResumeCheckpoint(*store_));
  EXPECT_EQ(found, store_->PathFor(10));
}

TEST_F(CheckpointStoreTest, LatestNamingAMissingFileFallsBackToTheNewest) {
  WriteFileOrDie(dir_ / "checkpoints" / "latest", "ckpt-000000099.pt\n");
  ASSERT_OK_AND_ASSIGN(std::optional<fs::path> found, FindResumeCheckpoint(*store_));
  EXPECT_EQ(found, store_->PathFor(30));
}

TEST_F(CheckpointStoreTest, NoValidCheckpointIsAnErrorNotAFreshStart) {
  for (int64_t step : {10, 20, 30}) WriteFileOrDie(store_->PathFor(step), "garbage");
  EXPECT_THAT(FindResumeCheckpoint(*store_).status(), StatusIs(absl::StatusCode::kDataLoss));
  for (int64_t step : {10, 20, 30}) fs::remove(store_->PathFor(step));
  // Only a dangling `latest` left: still not a fresh start.
  EXPECT_FALSE(FindResumeCheckpoint(*store_).ok());
  fs::remove(dir_ / "checkpoints" / "latest");
  ASSERT_OK_AND_ASSIGN(std::optional<fs::path> none, FindResumeCheckpoint(*store_));
  EXPECT_FALSE(none.has_value());
}

TEST_F(CheckpointStoreTest, ChecksumOfACheckpointIsVerified) {
  std::string bytes = ReadFileOrEmpty(store_->PathFor(30));
  torch::Tensor w = model_->parameters().front();
  std::string tensor(static_cast<const char*>(w.data_ptr()), w.numel() * w.element_size());
  size_t at = bytes.find(tensor);
  ASSERT_NE(at, std::string::npos);
  for (size_t i = 0; i < std::min<size_t>(64, tensor.size()); ++i) bytes[at + i] = static_cast<char>(~bytes[at + i]);
  WriteFileOrDie(store_->PathFor(30), bytes);
  EXPECT_THAT(VerifyCheckpoint(store_->PathFor(30)), StatusIs(absl::StatusCode::kDataLoss));
  ASSERT_OK_AND_ASSIGN(std::optional<fs::path> found, FindResumeCheckpoint(*store_));
  EXPECT_EQ(found, store_->PathFor(20));
}

}  // namespace
}  // namespace atelier::trainer
