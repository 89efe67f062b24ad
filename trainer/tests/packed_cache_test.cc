// The packed cache: built once, mapped afterwards, rebuilt when stale or damaged.
#include "atelier/trainer/packed_cache.h"

#include <cstring>
#include <fstream>

#include "atelier/common/status_matchers.h"
#include "atelier/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_images.h"

namespace atelier::trainer {
namespace {

using ::atelier::testing::StatusIs;
using ::atelier::testing::TempDir;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

LoadOptions Options(int size) {
  LoadOptions options;
  options.image_size = size;
  options.threads = 2;
  return options;
}

void ExpectSameImages(const ImageSet& a, const ImageSet& b) {
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(a.image_size, b.image_size);
  EXPECT_EQ(a.channels, b.channels);
  EXPECT_EQ(a.keys, b.keys);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.read_report, b.read_report);
  EXPECT_EQ(std::memcmp(a.pixel_data(), b.pixel_data(), static_cast<size_t>(a.size() * a.image_bytes())), 0);
}

TEST(PackedCacheTest, FirstRunBuildsLaterRunsMapTheSameImages) {
  TempDir dir;
  testing::WriteShard(dir / "data", 0, testing::ColourSamples(4, 16, 1, "a"));
  testing::WriteShard(dir / "data", 1, testing::ColourSamples(3, 16, 2, "b"));
  ASSERT_OK_AND_ASSIGN(ImageSet decoded, LoadDatasetRoot(dir / "data", Options(12)));

  CacheUse use = CacheUse::kMapped;
  ASSERT_OK_AND_ASSIGN(ImageSet built, LoadWithPackedCache(dir / "data", Options(12), dir / "cache", &use));
  EXPECT_EQ(use, CacheUse::kBuilt);
  EXPECT_TRUE(fs::exists(PackedCachePath(dir / "cache", Options(12))));
  ExpectSameImages(decoded, built);

  ASSERT_OK_AND_ASSIGN(ImageSet mapped, LoadWithPackedCache(dir / "data", Options(12), dir / "cache", &use));
  EXPECT_EQ(use, CacheUse::kMapped);
  EXPECT_TRUE(mapped.pixels.empty());
  ASSERT_NE(mapped.mapped, nullptr);
  ExpectSameImages(decoded, mapped);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(mapped.pixel_data()) % 4096, 0u);  // page-aligned pixels

  // A copy shares the map and outlives the original.
  ImageSet copy = mapped;
  mapped = ImageSet();
  ExpectSameImages(decoded, copy);
  // Nothing but the cache file is left in the folder (no temporaries).
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir / "cache")) files += entry.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST(PackedCacheTest, AnotherImageSizeIsAnotherCache) {
  TempDir dir;
  testing::WriteShard(dir / "data", 0, testing::ColourSamples(2, 16, 1));
  ASSERT_OK(LoadWithPackedCache(dir / "data", Options(12), dir / "cache").status());
  CacheUse use = CacheUse::kMapped;
  ASSERT_OK_AND_ASSIGN(ImageSet eight, LoadWithPackedCache(dir / "data", Options(8), dir / "cache", &use));
  EXPECT_EQ(use, CacheUse::kBuilt);
  EXPECT_EQ(eight.image_size, 8);
  EXPECT_NE(PackedCachePath(dir / "cache", Options(8)), PackedCachePath(dir / "cache", Options(12)));
}

TEST(PackedCacheTest, OtherChannelCountsAreConvertedLikeDecoding) {
  TempDir dir;
  testing::WriteShard(dir / "grey", 0,
                      {testing::PngSample("g-0", {{"label", "a"}}, testing::SolidImage(8, 10, 10, 10)),
                       testing::PngSample("g-1", {{"label", "b"}}, testing::SolidImage(8, 90, 90, 90))});
  LoadOptions rgb = Options(8);
  rgb.channels = 3;
  ASSERT_OK_AND_ASSIGN(ImageSet auto_grey, LoadWithPackedCache(dir / "grey", Options(8), dir / "grey-cache"));
  EXPECT_EQ(auto_grey.channels, 1);
  ASSERT_OK_AND_ASSIGN(ImageSet decoded_rgb, LoadDatasetRoot(dir / "grey", rgb));
  CacheUse use = CacheUse::kBuilt;
  ASSERT_OK_AND_ASSIGN(ImageSet cached_rgb, LoadWithPackedCache(dir / "grey", rgb, dir / "grey-cache", &use));
  EXPECT_EQ(use, CacheUse::kMapped);
  ExpectSameImages(decoded_rgb, cached_rgb);

  testing::WriteShard(dir / "colour", 0, testing::ColourSamples(2, 16, 1));
  LoadOptions grey = Options(12);
  grey.channels = 1;
  ASSERT_OK(LoadWithPackedCache(dir / "colour", Options(12), dir / "colour-cache").status());
  ASSERT_OK_AND_ASSIGN(ImageSet decoded_grey, LoadDatasetRoot(dir / "colour", grey));
  ASSERT_OK_AND_ASSIGN(ImageSet cached_grey, LoadWithPackedCache(dir / "colour", grey, dir / "colour-cache", &use));
  EXPECT_EQ(use, CacheUse::kMapped);
  EXPECT_EQ(cached_grey.channels, 1);
  ExpectSameImages(decoded_grey, cached_grey);
}

