// Grad-CAM (grad_cam.h) and `predict --explain`: on a model trained to tell a
// coloured square's colour, the heatmap of the square's class lies on the
// square wherever it is; heatmaps are normalised; the page is self-contained.
#include "atelier/trainer/grad_cam.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "atelier/common/status_matchers.h"
#include "atelier/imaging/image.h"
#include "atelier/testing/html_check.h"
#include "atelier/testing/subprocess.h"
#include "atelier/testing/temp_dir.h"
#include "atelier/trainer/explain_page.h"
#include "atelier/trainer/inference.h"
#include "atelier/trainer/model_file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_images.h"

namespace atelier::trainer {
namespace {

using ::atelier::testing::BinaryPath;
using ::atelier::testing::CommandResult;
using ::atelier::testing::RunCommand;
using ::atelier::testing::TempDir;
using ::atelier::testing::WriteFileOrDie;
namespace fs = std::filesystem;

constexpr int kSize = 16;

// A model that tells red, green and blue squares on grey noise apart.
class GradCamTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    testing::WriteShard(dir_->path() / "data", 0, testing::ColourSamples(30, kSize, 7));
    CommandResult train = RunCommand(
        {BinaryPath("atelier-trainer").string(), "train", "--data", (dir_->path() / "data").string(), "--out",
         (dir_->path() / "run").string(), "--image-size", std::to_string(kSize), "--width", "8", "--depth", "2",
         "--epochs", "8", "--batch-size", "16", "--lr", "0.01", "--warmup-epochs", "0.5", "--threads", "1",
         "--decode-threads", "1", "--plain", "--val-ratio", "0", "--seed", "3"});
    ASSERT_EQ(train.exit_code, 0) << train.output;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static fs::path ModelPath() { return dir_->path() / "run" / "model.pt"; }

  // Grey noise with a red square of side kSize/2 at (x0, y0).
  static imaging::Image RedSquareAt(int x0, int y0) {
    imaging::Image image = testing::SolidImage(kSize, 128, 128, 128);
    for (size_t i = 0; i < image.rgb.size(); ++i) image.rgb[i] = static_cast<uint8_t>(100 + (i * 37) % 56);
    for (int y = y0; y < y0 + kSize / 2; ++y) {
      for (int x = x0; x < x0 + kSize / 2; ++x) {
        image.rgb[(size_t(y) * kSize + x) * 3 + 0] = 230;
        image.rgb[(size_t(y) * kSize + x) * 3 + 1] = 20;
        image.rgb[(size_t(y) * kSize + x) * 3 + 2] = 20;
      }
    }
    return image;
  }

