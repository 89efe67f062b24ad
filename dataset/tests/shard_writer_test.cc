#include "atelier/dataset/shard_writer.h"

#include <unistd.h>

#include <cctype>
#include <string>

#include "atelier/common/status_matchers.h"
#include "atelier/common/testing/fault_env.h"
#include "atelier/dataset/sha256.h"
#include "atelier/dataset/shard_paths.h"
#include "atelier/dataset/shard_reader.h"
#include "atelier/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_samples.h"

namespace atelier::dataset {
namespace {

using ::atelier::testing::FaultEnv;
using ::atelier::testing::ReadFileOrEmpty;
using ::atelier::testing::StatusIs;
using ::atelier::testing::TempDir;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using test_data::FileNames;
using test_data::MakeSample;
namespace fs = std::filesystem;

TEST(ShardWriterTest, OnlyTheTemporaryExistsUntilCommit) {
  TempDir root("shard");
  ASSERT_OK_AND_ASSIGN(auto writer, ShardWriter::Open(root.path(), 3));
  const std::string tmp_name = writer->temporary_path().filename().string();
  EXPECT_THAT(tmp_name, MatchesRegex("000003\\.tar\\.tmp-[0-9]+-[0-9a-f]{16}"));
  EXPECT_EQ(tmp_name.substr(15, tmp_name.rfind('-') - 15), std::to_string(getpid()));
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK(writer->Add(MakeSample(i)));
    EXPECT_THAT(FileNames(ShardsDir(root.path())), ElementsAre(tmp_name));
  }
  EXPECT_EQ(writer->samples(), 20);
  const uint64_t written = writer->bytes_written();
  EXPECT_GE(written, std::filesystem::file_size(writer->temporary_path()));
  EXPECT_FALSE(std::filesystem::exists(ShardPath(root.path(), 3)));
  ASSERT_OK_AND_ASSIGN(auto committed, ListShards(root.path()));
  EXPECT_THAT(committed, IsEmpty());

