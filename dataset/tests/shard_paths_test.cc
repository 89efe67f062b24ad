#include "atelier/dataset/shard_paths.h"

#include <chrono>
#include <string>

#include "atelier/common/status_matchers.h"
#include "atelier/common/testing/fault_env.h"
#include "atelier/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_samples.h"

namespace atelier::dataset {
namespace {

using ::atelier::testing::StatusIs;
using ::atelier::testing::TempDir;
using ::atelier::testing::WriteFileOrDie;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using test_data::FileNames;
namespace fs = std::filesystem;

TEST(ShardPathsTest, NamesShardsWithAtLeastSixDigits) {
  EXPECT_EQ(ShardPath("/data", 42), fs::path("/data/shards/000042.tar"));
  EXPECT_EQ(ShardPath("/data", 0), fs::path("/data/shards/000000.tar"));
  EXPECT_EQ(ShardPath("/data", 1234567), fs::path("/data/shards/1234567.tar"));
  EXPECT_EQ(ShardStatsPath("/data", 42), fs::path("/data/shards/000042.stats.json"));
  EXPECT_EQ(ShardIndexFromFileName("000042.tar"), 42u);
  EXPECT_EQ(ShardIndexFromFileName("1234567.tar"), 1234567u);
  for (const char* name : {"42.tar", "0000042.tar", "000042.tar.tmp-1-ab", "000042.stats.json", "00004a.tar",
                           "000042.TAR", ".tar", "99999999999999999999.tar"}) {
    EXPECT_EQ(ShardIndexFromFileName(name), std::nullopt) << name;
  }
}

TEST(ShardPathsTest, ListShardsReturnsCommittedShardsByIndex) {
  TempDir root("paths");
  const fs::path dir = ShardsDir(root.path());
  for (const char* name : {"000010.tar", "000002.tar", "1000000.tar", "000002.stats.json",
                           "000003.tar.tmp-77-00ff00ff00ff00ff", "000004.stats.json.tmp-77-0123456789abcdef",
                           "notes.txt", "42.tar"}) {
    WriteFileOrDie(dir / name, "x");
  }
  fs::create_directories(dir / "000005.tar");  // listed: the reader names it as unreadable
  ASSERT_OK_AND_ASSIGN(auto shards, ListShards(root.path()));
  EXPECT_THAT(shards, ElementsAre(dir / "000002.tar", dir / "000005.tar", dir / "000010.tar", dir / "1000000.tar"));
}

TEST(ShardPathsTest, ListShardsNamesAMissingDirectory) {
  TempDir root("paths");
  EXPECT_THAT(ListShards(root.path()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(ShardsDir(root.path()).string())));
}

TEST(ShardPathsTest, CleanStaleTemporariesRemovesOnlyOldTemporaries) {
  TempDir root("paths");
  const fs::path dir = ShardsDir(root.path());
  const char* kept[] = {"000001.tar", "000001.stats.json", "notes.tmp-1", "000009.tar.tmp-5-fresh"};
  const char* old[] = {"000002.tar.tmp-123-00000000deadbeef", "000002.stats.json.tmp-123-0000000000000001",
                       "1000000.tar.tmp-9-ffffffffffffffff"};
  for (const char* name : kept) WriteFileOrDie(dir / name, "x");
  const auto two_hours_ago = fs::file_time_type::clock::now() - std::chrono::hours(2);
  for (const char* name : old) {
    WriteFileOrDie(dir / name, "partial");
    fs::last_write_time(dir / name, two_hours_ago);
  }
  fs::last_write_time(dir / "000001.tar", two_hours_ago);

  ASSERT_OK_AND_ASSIGN(int removed, CleanStaleTemporaries(root.path(), absl::Now()));
  EXPECT_EQ(removed, 3);
  EXPECT_THAT(FileNames(dir), ElementsAre("000001.stats.json", "000001.tar", "000009.tar.tmp-5-fresh",
                                          "notes.tmp-1"));
  ASSERT_OK_AND_ASSIGN(removed, CleanStaleTemporaries(root.path(), absl::Now(), absl::ZeroDuration()));
  EXPECT_EQ(removed, 1);
  EXPECT_THAT(FileNames(dir), ElementsAre("000001.stats.json", "000001.tar", "notes.tmp-1"));
}

// When shard N is leased again, its temporaries from earlier attempts go,
// however fresh; those of other shards (perhaps being written) stay.
TEST(ShardPathsTest, RemoveShardTemporariesRemovesOnlyThatShardsTemporaries) {
  TempDir root("paths");
  const fs::path dir = ShardsDir(root.path());
  for (const char* name : {"000007.tar.tmp-11-00000000deadbeef", "000007.stats.json.tmp-11-0000000000000001",
                           "000007.tar", "000070.tar.tmp-12-0000000000000002", "000008.tar.tmp-13-0000000000000003",
                           "notes.tmp-1"}) {
    WriteFileOrDie(dir / name, "partial");
  }
  ASSERT_OK_AND_ASSIGN(int removed, RemoveShardTemporaries(root.path(), 7));
  EXPECT_EQ(removed, 2);
  EXPECT_THAT(FileNames(dir), ElementsAre("000007.tar", "000008.tar.tmp-13-0000000000000003",
                                          "000070.tar.tmp-12-0000000000000002", "notes.tmp-1"));
  ASSERT_OK_AND_ASSIGN(removed, RemoveShardTemporaries(root.path(), 7));
  EXPECT_EQ(removed, 0);
  ASSERT_OK_AND_ASSIGN(removed, RemoveShardTemporaries(root.path() / "nothing", 7));
  EXPECT_EQ(removed, 0);
}

// Sealed segments live beside shards/, not in it: no reader takes them for
// shards. When shard 7 is leased, its segment files that no seal names go;
// the start-up clean-up removes the segments of committed shards and old
// segment temporaries.
TEST(ShardPathsTest, SegmentsAreOutsideShardsAndCleanedUp) {
  TempDir root("paths");
  EXPECT_EQ(SegmentPath("/data", 7, 12, 3), fs::path("/data/segments/000007-12-3.tar"));
  EXPECT_EQ(SegmentPath("", 7, 12, 3), fs::path("segments/000007-12-3.tar"));
  const fs::path dir = SegmentsDir(root.path());
  for (const char* name : {"000007-12-0.tar", "000007-12-1.tar", "000007-12-2.tar.tmp-5-00ff", "000070-1-0.tar",
                           "000008-3-0.tar", "000008-3-1.tar.tmp-5-00aa", "notes.txt"}) {
    WriteFileOrDie(dir / name, "x");
  }
  ASSERT_OK_AND_ASSIGN(int removed, RemoveShardSegments(root.path(), 7, {"segments/000007-12-0.tar"}));
  EXPECT_EQ(removed, 2);
  EXPECT_THAT(FileNames(dir), ElementsAre("000007-12-0.tar", "000008-3-0.tar", "000008-3-1.tar.tmp-5-00aa",
                                          "000070-1-0.tar", "notes.txt"));
  WriteFileOrDie(ShardPath(root.path(), 7), "committed");
  fs::last_write_time(dir / "000008-3-1.tar.tmp-5-00aa", fs::file_time_type::clock::now() - std::chrono::hours(2));
  ASSERT_OK_AND_ASSIGN(removed, CleanStaleTemporaries(root.path(), absl::Now()));
  EXPECT_EQ(removed, 2);  // shard 7's segment (7 is committed) and the old temporary
  EXPECT_THAT(FileNames(dir), ElementsAre("000008-3-0.tar", "000070-1-0.tar", "notes.txt"));
  ASSERT_OK_AND_ASSIGN(auto shards, ListShards(root.path()));
  EXPECT_THAT(shards, ElementsAre(ShardPath(root.path(), 7)));
  ASSERT_OK_AND_ASSIGN(removed, RemoveShardSegments(root.path() / "nothing", 7, {}));
  EXPECT_EQ(removed, 0);
}

// The clean-up goes through the Env (a failing unlink is an error naming the
// file) and judges age against the `now` it is given.
TEST(ShardPathsTest, CleanStaleTemporariesGoesThroughTheEnvAndItsNow) {
  TempDir root("paths");
  const fs::path tmp = ShardsDir(root.path()) / "000003.tar.tmp-1-00ff";
  WriteFileOrDie(tmp, "partial");
  ASSERT_OK_AND_ASSIGN(int removed, CleanStaleTemporaries(root.path(), absl::Now()));
  EXPECT_EQ(removed, 0);  // fresh: a live writer's
  atelier::testing::FaultEnv env;
  env.Fail(atelier::testing::FaultEnv::Op::kRemove, EIO, "000003", 1);
  EXPECT_THAT(CleanStaleTemporaries(root.path(), absl::Now() + absl::Hours(2), kStaleTemporaryAge, &env),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr(tmp.string())));
  ASSERT_OK_AND_ASSIGN(removed, CleanStaleTemporaries(root.path(), absl::Now() + absl::Hours(2), kStaleTemporaryAge, &env));
  EXPECT_EQ(removed, 1);
  EXPECT_FALSE(fs::exists(tmp));
}

TEST(ShardPathsTest, CleanStaleTemporariesOfAMissingDirectoryIsZero) {
  TempDir root("paths");
  ASSERT_OK_AND_ASSIGN(int removed, CleanStaleTemporaries(root.path() / "nothing", absl::Now()));
  EXPECT_EQ(removed, 0);
}

}  // namespace
}  // namespace atelier::dataset