  static TempDir* dir_;
};
TempDir* GradCamTest::dir_ = nullptr;

// The number of heatmaps on an explain page.
int64_t CountHeatmaps(const fs::path& page) {
  std::ifstream in(page);
  const std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  int64_t heatmaps = 0;
  for (size_t at = html.find("class='heatmap'"); at != std::string::npos; at = html.find("class='heatmap'", at + 1)) {
    ++heatmaps;
  }
  return heatmaps;
}

TEST_F(GradCamTest, TheSquaresClassLightsUpTheSquareWhereverItIs) {
  ASSERT_OK_AND_ASSIGN(Classifier model, LoadModelFile(ModelPath()));
  const int red = model->config.labels.ClassIndex(0, "red");
  ASSERT_GE(red, 0);
  for (auto [x0, y0] : std::vector<std::pair<int, int>>{{0, 0}, {8, 8}, {8, 0}, {0, 8}}) {
    imaging::Image image = RedSquareAt(x0, y0);
    torch::Tensor prepared = torch::empty({1, kSize, kSize, 3}, torch::kUInt8);
    std::memcpy(prepared.data_ptr<uint8_t>(), image.rgb.data(), image.rgb.size());
    ASSERT_OK_AND_ASSIGN(auto maps, GradCam(model, prepared, 0, {red}));
    ASSERT_EQ(maps.size(), 1u);
    ASSERT_EQ(maps[0].size(), size_t(kSize * kSize));
    double inside = 0, outside = 0, peak = 0, low = 1;
    int peak_x = -1, peak_y = -1;
    for (int y = 0; y < kSize; ++y) {
      for (int x = 0; x < kSize; ++x) {
        const float v = maps[0][y * kSize + x];
        EXPECT_GE(v, 0.0f);
        EXPECT_LE(v, 1.0f);
        if (v > peak) peak = v, peak_x = x, peak_y = y;
        low = std::min(low, double(v));
        const bool in = x >= x0 && x < x0 + kSize / 2 && y >= y0 && y < y0 + kSize / 2;
        (in ? inside : outside) += v;
      }
    }
    EXPECT_FLOAT_EQ(peak, 1.0) << "scaled between its minimum and maximum";
    EXPECT_FLOAT_EQ(low, 0.0);
    // The peak lies on the square, and the square holds most of the heat.
    EXPECT_TRUE(peak_x >= x0 && peak_x < x0 + kSize / 2 && peak_y >= y0 && peak_y < y0 + kSize / 2)
        << x0 << "," << y0 << ": peak at " << peak_x << "," << peak_y;
    // The square is a quarter of the image: mean inside against mean outside.
    EXPECT_GT(inside / 64.0, 1.5 * (outside / 192.0)) << x0 << "," << y0;
  }
}

TEST_F(GradCamTest, RefusesAHeadOrClassTheModelDoesNotHave) {
  ASSERT_OK_AND_ASSIGN(Classifier model, LoadModelFile(ModelPath()));
  torch::Tensor prepared = torch::zeros({1, kSize, kSize, 3}, torch::kUInt8);
  EXPECT_FALSE(GradCam(model, prepared, 1, {0}).ok());
  EXPECT_FALSE(GradCam(model, prepared, 0, {7}).ok());
  EXPECT_FALSE(GradCam(model, prepared, 0, {0, 1}).ok());
}

TEST_F(GradCamTest, PredictExplainWritesASelfContainedPageWithAHeatmapPerImage) {
  TempDir dir;
  std::vector<std::string> args = {BinaryPath("atelier-trainer").string(), "predict", "--checkpoint",
                                   ModelPath().string(), "--explain", (dir / "page" / "explain.html").string()};
  for (auto [x0, y0] : std::vector<std::pair<int, int>>{{0, 0}, {8, 8}}) {
    ASSERT_OK_AND_ASSIGN(std::string png, imaging::EncodePng(RedSquareAt(x0, y0)));
    const fs::path file = dir / absl::StrCat("red <", x0, ">.png");
    WriteFileOrDie(file, png);
    args.push_back(file.string());
  }
  CommandResult r = RunCommand(args);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ifstream in(dir / "page" / "explain.html");
  const std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(CountHeatmaps(dir / "page" / "explain.html"), 2);  // two images x one head
  EXPECT_THAT(html, ::testing::HasSubstr("red &lt;8&gt;.png"));
  EXPECT_THAT(html, ::testing::HasSubstr("colour: red"));
  auto page = ::atelier::testing::CheckHtmlPage(dir / "page" / "explain.html");
  EXPECT_EQ(page.exit_code, 0) << page.output;

}

// Bulk runs explain their first --explain-limit readable inputs, from files
// (an unreadable one left out) and from shards.
TEST_F(GradCamTest, BulkExplainShowsTheFirstReadableInputs) {
  TempDir dir;
  const fs::path folder = dir / "folder";
  WriteFileOrDie(folder / "a-broken.png", "not an image");
  for (auto [x0, y0] : std::vector<std::pair<int, int>>{{0, 0}, {8, 8}, {8, 0}}) {
    ASSERT_OK_AND_ASSIGN(std::string png, imaging::EncodePng(RedSquareAt(x0, y0)));
    WriteFileOrDie(folder / absl::StrCat("b-red-", x0, "-", y0, ".png"), png);
  }
  const std::string trainer = BinaryPath("atelier-trainer").string();
  CommandResult files = RunCommand({trainer, "predict", "--checkpoint", ModelPath().string(), "--folder",
                                    folder.string(), "--out", (dir / "rows.jsonl").string(), "--explain",
                                    (dir / "files.html").string(), "--explain-limit", "2"});
  ASSERT_EQ(files.exit_code, 0) << files.output;
  EXPECT_EQ(CountHeatmaps(dir / "files.html"), 2);
  std::ifstream in(dir / "files.html");
  const std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(html, ::testing::HasSubstr("b-red-0-0.png"));
  EXPECT_THAT(html, ::testing::HasSubstr("b-red-8-0.png"));
  EXPECT_THAT(html, ::testing::Not(::testing::HasSubstr("b-red-8-8.png")));  // last in path order: past the limit
  EXPECT_THAT(html, ::testing::Not(::testing::HasSubstr("a-broken.png")));
  auto page = ::atelier::testing::CheckHtmlPage(dir / "files.html");
  EXPECT_EQ(page.exit_code, 0) << page.output;

  CommandResult shards = RunCommand({trainer, "predict", "--checkpoint", ModelPath().string(), "--data",
                                     (dir_->path() / "data").string(), "--explain", (dir / "shards.html").string(),
                                     "--explain-limit", "5"});
  ASSERT_EQ(shards.exit_code, 0) << shards.output;
  EXPECT_EQ(CountHeatmaps(dir / "shards.html"), 5);
  // Without --explain-limit: the first 32 of the 90 samples.
  CommandResult by_default = RunCommand({trainer, "predict", "--checkpoint", ModelPath().string(), "--data",
                                         (dir_->path() / "data").string(), "--explain",
                                         (dir / "default.html").string()});
  ASSERT_EQ(by_default.exit_code, 0) << by_default.output;
  EXPECT_EQ(CountHeatmaps(dir / "default.html"), 32);

  CommandResult no_page = RunCommand({trainer, "predict", "--checkpoint", ModelPath().string(), "--folder",
                                      folder.string(), "--out", (dir / "rows2.jsonl").string(), "--explain-limit", "2"});
  EXPECT_EQ(no_page.exit_code, 2) << "--explain-limit without --explain: " << no_page.output;
}

TEST(ExplainPageTest, OverlayKeepsPixelsWithoutEvidenceAndColoursTheHottest) {
  const std::vector<uint8_t> grey(4 * 3, 100);
  const std::vector<uint8_t> out = OverlayHeatmap(grey, 2, 3, {0.0f, 0.0f, 0.0f, 1.0f});
  EXPECT_EQ(std::vector<uint8_t>(out.begin(), out.begin() + 9), std::vector<uint8_t>(9, 100));
  EXPECT_GT(out[9], out[11]) << "the hottest pixel turns red, not blue";
  const std::vector<uint8_t> grey1(4, 100);  // one channel
  EXPECT_EQ(OverlayHeatmap(grey1, 2, 1, {0, 0, 0, 0}), std::vector<uint8_t>(12, 100));
}

}  // namespace
}  // namespace atelier::trainer