  ASSERT_OK_AND_ASSIGN(CommittedShard shard, writer->Commit(ShardStats{}));
  EXPECT_EQ(shard.bytes, written + 1024);
  EXPECT_THAT(FileNames(ShardsDir(root.path())), ElementsAre("000003.stats.json", "000003.tar"));
}

TEST(ShardWriterTest, AbortAndDestructorRemoveTheTemporary) {
  TempDir root("shard");
  {
    ASSERT_OK_AND_ASSIGN(auto writer, ShardWriter::Open(root.path(), 1));
    ASSERT_OK(writer->Add(MakeSample(0)));
    writer->Abort();
    EXPECT_THAT(FileNames(ShardsDir(root.path())), IsEmpty());
    EXPECT_THAT(writer->Add(MakeSample(1)), StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_THAT(writer->Commit(ShardStats{}), StatusIs(absl::StatusCode::kFailedPrecondition));
  }
  {
    ASSERT_OK_AND_ASSIGN(auto writer, ShardWriter::Open(root.path(), 2));
    ASSERT_OK(writer->Add(MakeSample(0)));
    EXPECT_EQ(FileNames(ShardsDir(root.path())).size(), 1u);
  }
  EXPECT_THAT(FileNames(ShardsDir(root.path())), IsEmpty());
}

TEST(ShardWriterTest, CommitPublishesShardAndStats) {
  TempDir root("shard");
  ASSERT_OK_AND_ASSIGN(auto writer, ShardWriter::Open(root.path() / "new" / "root", 42));
  for (int i = 0; i < 30; ++i) ASSERT_OK(writer->Add(MakeSample(i)));
  ShardStats stats;
  stats.items_total = 33;
  stats.ok = 30;
  stats.dead = 3;
  stats.dead_by_reason = {{"http_404", 3}};
  stats.worker_id = "node7/123";
  ASSERT_OK_AND_ASSIGN(CommittedShard shard, writer->Commit(stats));

  const auto dir = root.path() / "new" / "root";
  EXPECT_EQ(shard.tar_path, ShardPath(dir, 42));
  EXPECT_EQ(shard.stats_path, ShardStatsPath(dir, 42));
  const std::string bytes = ReadFileOrEmpty(shard.tar_path);
  EXPECT_EQ(shard.bytes, bytes.size());
  EXPECT_EQ(shard.bytes % 512, 0u);
  EXPECT_EQ(bytes.substr(bytes.size() - 1024), std::string(1024, '\0'));
  EXPECT_EQ(shard.sha256, Sha256Hex(bytes));
  EXPECT_EQ(shard.samples, 30);

  ASSERT_OK_AND_ASSIGN(ShardStats read, ReadShardStats(shard.stats_path));
  stats.shard_index = 42;
  stats.bytes_written = static_cast<int64_t>(shard.bytes);
  EXPECT_EQ(read, stats);

  EXPECT_THAT(writer->Commit(stats), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(writer->Add(MakeSample(99)), StatusIs(absl::StatusCode::kFailedPrecondition));
  writer.reset();
  EXPECT_THAT(FileNames(ShardsDir(dir)), ElementsAre("000042.stats.json", "000042.tar"));
}

TEST(ShardWriterTest, OpenRefusesACommittedShard) {
  TempDir root("shard");
  ASSERT_OK(test_data::WriteTestShard(root.path(), 5, 2).status());
  EXPECT_THAT(ShardWriter::Open(root.path(), 5),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       AllOf(HasSubstr(ShardPath(root.path(), 5).string()), HasSubstr("never changes"))));
}

// OpenFile: the same tar at any path (a sealed segment), without stats.
TEST(ShardWriterTest, OpenFileWritesATarAnywhereButHasNoStats) {
  TempDir root("shard");
  const fs::path path = root.path() / "segments" / "000005-3-0.tar";
  ASSERT_OK_AND_ASSIGN(auto writer, ShardWriter::OpenFile(path));
  ASSERT_OK(writer->Add(MakeSample(1)));
  ASSERT_OK(writer->Add(MakeSample(2)));
  ASSERT_OK_AND_ASSIGN(CommittedShard tar, writer->Commit());
  EXPECT_EQ(tar.tar_path, path);
  EXPECT_EQ(tar.samples, 2);
  EXPECT_EQ(tar.sha256, Sha256Hex(ReadFileOrEmpty(path)));
  ASSERT_OK_AND_ASSIGN(auto reader, ShardReader::Open(path));
  int samples = 0;
  while (true) {
    ASSERT_OK_AND_ASSIGN(auto sample, reader->Next());
    if (!sample.has_value()) break;
    ++samples;
  }
  EXPECT_EQ(samples, 2);
  EXPECT_THAT(ShardWriter::OpenFile(path), StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(path.string())));
  ASSERT_OK_AND_ASSIGN(auto other, ShardWriter::OpenFile(root.path() / "segments" / "000005-3-1.tar"));
  ASSERT_OK(other->Add(MakeSample(3)));
  EXPECT_THAT(other->Commit(ShardStats{}), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(FileNames(root.path() / "segments"), ElementsAre("000005-3-0.tar"));
  EXPECT_FALSE(fs::exists(ShardsDir(root.path())));
}

TEST(ShardWriterTest, CommitNeverOverwritesACommittedShard) {
  TempDir root("shard");
  ASSERT_OK_AND_ASSIGN(auto late, ShardWriter::Open(root.path(), 5));
  ASSERT_OK(late->Add(MakeSample(50)));
  ASSERT_OK_AND_ASSIGN(CommittedShard first, test_data::WriteTestShard(root.path(), 5, 4));
  const std::string tar_before = ReadFileOrEmpty(first.tar_path);
  const std::string stats_before = ReadFileOrEmpty(first.stats_path);

  EXPECT_THAT(late->Commit(ShardStats{}),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(first.tar_path.string())));
  EXPECT_EQ(ReadFileOrEmpty(first.tar_path), tar_before);
  EXPECT_EQ(ReadFileOrEmpty(first.stats_path), stats_before);
  EXPECT_THAT(FileNames(ShardsDir(root.path())), ElementsAre("000005.stats.json", "000005.tar"));
}

// A full disk in the middle of the tar: ResourceExhausted naming the file, no
// temporary and no final tar left behind, and the writer refuses to go on.
TEST(ShardWriterTest, AFullDiskMidTarLeavesNeitherTemporaryNorShard) {
  TempDir root("shard");
  FaultEnv env;
  env.FailAppendsAfter(150'000, ENOSPC, ".tar.tmp-");
  ASSERT_OK_AND_ASSIGN(auto writer, ShardWriter::Open(root.path(), 6, &env));
  absl::Status status;
  for (int i = 0; i < 1000 && status.ok(); ++i) status = writer->Add(MakeSample(i));
  if (status.ok()) status = writer->Commit(ShardStats{}).status();
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr(".tar.tmp-")));
  EXPECT_EQ(env.failures(FaultEnv::Op::kAppend), 1);
  EXPECT_THAT(writer->Commit(ShardStats{}), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(FileNames(ShardsDir(root.path())), IsEmpty());
}

// An I/O error at the fsync or the rename: Unavailable, nothing published.
TEST(ShardWriterTest, AnIoErrorAtCommitPublishesNothing) {
  for (const FaultEnv::Op op : {FaultEnv::Op::kSync, FaultEnv::Op::kRename}) {
    TempDir root("shard");
    FaultEnv env;
    env.Fail(op, EIO);
    ASSERT_OK_AND_ASSIGN(auto writer, ShardWriter::Open(root.path(), 6, &env));
    ASSERT_OK(writer->Add(MakeSample(0)));
    EXPECT_THAT(writer->Commit(ShardStats{}), StatusIs(absl::StatusCode::kUnavailable));
    EXPECT_THAT(FileNames(ShardsDir(root.path())), IsEmpty());
  }
}

// The stats file goes through the same atomic write: a failed one leaves the
// earlier stats byte for byte, and no temporary.
TEST(ShardWriterTest, AFailedStatsWriteKeepsTheEarlierStats) {
  TempDir root("shard");
  ShardStats stats;
  stats.shard_index = 4;
  stats.ok = 1;
  std::filesystem::create_directories(ShardsDir(root.path()));
  ASSERT_OK(WriteShardStats(root.path(), stats));
  const std::string before = ReadFileOrEmpty(ShardStatsPath(root.path(), 4));
  FaultEnv env;
  env.Fail(FaultEnv::Op::kSync, EIO, ".stats.json");
  stats.ok = 2;
  EXPECT_THAT(WriteShardStats(root.path(), stats, &env),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("000004.stats.json")));
  EXPECT_EQ(ReadFileOrEmpty(ShardStatsPath(root.path(), 4)), before);
  EXPECT_THAT(FileNames(ShardsDir(root.path())), ElementsAre("000004.stats.json"));
}

