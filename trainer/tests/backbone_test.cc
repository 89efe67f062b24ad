// Backbones: parity with torchvision (Debian's python3-torchvision builds each
// architecture with random weights; atelier loads the state_dict with --init's
// strict names and computes the same features), training with --backbone and
// --init, frozen backbones, exact resume, Python loading the result.
#include <algorithm>
#include <fstream>

#include "atelier/common/status_matchers.h"
#include "atelier/testing/subprocess.h"
#include "atelier/testing/temp_dir.h"
#include "atelier/trainer/model_file.h"
#include "atelier/trainer/torch_file.h"
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
using ::atelier::testing::SourcePath;
using ::atelier::testing::StatusIs;
using ::atelier::testing::TempDir;
using ::atelier::testing::WriteFileOrDie;
namespace fs = std::filesystem;

constexpr char kPython[] = "/usr/bin/python3";

::atelier::testing::CommandResult MakeReferences(const fs::path& dir, const std::vector<std::string>& archs) {
  std::vector<std::string> argv = {kPython, SourcePath("trainer/tests/python/torchvision_reference.py").string(),
                                   dir.string()};
  argv.insert(argv.end(), archs.begin(), archs.end());
  return RunCommand(argv);
}

ModelConfig ConfigFor(const std::string& backbone) {
  ModelConfig c;
  c.backbone = backbone;
  c.normalize = "imagenet";
  c.in_channels = 3;
  c.image_size = 64;
  c.labels.heads = {{"style", {"a", "b", "c"}}};
  return c;
}

TEST(BackboneTest, TorchvisionStateDictsLoadStrictlyAndGiveTorchvisionsFeatures) {
  if (!fs::exists(kPython)) GTEST_SKIP() << "no " << kPython;
  TempDir dir;
  const std::vector<std::string> archs = {"resnet18", "resnet34", "resnet50", "mobilenet_v3_small"};
  auto ref = MakeReferences(dir.path(), archs);
  ASSERT_EQ(ref.exit_code, 0) << ref.output;
  for (const std::string& arch : archs) {
    SCOPED_TRACE(arch);
    Classifier model(ConfigFor(arch));
    ASSERT_OK_AND_ASSIGN(InitWeights init, ReadInitWeights(dir / (arch + ".pth")));
    EXPECT_FALSE(init.atelier);
    ASSERT_OK(ApplyInitWeights(init, model));
    model->eval();
    ASSERT_OK_AND_ASSIGN(c10::IValue v, ReadTorchFile(ReadFileOrEmpty(dir / (arch + "-reference.pt")), arch));
    auto d = v.toGenericDict();
    torch::NoGradGuard no_grad;
    torch::Tensor x = d.at("input").toTensor();
    torch::Tensor expected = d.at("features").toTensor();
    torch::Tensor features = model->Features(x);
    ASSERT_EQ(features.sizes(), expected.sizes());
    EXPECT_LT((features - expected).abs().max().item<double>(), 1e-4);
    // The new heads sit on those features.
    auto logits = model->forward(x);
    ASSERT_EQ(logits.size(), 1u);
    EXPECT_EQ(logits[0].sizes(), (std::vector<int64_t>{1, 3}));
  }
}

TEST(BackboneTest, InitOfAnotherArchitectureIsRefusedNamingTheTensors) {
  if (!fs::exists(kPython)) GTEST_SKIP() << "no " << kPython;
  TempDir dir;
  auto ref = MakeReferences(dir.path(), {"resnet18"});
  ASSERT_EQ(ref.exit_code, 0) << ref.output;
  ASSERT_OK_AND_ASSIGN(InitWeights init, ReadInitWeights(dir / "resnet18.pth"));
  Classifier resnet34(ConfigFor("resnet34"));
  EXPECT_THAT(ApplyInitWeights(init, resnet34),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("layer1.2.")));
  Classifier mobilenet(ConfigFor("mobilenet_v3_small"));
  EXPECT_THAT(ApplyInitWeights(init, mobilenet), StatusIs(absl::StatusCode::kInvalidArgument));
  auto weights = init.tensors;
  init.tensors.emplace_back("extra.weight", torch::zeros({1}));
  Classifier resnet18(ConfigFor("resnet18"));
  EXPECT_THAT(ApplyInitWeights(init, resnet18),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("extra.weight")));
  init.tensors = weights;
  EXPECT_OK(ApplyInitWeights(init, resnet18));
}

