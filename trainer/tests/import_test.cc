#include "atelier/trainer/importer.h"

#include <zlib.h>

#include <fstream>

#include "atelier/common/status_matchers.h"
#include "atelier/dataset/shard_paths.h"
#include "atelier/dataset/shard_reader.h"
#include "atelier/dataset/shard_stats.h"
#include "atelier/testing/temp_dir.h"
#include "atelier/trainer/idx_file.h"
#include "atelier/trainer/image_set.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_images.h"

namespace atelier::trainer {
namespace {

using ::atelier::testing::StatusIs;
using ::atelier::testing::TempDir;
using ::atelier::testing::WriteFileOrDie;
namespace fs = std::filesystem;

std::vector<dataset::Sample> ReadAll(const fs::path& root) {
  std::vector<dataset::Sample> out;
  auto shards = dataset::ListShards(root);
  EXPECT_TRUE(shards.ok());
  for (const auto& shard : *shards) {
    auto reader = dataset::ShardReader::Open(shard);
    while (true) {
      auto next = (*reader)->Next();
      EXPECT_TRUE(next.ok()) << next.status();
      if (!next.ok() || !next->has_value()) break;
      out.push_back(std::move(**next));
    }
  }
  return out;
}

TEST(ImportTest, FolderWithSpacesAndNonAsciiNames) {
  TempDir dir;
  fs::path src = dir / "src";
  fs::create_directories(src / "United States");
  fs::create_directories(src / "Côte d'Ivoire");
  auto png = imaging::EncodePng(testing::SolidImage(6, 200, 10, 10));
  ASSERT_TRUE(png.ok());
  WriteFileOrDie(src / "United States" / "dress 1.png", *png);
  WriteFileOrDie(src / "United States" / "ドレス.png", *png);
  WriteFileOrDie(src / "Côte d'Ivoire" / "robe été.png", *png);
  WriteFileOrDie(src / "Côte d'Ivoire" / "notes.txt", "not an image");
  ImportOptions options;
  options.head = "country";
  options.data_root = dir / "data";
  options.samples_per_shard = 2;
  ASSERT_OK_AND_ASSIGN(ImportResult result, ImportFolder(src, options));
  EXPECT_EQ(result.imported, 3);
  EXPECT_EQ(result.skipped, 1);
  EXPECT_EQ(result.shards, 2);
  EXPECT_THAT(result.classes, ::testing::ElementsAre("Côte d'Ivoire", "United States"));
  std::map<std::string, std::string> by_path;
  for (const auto& s : ReadAll(options.data_root)) by_path[s.meta.extra.at("path")] = s.meta.labels.at("country");
  EXPECT_EQ(by_path["United States/ドレス.png"], "United States");
  EXPECT_EQ(by_path["Côte d'Ivoire/robe été.png"], "Côte d'Ivoire");
  EXPECT_EQ(by_path.size(), 3u);
  // A second import into the same root adds shards after the existing ones.
  ASSERT_OK_AND_ASSIGN(ImportResult again, ImportFolder(src, options));
  EXPECT_EQ(again.imported, 3);
  EXPECT_EQ(dataset::ListShards(options.data_root)->size(), 4u);
}

void WriteGzIdx(const fs::path& path, const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data) {
  std::string bytes = {0, 0, 8, static_cast<char>(dims.size())};
  for (uint32_t d : dims) {
    for (int s = 24; s >= 0; s -= 8) bytes.push_back(static_cast<char>((d >> s) & 0xff));
  }
  bytes.append(data.begin(), data.end());
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  gzclose(f);
}

TEST(ImportTest, IdxWithClassNames) {
  TempDir dir;
  std::vector<uint8_t> pixels(5 * 4 * 4);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 3);
  WriteGzIdx(dir / "images.gz", {5, 4, 4}, pixels);
  WriteGzIdx(dir / "labels.gz", {5}, {0, 1, 2, 1, 0});
  ImportOptions options;
  options.head = "item";
  options.data_root = dir / "data";
  ASSERT_OK_AND_ASSIGN(ImportResult result,
                       ImportIdx(dir / "images.gz", dir / "labels.gz", {"shirt", "bag", "boot"}, "fm", options));
  EXPECT_EQ(result.imported, 5);
  auto samples = ReadAll(options.data_root);
  ASSERT_EQ(samples.size(), 5u);
  EXPECT_EQ(samples[3].meta.key, "fm-000003");
  EXPECT_EQ(samples[3].meta.labels.at("item"), "bag");
  // The shard's stats.json counts its samples (predict and embed show a total and an ETA from it).
  ASSERT_OK_AND_ASSIGN(dataset::ShardStats stats,
                       dataset::ReadShardStats(options.data_root / "shards" / "000000.stats.json"));
  EXPECT_EQ(stats.samples, 5);
  // The pixels survive the PNG round trip (grey, so they load as one channel).
  LoadOptions load;
  load.image_size = 4;
  ASSERT_OK_AND_ASSIGN(ImageSet set, LoadDatasetRoot(options.data_root, load));
  EXPECT_EQ(set.channels, 1);
  for (int p = 0; p < 16; ++p) EXPECT_EQ(set.image(2)[p], pixels[2 * 16 + p]);
  // Too few class names, and mismatched counts, are errors naming the file.
  EXPECT_THAT(ImportIdx(dir / "images.gz", dir / "labels.gz", {"shirt"}, "fm2", options),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("labels.gz")));
  WriteGzIdx(dir / "short.gz", {4}, {0, 1, 2, 1});
  EXPECT_THAT(ImportIdx(dir / "images.gz", dir / "short.gz", {}, "fm3", options),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("short.gz")));
}

TEST(ImportTest, IdxReaderRejectsBadFiles) {
  TempDir dir;
  WriteFileOrDie(dir / "junk", "hello world");
  EXPECT_THAT(ReadIdxFile(dir / "junk"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ReadIdxFile(dir / "missing"), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace atelier::trainer