TEST(ShardWriterTest, RejectsBadSamplesAndStaysUsable) {
  TempDir root("shard");
  ASSERT_OK_AND_ASSIGN(auto writer, ShardWriter::Open(root.path(), 0));
  ASSERT_OK(writer->Add(MakeSample(0)));

  Sample bad_key = MakeSample(1);
  bad_key.meta.key = "met-1.0";
  EXPECT_THAT(writer->Add(bad_key), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("met-1.0")));

  EXPECT_THAT(writer->Add(MakeSample(0)),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       AllOf(HasSubstr(MakeSample(0).meta.key), HasSubstr("duplicate key"))));

  Sample bad_hash = MakeSample(4);
  bad_hash.meta.sha256 = std::string(64, 'a');
  EXPECT_THAT(writer->Add(bad_hash),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(bad_hash.meta.key), HasSubstr("does not match the image bytes"))));

  Sample wrong_bytes = MakeSample(3);  // a JPEG sample carrying PNG bytes
  wrong_bytes.image_bytes = test_data::FakeImage(ImageFormat::kPng, 100, 1);
  EXPECT_THAT(writer->Add(wrong_bytes),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("the image bytes are png, not jpg")));

  Sample not_an_image = MakeSample(6);
  not_an_image.image_bytes = "<html>429 Too Many Requests</html>";
  EXPECT_THAT(writer->Add(not_an_image), StatusIs(absl::StatusCode::kInvalidArgument));

  Sample wrong_meta_format = MakeSample(7);
  wrong_meta_format.meta.image_format = "webp";
  EXPECT_THAT(writer->Add(wrong_meta_format),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("meta.image_format \"webp\"")));

  Sample upper_hash = MakeSample(8);
  upper_hash.meta.sha256 = Sha256Hex(upper_hash.image_bytes);
  for (char& c : upper_hash.meta.sha256) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  Sample jpeg_ext = MakeSample(9);
  jpeg_ext.meta.image_format = "JPEG";
  ASSERT_OK(writer->Add(upper_hash));
  ASSERT_OK(writer->Add(jpeg_ext));
  EXPECT_EQ(writer->samples(), 3);
  ASSERT_OK_AND_ASSIGN(CommittedShard shard, writer->Commit(ShardStats{}));

  ASSERT_OK_AND_ASSIGN(ShardListing listing, ListShard(shard.tar_path));
  ASSERT_EQ(listing.report, ReadReport{}) << listing.report.Summary();
  ASSERT_EQ(listing.samples.size(), 3u);
  EXPECT_EQ(listing.samples[1].key, upper_hash.meta.key);
  EXPECT_EQ(listing.samples[2].image_format, "jpg");
  ASSERT_OK_AND_ASSIGN(SampleMeta meta, ReadSampleMeta(shard.tar_path, upper_hash.meta.key));
  EXPECT_EQ(meta.sha256, Sha256Hex(upper_hash.image_bytes));
}

}  // namespace
}  // namespace atelier::dataset