TEST(PackedCacheTest, ANewShardMakesTheCacheStaleAndItIsRebuilt) {
  TempDir dir;
  testing::WriteShard(dir / "data", 0, testing::ColourSamples(2, 16, 1, "a"));
  ASSERT_OK_AND_ASSIGN(std::string before, DatasetFingerprint(dir / "data", Options(12)));
  ASSERT_OK_AND_ASSIGN(ImageSet first, LoadWithPackedCache(dir / "data", Options(12), dir / "cache"));
  EXPECT_EQ(first.size(), 6);

  testing::WriteShard(dir / "data", 1, testing::ColourSamples(1, 16, 2, "b"));
  ASSERT_OK_AND_ASSIGN(std::string after, DatasetFingerprint(dir / "data", Options(12)));
  EXPECT_NE(before, after);
  EXPECT_THAT(MapPackedCache(PackedCachePath(dir / "cache", Options(12)), after).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("stale")));
  CacheUse use = CacheUse::kMapped;
  ASSERT_OK_AND_ASSIGN(ImageSet second, LoadWithPackedCache(dir / "data", Options(12), dir / "cache", &use));
  EXPECT_EQ(use, CacheUse::kBuilt);
  EXPECT_EQ(second.size(), 9);
}

TEST(PackedCacheTest, AnotherLabelFieldIsAnotherFingerprint) {
  TempDir dir;
  testing::WriteShard(dir / "data", 0, testing::ColourSamples(1, 16, 1, "a"));
  LoadOptions by_url = Options(12);
  by_url.label_fields = {{"u", dataset::LabelField::Kind::kJsonPath, "url"}};
  ASSERT_OK_AND_ASSIGN(std::string plain, DatasetFingerprint(dir / "data", Options(12)));
  ASSERT_OK_AND_ASSIGN(std::string labelled, DatasetFingerprint(dir / "data", by_url));
  EXPECT_NE(plain, labelled) << "labels from another field must not map a cache built with the old ones";
}

TEST(PackedCacheTest, ADamagedCacheIsReportedAndRebuilt) {
  TempDir dir;
  testing::WriteShard(dir / "data", 0, testing::ColourSamples(3, 16, 1));
  ASSERT_OK_AND_ASSIGN(ImageSet decoded, LoadDatasetRoot(dir / "data", Options(12)));
  ASSERT_OK(LoadWithPackedCache(dir / "data", Options(12), dir / "cache").status());
  const fs::path file = PackedCachePath(dir / "cache", Options(12));
  ASSERT_OK_AND_ASSIGN(std::string fingerprint, DatasetFingerprint(dir / "data", Options(12)));

  fs::resize_file(file, fs::file_size(file) - 100);  // a cut-off copy
  EXPECT_THAT(MapPackedCache(file, fingerprint).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(file.string())));
  CacheUse use = CacheUse::kMapped;
  ASSERT_OK_AND_ASSIGN(ImageSet rebuilt, LoadWithPackedCache(dir / "data", Options(12), dir / "cache", &use));
  EXPECT_EQ(use, CacheUse::kBuilt);
  ExpectSameImages(decoded, rebuilt);

  std::ofstream(file, std::ios::binary | std::ios::trunc) << "not a cache at all";
  EXPECT_THAT(MapPackedCache(file, fingerprint).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("bad magic")));
  std::ofstream(file, std::ios::binary | std::ios::trunc) << std::string("ATPACK01\x05\0\0\0\0\0\0\0{bad}", 21);
  EXPECT_THAT(MapPackedCache(file, fingerprint).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("not JSON")));
  EXPECT_THAT(MapPackedCache(dir / "cache" / "absent.atpack", fingerprint).status(),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST(PackedCacheTest, NoShardsIsAnErrorNamingTheRoot) {
  TempDir dir;
  fs::create_directories(dir / "empty" / "shards");
  EXPECT_THAT(LoadWithPackedCache(dir / "empty", Options(12), dir / "cache").status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr((dir / "empty").string())));
  EXPECT_FALSE(fs::exists(dir / "cache"));
}

}  // namespace
}  // namespace atelier::trainer