TEST(BackboneTest, UnknownBackboneIsRefused) {
  EXPECT_THAT(ValidateModelConfig(ConfigFor("vgg16")),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("resnet18")));
}

std::vector<std::string> TrainArgs(const fs::path& data, const fs::path& out, int epochs) {
  return {BinaryPath("atelier-trainer").string(), "train", "--data", data.string(), "--out", out.string(),
          "--image-size", "32", "--epochs", std::to_string(epochs), "--batch-size", "8", "--lr", "0.001",
          "--warmup-epochs", "0", "--threads", "2", "--decode-threads", "1", "--plain", "--val-ratio", "0.2",
          "--test-ratio", "0"};
}

// resnet18 from a torchvision state_dict: trains, stops and resumes exactly,
// and Python (weights_only) rebuilds the model with the same logits.
TEST(BackboneTest, Resnet18FromATorchvisionInitTrainsResumesAndLoadsInPython) {
  if (!fs::exists(kPython)) GTEST_SKIP() << "no " << kPython;
  TempDir dir;
  auto ref = MakeReferences(dir.path(), {"resnet18"});
  ASSERT_EQ(ref.exit_code, 0) << ref.output;
  testing::WriteShard(dir / "data", 0, testing::ColourSamples(12, 32, 3));
  auto args = TrainArgs(dir / "data", dir / "straight", 2);
  args.insert(args.end(), {"--backbone", "resnet18", "--init", (dir / "resnet18.pth").string(),
                           "--freeze-backbone-epochs", "1", "--backbone-lr-scale", "0.1"});
  auto straight = RunCommand(args);
  ASSERT_EQ(straight.exit_code, 0) << straight.output;

  auto resumed_args = args;
  resumed_args[5] = (dir / "resumed").string();
  auto stopped_args = resumed_args;
  stopped_args.insert(stopped_args.end(), {"--stop-at-step", "4"});  // in epoch 2, after unfreezing
  auto stopped = RunCommand(stopped_args);
  ASSERT_EQ(stopped.exit_code, kExitCheckpointedOnSignal) << stopped.output;
  resumed_args.push_back("--resume");
  auto resumed = RunCommand(resumed_args);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;

  ASSERT_OK_AND_ASSIGN(Classifier a, LoadModelFile(dir / "straight" / "model.pt"));
  ASSERT_OK_AND_ASSIGN(Classifier b, LoadModelFile(dir / "resumed" / "model.pt"));
  EXPECT_EQ(a->config.backbone, "resnet18");
  EXPECT_EQ(a->config.normalize, "imagenet");
  auto sa = StateDict(*a), sb = StateDict(*b);
  ASSERT_EQ(sa.size(), sb.size());
  for (size_t i = 0; i < sa.size(); ++i) EXPECT_TRUE(torch::equal(sa[i].second, sb[i].second)) << sa[i].first;

  // Python: torch.load(weights_only=True) and the PyTorch twin, same logits.
  auto png = imaging::EncodePng(testing::SolidImage(32, 200, 30, 30));
  ASSERT_TRUE(png.ok());
  WriteFileOrDie(dir / "red.png", *png);
  auto predict = RunCommand({BinaryPath("atelier-trainer").string(), "predict", "--checkpoint",
                             (dir / "straight" / "model.pt").string(), "--dump-tensors", (dir / "dump.pt").string(),
                             (dir / "red.png").string()});
  ASSERT_EQ(predict.exit_code, 0) << predict.output;
  WriteFileOrDie(dir / "compare.py", R"(
import sys
sys.path.insert(0, sys.argv[1])
import torch
import atelier_model
saved = torch.load(sys.argv[2], weights_only=True)
assert saved["config"]["backbone"] == "resnet18", saved["config"]
model, cfg = atelier_model.load_model(sys.argv[2])
dump = torch.load(sys.argv[3], weights_only=True)
with torch.no_grad():
    logits = model(dump["input"])
diff = max(float((a - b).abs().max()) for a, b in zip(logits, dump["logits"]))
print("max abs diff", diff)
sys.exit(0 if diff < 1e-4 else 1)
)");
  auto compare = RunCommand({kPython, (dir / "compare.py").string(), SourcePath("bench/trainer").string(),
                             (dir / "straight" / "model.pt").string(), (dir / "dump.pt").string()});
  EXPECT_EQ(compare.exit_code, 0) << compare.output;
}

