#include "atelier/dataset/shard_stats.h"

#include <string>

#include "atelier/common/status_matchers.h"
#include "atelier/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace atelier::dataset {
namespace {

using ::atelier::testing::StatusIs;
using ::atelier::testing::TempDir;
using ::atelier::testing::WriteFileOrDie;
using ::testing::AllOf;
using ::testing::HasSubstr;

ShardStats FullStats() {
  ShardStats stats;
  stats.shard_index = 1234567;
  stats.items_total = 1000;
  stats.ok = 950;
  stats.dead = 40;
  stats.failed = 10;
  stats.dead_by_reason = {{"http_404", 30}, {"met_no_image", 10}};
  stats.errors_by_reason = {{"timeout", 7}, {"http_503", 3}};
  stats.bytes_downloaded = int64_t{5} << 32;
  stats.bytes_written = 123456789;
  stats.fetch_seconds = 812.25;
  stats.wall_seconds = 0.1;
  stats.attempt = 2;
  stats.worker_id = "node-3/pid-77";
  return stats;
}

TEST(ShardStatsTest, JsonRoundTripsEveryField) {
  const ShardStats stats = FullStats();
  ASSERT_OK_AND_ASSIGN(ShardStats parsed, ShardStatsFromJson(ShardStatsToJson(stats), "test"));
  EXPECT_EQ(parsed, stats);
  ASSERT_OK_AND_ASSIGN(ShardStats empty, ShardStatsFromJson(ShardStatsToJson(ShardStats{}), "test"));
  EXPECT_EQ(empty, ShardStats{});
}

TEST(ShardStatsTest, AbsentFieldsKeepDefaults) {
  ASSERT_OK_AND_ASSIGN(ShardStats stats, ShardStatsFromJson(R"({"ok": 3, "new_field": true})", "o"));
  ShardStats expected;
  expected.ok = 3;
  EXPECT_EQ(stats, expected);
}

TEST(ShardStatsTest, RejectsBadJsonNamingOriginAndField) {
  EXPECT_THAT(ShardStatsFromJson("{\"ok\": ", "/d/shards/000001.stats.json"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("/d/shards/000001.stats.json"), HasSubstr("invalid JSON"))));
  EXPECT_THAT(ShardStatsFromJson(R"({"shard_index": -1})", "o"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"shard_index\"")));
  EXPECT_THAT(ShardStatsFromJson(R"({"dead_by_reason": {"http_404": "3"}})", "o"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"dead_by_reason.http_404\"")));
  EXPECT_THAT(ShardStatsFromJson(R"({"fetch_seconds": "1s"})", "o"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"fetch_seconds\" must be a number")));
  EXPECT_THAT(ShardStatsFromJson("3", "o"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ShardStatsTest, ReadShardStatsNamesTheFile) {
  TempDir dir("stats");
  WriteFileOrDie(dir / "good.stats.json", ShardStatsToJson(FullStats()));
  ASSERT_OK_AND_ASSIGN(ShardStats stats, ReadShardStats(dir / "good.stats.json"));
  EXPECT_EQ(stats, FullStats());

  WriteFileOrDie(dir / "bad.stats.json", "{\"ok\": 1,,}");
  EXPECT_THAT(ReadShardStats(dir / "bad.stats.json"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr((dir / "bad.stats.json").string())));
  WriteFileOrDie(dir / "empty.stats.json", "");
  EXPECT_THAT(ReadShardStats(dir / "empty.stats.json"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty.stats.json")));
  EXPECT_THAT(ReadShardStats(dir / "missing.stats.json"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("missing.stats.json")));
}

}  // namespace
}  // namespace atelier::dataset
