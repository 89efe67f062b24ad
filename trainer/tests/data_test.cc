// Data pipeline: channel order, grey detection, corrupt samples, batches.
#include <torch/torch.h>

#include "atelier/common/status_matchers.h"
#include "atelier/testing/temp_dir.h"
#include "atelier/trainer/batcher.h"
#include "atelier/trainer/image_set.h"
#include "atelier/trainer/inference.h"
#include "gtest/gtest.h"
#include "test_images.h"

namespace atelier::trainer {
namespace {

using ::atelier::testing::TempDir;
using testing::PngSample;
using testing::SolidImage;
using testing::WriteShard;

TEST(DataTest, RedGreenBlueRegionsLandInChannels012) {
  TempDir dir;
  // Left third red, middle third green, right third blue.
  imaging::Image image = SolidImage(24, 0, 0, 0);
  for (int y = 0; y < 24; ++y) {
    for (int x = 0; x < 24; ++x) {
      image.rgb[(y * 24 + x) * 3 + x / 8] = 255;
    }
  }
  WriteShard(dir.path(), 0, {PngSample("rgb-0", {{"label", "a"}}, image)});
  LoadOptions options;
  options.image_size = 24;
  ASSERT_OK_AND_ASSIGN(ImageSet set, LoadDatasetRoot(dir.path(), options));
  ASSERT_EQ(set.size(), 1);
  EXPECT_EQ(set.channels, 3);
  Batch batch = MakeBatch(set, {0}, 1, {0}, nullptr, 1, 0);
  ASSERT_EQ(batch.images.sizes(), (std::vector<int64_t>{1, 3, 24, 24}));
  for (int region = 0; region < 3; ++region) {
    torch::Tensor block = batch.images[0].narrow(2, region * 8, 8);  // [3, 24, 8]
    for (int c = 0; c < 3; ++c) {
      float expected = c == region ? 1.0f : 0.0f;
      EXPECT_FLOAT_EQ(block[c].min().item<float>(), expected) << "region " << region << " channel " << c;
      EXPECT_FLOAT_EQ(block[c].max().item<float>(), expected) << "region " << region << " channel " << c;
    }
  }
}

TEST(DataTest, GreyImagesGiveOneChannelAutomatically) {
  TempDir dir;
  WriteShard(dir.path(), 0,
             {PngSample("g-0", {{"label", "a"}}, SolidImage(8, 10, 10, 10)),
              PngSample("g-1", {{"label", "b"}}, SolidImage(8, 90, 90, 90))});
  LoadOptions options;
  options.image_size = 8;
  ASSERT_OK_AND_ASSIGN(ImageSet grey, LoadDatasetRoot(dir.path(), options));
  EXPECT_EQ(grey.channels, 1);
  EXPECT_EQ(grey.image(1)[0], 90);
  options.channels = 3;
  ASSERT_OK_AND_ASSIGN(ImageSet rgb, LoadDatasetRoot(dir.path(), options));
  EXPECT_EQ(rgb.channels, 3);
}

TEST(DataTest, CorruptSampleIsSkippedAndCounted) {
  TempDir dir;
  dataset::Sample bad = PngSample("bad-1", {{"label", "a"}}, SolidImage(8, 1, 2, 3));
  bad.image_bytes.resize(40);  // PNG magic, then nothing useful
  WriteShard(dir.path(), 0,
             {PngSample("ok-0", {{"label", "a"}}, SolidImage(8, 1, 2, 3)), bad,
              PngSample("ok-2", {{"label", "b"}}, SolidImage(8, 200, 2, 3))});
  LoadOptions options;
  options.image_size = 8;
  ASSERT_OK_AND_ASSIGN(ImageSet set, LoadDatasetRoot(dir.path(), options));
  EXPECT_EQ(set.size(), 2);
  EXPECT_EQ(set.read_report.skipped_by_reason, (std::map<std::string, int64_t>{{"undecodable", 1}}));
  ASSERT_EQ(set.read_report.examples.size(), 1u);
  EXPECT_NE(set.read_report.examples[0].find("bad-1"), std::string::npos);
  EXPECT_EQ(set.keys, (std::vector<std::string>{"ok-0", "ok-2"}));
}

// One bad sample costs one sample, and shards that give nothing are named.
TEST(DataTest, LoaderCountsBadSamplesByReasonAndNamesEmptyAndUnreadableShards) {
  TempDir dir;
  WriteShard(dir.path(), 0, {PngSample("a-0", {{"label", "a"}}, SolidImage(8, 1, 2, 3)),
                             PngSample("a-1", {{"label", "b"}}, SolidImage(8, 9, 2, 3))});
  WriteShard(dir.path(), 1, {PngSample("b-0", {{"label", "a"}}, SolidImage(8, 1, 2, 3)),
                             PngSample("b-1", {{"label", "b"}}, SolidImage(8, 9, 2, 3)),
                             PngSample("b-2", {{"label", "b"}}, SolidImage(8, 9, 9, 3))});
  const std::filesystem::path shards = dir / "shards";
  std::string bytes = ::atelier::testing::ReadFileOrEmpty(shards / "000001.tar");
  const size_t hash = bytes.find("\"sha256\":\"") + 10;  // b-0's: a stale hash
  bytes[hash] = bytes[hash] == '0' ? '1' : '0';
  ::atelier::testing::WriteFileOrDie(shards / "000001.tar", bytes);
  ::atelier::testing::WriteFileOrDie(shards / "000002.tar", "");
  std::filesystem::create_directories(shards / "000003.tar");
  LoadOptions options;
  options.image_size = 8;
  ASSERT_OK_AND_ASSIGN(ImageSet set, LoadDatasetRoot(dir.path(), options));
  EXPECT_EQ(set.keys, (std::vector<std::string>{"a-0", "a-1", "b-1", "b-2"}));
  EXPECT_EQ(set.read_report.skipped_by_reason, (std::map<std::string, int64_t>{{"sha256_mismatch", 1}}));
  ASSERT_EQ(set.read_report.bad_shards.size(), 2u);
  EXPECT_NE(set.read_report.bad_shards[0].find("000002.tar: empty file"), std::string::npos);
  EXPECT_NE(set.read_report.bad_shards[1].find("000003.tar: unreadable"), std::string::npos);
}

TEST(DataTest, TargetsFollowTheLabelSpace) {
  ImageSet set;
  set.image_size = 1;
  set.keys = {"a", "b", "c"};
  set.labels = {{{"m", "oil"}}, {{"m", "ink"}, {"e", "happy"}}, {{"m", "clay"}}};
  LabelSpace space;
  space.heads = {{"m", {"ink", "oil"}}, {"e", {"happy"}}};
  int64_t unknown = 0;
  std::vector<int32_t> t = BuildTargets(set, space, &unknown);
  EXPECT_EQ(t, (std::vector<int32_t>{1, -1, 0, 0, -1, -1}));
  EXPECT_EQ(unknown, 1);
}

}  // namespace
}  // namespace atelier::trainer