// Data parallel with a torchvision backbone over two Gloo processes, through
// a frozen epoch (the backbone's buckets get no gradients) and after it.
TEST(BackboneTest, TwoRanksTrainAResnetWithAFrozenEpoch) {
  TempDir dir;
  testing::WriteShard(dir / "data", 0, testing::ColourSamples(8, 32, 9));
  auto args = TrainArgs(dir / "data", dir / "run", 2);
  args.insert(args.end(), {"--backbone", "resnet18", "--freeze-backbone-epochs", "1", "--connect-timeout", "120"});
  *(std::find(args.begin(), args.end(), "--threads") + 1) = "1";
  std::string port = std::to_string(::atelier::testing::PickFreePort());
  std::map<std::string, std::string> env = {{"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", port}};
  auto env0 = env, env1 = env;
  env0["RANK"] = "0";
  env1["RANK"] = "1";
  ::atelier::testing::ChildProcess rank1(args, dir / "rank1.log", env1);
  auto rank0 = RunCommand(args, env0);
  ASSERT_EQ(rank0.exit_code, 0) << rank0.output << ReadFileOrEmpty(dir / "rank1.log");
  ASSERT_EQ(rank1.Wait(std::chrono::seconds(120)), 0) << ReadFileOrEmpty(dir / "rank1.log");
  ASSERT_OK_AND_ASSIGN(Classifier model, LoadModelFile(dir / "run" / "model.pt"));
  EXPECT_EQ(model->config.backbone, "resnet18");
  EXPECT_EQ(model->config.normalize, "none");  // no --init
}

// --freeze-backbone-epochs: the backbone's parameters stay those of --init
// (an atelier model here) while the heads learn.
TEST(BackboneTest, FrozenBackboneKeepsTheInitWeights) {
  TempDir dir;
  testing::WriteShard(dir / "data", 0, testing::ColourSamples(8, 12, 4));
  auto base = [&](const fs::path& out, int epochs) {
    return std::vector<std::string>{BinaryPath("atelier-trainer").string(), "train", "--data",
                                    (dir / "data").string(), "--out", out.string(), "--image-size", "12",
                                    "--width", "4", "--depth", "2", "--epochs", std::to_string(epochs),
                                    "--batch-size", "8", "--threads", "1", "--plain", "--val-ratio", "0",
                                    "--test-ratio", "0"};
  };
  auto first = RunCommand(base(dir / "first", 1));
  ASSERT_EQ(first.exit_code, 0) << first.output;
  auto args = base(dir / "frozen", 1);
  args.insert(args.end(), {"--init", (dir / "first" / "model.pt").string(), "--freeze-backbone-epochs", "1"});
  auto frozen = RunCommand(args);
  ASSERT_EQ(frozen.exit_code, 0) << frozen.output;
  args = base(dir / "thawed", 1);
  args.insert(args.end(), {"--init", (dir / "first" / "model.pt").string()});
  auto thawed = RunCommand(args);
  ASSERT_EQ(thawed.exit_code, 0) << thawed.output;

  ASSERT_OK_AND_ASSIGN(Classifier init, LoadModelFile(dir / "first" / "model.pt"));
  ASSERT_OK_AND_ASSIGN(Classifier f, LoadModelFile(dir / "frozen" / "model.pt"));
  ASSERT_OK_AND_ASSIGN(Classifier t, LoadModelFile(dir / "thawed" / "model.pt"));
  auto pi = init->named_parameters(), pf = f->named_parameters(), pt = t->named_parameters();
  int backbone = 0, changed_when_thawed = 0;
  for (const auto& item : pi) {
    if (item.key().rfind("heads.", 0) == 0) {
      EXPECT_FALSE(torch::equal(item.value(), pf[item.key()])) << item.key();
      continue;
    }
    ++backbone;
    EXPECT_TRUE(torch::equal(item.value(), pf[item.key()])) << item.key();
    changed_when_thawed += torch::equal(item.value(), pt[item.key()]) ? 0 : 1;
  }
  EXPECT_GT(backbone, 0);
  EXPECT_GT(changed_when_thawed, 0);
}

}  // namespace
}  // namespace atelier::trainer
