// Runs the real `atelier` executable on shards written by the dataset library.
#include <filesystem>
#include <string>

#include "atelier/cli/role_dispatch.h"
#include "atelier/common/status_matchers.h"
#include "atelier/dataset/sample_key.h"
#include "atelier/dataset/shard_paths.h"
#include "atelier/dataset/shard_writer.h"
#include "atelier/testing/subprocess.h"
#include "atelier/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace atelier::cli {
namespace {

using ::atelier::testing::BinaryPath;
using ::atelier::testing::RunCommand;
using ::atelier::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

std::string Atelier() { return BinaryPath("atelier").string(); }

// A tiny PNG signature followed by filler: enough for format sniffing.
std::string FakePng(int size) {
  std::string bytes("\x89PNG\r\n\x1a\n", 8);
  bytes.resize(static_cast<size_t>(size), 'p');
  return bytes;
}

std::filesystem::path WriteShard(const std::filesystem::path& root, int samples) {
  auto writer = dataset::ShardWriter::Open(root, 7);
  EXPECT_OK(writer.status());
  for (int i = 0; i < samples; ++i) {
    dataset::Sample sample;
    sample.format = dataset::ImageFormat::kPng;
    sample.image_bytes = FakePng(600 + i);
    sample.meta.key = dataset::BamKey(1000 + i);
    sample.meta.source = "bam";
    sample.meta.url = "http://127.0.0.1/img/" + std::to_string(i) + ".png";
    sample.meta.labels = {{"media", "oilpaint"}, {"emotion", "happy"}};
    sample.meta.width = sample.meta.height = 4;
    sample.meta.original_width = sample.meta.original_height = 8;
    EXPECT_OK((*writer)->Add(sample));
  }
  auto committed = (*writer)->Commit(dataset::ShardStats{});
  EXPECT_OK(committed.status());
  return committed->tar_path;
}

TEST(AtelierCommand, HelpListsSubcommandsAndRoles) {
  auto result = RunCommand({Atelier(), "--help"});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_THAT(result.output, HasSubstr("version"));
  EXPECT_THAT(result.output, HasSubstr("shard"));
  EXPECT_THAT(result.output, HasSubstr("coordinator"));
  EXPECT_THAT(result.output, HasSubstr("train"));
}

TEST(AtelierCommand, VersionPrintsVersion) {
  auto result = RunCommand({Atelier(), "version"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_THAT(result.output, HasSubstr("atelier 0."));
}

TEST(AtelierCommand, UnknownSubcommandFails) {
  auto result = RunCommand({Atelier(), "frobnicate"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_THAT(result.output, HasSubstr("frobnicate"));
}

TEST(ShardCommand, LsListsEverySample) {
  TempDir dir("cli");
  auto shard = WriteShard(dir.path(), 3);
  auto result = RunCommand({Atelier(), "shard", "ls", shard.string()});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_THAT(result.output, HasSubstr("bam-1000"));
  EXPECT_THAT(result.output, HasSubstr("bam-1002"));
  EXPECT_THAT(result.output, HasSubstr("png"));
  EXPECT_THAT(result.output, HasSubstr("3 samples"));
}

TEST(ShardCommand, LsJsonPrintsOneObjectPerSample) {
  TempDir dir("cli");
  auto shard = WriteShard(dir.path(), 2);
  auto result = RunCommand({Atelier(), "shard", "ls", "--json", shard.string()});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_THAT(result.output, HasSubstr(R"({"key":"bam-1001","format":"png","bytes":601,)"));
}

TEST(ShardCommand, CatPrintsMetadata) {
  TempDir dir("cli");
  auto shard = WriteShard(dir.path(), 2);
  auto result = RunCommand({Atelier(), "shard", "cat", shard.string(), "bam-1001"});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_THAT(result.output, HasSubstr("\"oilpaint\""));
  EXPECT_THAT(result.output, HasSubstr("http://127.0.0.1/img/1.png"));
}

TEST(ShardCommand, CatUnknownKeyNamesKeyAndFile) {
  TempDir dir("cli");
  auto shard = WriteShard(dir.path(), 1);
  auto result = RunCommand({Atelier(), "shard", "cat", shard.string(), "bam-4242"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.output, HasSubstr("bam-4242"));
  EXPECT_THAT(result.output, HasSubstr(shard.filename().string()));
}

TEST(ShardCommand, LsOnTruncatedShardKeepsIntactSamplesAndFails) {
  TempDir dir("cli");
  auto shard = WriteShard(dir.path(), 3);
  std::filesystem::resize_file(shard, std::filesystem::file_size(shard) - 1500);
  auto result = RunCommand({Atelier(), "shard", "ls", shard.string()});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.output, HasSubstr("bam-1000"));
  EXPECT_THAT(result.output, HasSubstr("intact samples"));
}

// A WebDataset shard atelier did not write: img2dataset's layout written by
// Python's tarfile, without atelier's sha256 (issue 16: it was refused).
TEST(ShardCommand, LsAndCatReadAForeignImg2datasetShard) {
  TempDir dir("cli");
  const auto shard = dir / "00000.tar";
  auto written = RunCommand({"/usr/bin/python3", ATELIER_IMG2DATASET_SCRIPT, shard.string()});
  ASSERT_EQ(written.exit_code, 0) << written.output;
  auto result = RunCommand({Atelier(), "shard", "ls", shard.string()});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_THAT(result.output, HasSubstr("000000000"));
  EXPECT_THAT(result.output, HasSubstr("part.v1/000000003"));
  EXPECT_THAT(result.output, HasSubstr("webp"));
  EXPECT_THAT(result.output, HasSubstr("6 samples"));
  auto cat = RunCommand({Atelier(), "shard", "cat", shard.string(), "000000002"});
  ASSERT_EQ(cat.exit_code, 0) << cat.output;
  EXPECT_THAT(cat.output, HasSubstr("\"caption\": \"a painting number 2\""));
  EXPECT_THAT(cat.output, HasSubstr("\"status\": \"success\""));
}

TEST(ShardCommand, LsNamesAnEmptyShardAndFails) {
  TempDir dir("cli");
  ::atelier::testing::WriteFileOrDie(dir / "000001.tar", "");
  auto result = RunCommand({Atelier(), "shard", "ls", (dir / "000001.tar").string()});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.output, HasSubstr("000001.tar: empty file"));
}

TEST(ShardCommand, LsMissingFileNamesIt) {
  auto result = RunCommand({Atelier(), "shard", "ls", "/nonexistent/000001.tar"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.output, HasSubstr("/nonexistent/000001.tar"));
}

TEST(RoleDispatch, KnowsEveryRole) {
  for (const char* role : {"coordinator", "crawler", "train", "predict", "evaluate", "demo"}) {
    EXPECT_NE(FindRoleCommand(role), nullptr) << role;
  }
  EXPECT_EQ(FindRoleCommand("shard"), nullptr);
  EXPECT_EQ(FindRoleCommand("train")->executable, "atelier-trainer");
  EXPECT_TRUE(FindRoleCommand("train")->pass_subcommand);
}

TEST(RoleDispatch, LocateExecutablePrefersSelfDirectory) {
  TempDir dir("cli");
  auto fake = dir.path() / "atelier-fake-role";
  atelier::testing::WriteFileOrDie(fake, "#!/bin/sh\n");
  std::filesystem::permissions(fake, std::filesystem::perms::owner_all);
  ASSERT_OK_AND_ASSIGN(std::string found, LocateExecutable("atelier-fake-role", dir.path().string()));
  EXPECT_EQ(found, fake.string());
}

TEST(RoleDispatch, LocateMissingExecutableIsNotFound) {
  TempDir dir("cli");
  EXPECT_THAT(LocateExecutable("atelier-no-such-role", dir.path().string()),
              atelier::testing::StatusIs(absl::StatusCode::kNotFound, HasSubstr("atelier-no-such-role")));
}

}  // namespace
}  // namespace atelier::cli
