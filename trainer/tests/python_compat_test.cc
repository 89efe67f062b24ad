// model.pt is read by Python's torch.load (Debian's python3-torch) and the
// PyTorch twin of the model (bench/trainer/atelier_model.py) gives the same
// logits as the C++ model on the same input.
#include "atelier/testing/subprocess.h"
#include "atelier/testing/temp_dir.h"
#include "gtest/gtest.h"
#include "test_images.h"

namespace atelier::trainer {
namespace {

using ::atelier::testing::BinaryPath;
using ::atelier::testing::RunCommand;
using ::atelier::testing::TempDir;

constexpr char kCompare[] = R"(
import sys
sys.path.insert(0, sys.argv[1])
import torch
import atelier_model
model, cfg = atelier_model.load_model(sys.argv[2])
dump = torch.load(sys.argv[3])
assert cfg["heads"] == ["colour"], cfg["heads"]
assert cfg["classes"]["colour"] == ["blue", "green", "red"], cfg["classes"]
with torch.no_grad():
    logits = model(dump["input"])
diff = max(float((a - b).abs().max()) for a, b in zip(logits, dump["logits"]))
print("max abs diff", diff)
sys.exit(0 if diff < 1e-4 else 1)
)";

TEST(PythonCompatTest, ModelLoadsInPythonWithTheSameLogits) {
  if (!std::filesystem::exists("/usr/bin/python3")) GTEST_SKIP() << "no /usr/bin/python3";
  TempDir dir;
  testing::WriteShard(dir / "data", 0, testing::ColourSamples(8, 12, 4));
  auto train = RunCommand({BinaryPath("atelier-trainer").string(), "train", "--data", (dir / "data").string(), "--out",
                           (dir / "run").string(), "--image-size", "12", "--width", "4", "--depth", "2", "--epochs",
                           "2", "--batch-size", "8", "--threads", "1", "--plain", "--channels", "3"});
  ASSERT_EQ(train.exit_code, 0) << train.output;
  for (int i = 0; i < 3; ++i) {
    imaging::Image image = testing::SolidImage(16, uint8_t(40 * i), uint8_t(200 - 50 * i), uint8_t(90 + 30 * i));
    auto png = imaging::EncodePng(image);
    ASSERT_TRUE(png.ok());
    ::atelier::testing::WriteFileOrDie(dir / ("img" + std::to_string(i) + ".png"), *png);
  }
  auto predict = RunCommand({BinaryPath("atelier-trainer").string(), "predict", "--checkpoint",
                             (dir / "run" / "model.pt").string(), "--dump-tensors", (dir / "dump.pt").string(),
                             (dir / "img0.png").string(), (dir / "img1.png").string(), (dir / "img2.png").string()});
  ASSERT_EQ(predict.exit_code, 0) << predict.output;
  ::atelier::testing::WriteFileOrDie(dir / "compare.py", kCompare);
  auto compare = RunCommand({"/usr/bin/python3", (dir / "compare.py").string(), std::string(ATELIER_TRAINER_PYTHON_DIR),
                             (dir / "run" / "model.pt").string(), (dir / "dump.pt").string()});
  EXPECT_EQ(compare.exit_code, 0) << compare.output;
  EXPECT_NE(compare.output.find("max abs diff"), std::string::npos) << compare.output;
}

}  // namespace
}  // namespace atelier::trainer
