#include "atelier/common/atomic_file.h"

#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "atelier/common/status_matchers.h"
#include "atelier/common/testing/fault_env.h"
#include "atelier/testing/temp_dir.h"

namespace atelier {
namespace {

using ::atelier::testing::FaultEnv;
using ::atelier::testing::ReadFileOrEmpty;
using ::atelier::testing::StatusIs;
using ::atelier::testing::TempDir;
using ::atelier::testing::WriteFileOrDie;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

std::vector<std::string> Names(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(AtomicFileTest, WritesAndReplaces) {
  TempDir dir("atomic");
  ASSERT_OK(WriteFileAtomically(*Env::Default(), dir / "f", "one"));
  EXPECT_EQ(ReadFileOrEmpty(dir / "f"), "one");
  ASSERT_OK(WriteFileAtomically(*Env::Default(), dir / "f", "two"));
  EXPECT_EQ(ReadFileOrEmpty(dir / "f"), "two");
  EXPECT_THAT(Names(dir.path()), ElementsAre("f"));
}

TEST(AtomicFileTest, NoReplaceRefusesAnExistingFile) {
  TempDir dir("atomic");
  WriteFileOrDie(dir / "f", "old");
  EXPECT_THAT(WriteFileAtomically(*Env::Default(), dir / "f", "new", {.no_replace = true}),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr((dir / "f").string())));
  // The file appears while the AtomicFile is open: the rename refuses too.
  ASSERT_OK_AND_ASSIGN(auto file, AtomicFile::Create(*Env::Default(), dir / "g", {.no_replace = true}));
  ASSERT_OK(file->Append("late"));
  WriteFileOrDie(dir / "g", "first");
  EXPECT_THAT(file->Commit(), StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr((dir / "g").string())));
  EXPECT_EQ(ReadFileOrEmpty(dir / "f"), "old");
  EXPECT_EQ(ReadFileOrEmpty(dir / "g"), "first");
  EXPECT_THAT(Names(dir.path()), ElementsAre("f", "g"));
}

TEST(AtomicFileTest, TheTemporaryIsBesideTheTargetUntilCommit) {
  TempDir dir("atomic");
  ASSERT_OK_AND_ASSIGN(auto file, AtomicFile::Create(*Env::Default(), dir / "000001.tar"));
  const std::string name = file->temporary_path().filename().string();
  EXPECT_THAT(name, MatchesRegex("000001\\.tar\\.tmp-[0-9]+-[0-9a-f]{16}"));
  EXPECT_THAT(name, HasSubstr(absl::StrCat(".tmp-", getpid(), "-")));
  ASSERT_OK(file->Append("abc"));
  EXPECT_EQ(file->size(), 3u);
  ASSERT_OK(file->Flush());
  EXPECT_EQ(ReadFileOrEmpty(file->temporary_path()), "abc");  // readable before the commit
  EXPECT_THAT(Names(dir.path()), ElementsAre(name));
  ASSERT_OK(file->Commit());
  EXPECT_THAT(Names(dir.path()), ElementsAre("000001.tar"));
  EXPECT_THAT(file->Append("more"), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(file->Commit(), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(AtomicFileTest, AbortAndTheDestructorRemoveTheTemporary) {
  TempDir dir("atomic");
  {
    ASSERT_OK_AND_ASSIGN(auto file, AtomicFile::Create(*Env::Default(), dir / "a"));
    ASSERT_OK(file->Append("x"));
    file->Abort();
    EXPECT_THAT(Names(dir.path()), ElementsAre());
    EXPECT_THAT(file->Commit(), StatusIs(absl::StatusCode::kFailedPrecondition));
  }
  {
    ASSERT_OK_AND_ASSIGN(auto file, AtomicFile::Create(*Env::Default(), dir / "b"));
    ASSERT_OK(file->Append("x"));
  }
  EXPECT_THAT(Names(dir.path()), ElementsAre());
}

// Every failure of the write leaves the old file byte for byte and no temporary.
struct FaultCase {
  const char* name;
  void (*inject)(FaultEnv&);
  absl::StatusCode code;
};

class AtomicFileFaultTest : public ::testing::TestWithParam<FaultCase> {};

TEST_P(AtomicFileFaultTest, AFailedWriteLeavesTheOldFileAndNoTemporary) {
  TempDir dir("atomic");
  const std::string old_bytes = std::string("old\0bytes", 9) + std::string(70'000, 'o');
  WriteFileOrDie(dir / "f", old_bytes);
  FaultEnv env;
  GetParam().inject(env);
  const absl::Status status = WriteFileAtomically(env, dir / "f", std::string(200'000, 'n'));
  EXPECT_THAT(status, StatusIs(GetParam().code, HasSubstr((dir / "f").string())));
  EXPECT_THAT(std::string(status.message()), HasSubstr("injected"));
  EXPECT_EQ(ReadFileOrEmpty(dir / "f"), old_bytes);
  EXPECT_THAT(Names(dir.path()), ElementsAre("f"));
  env.Heal();
  ASSERT_OK(WriteFileAtomically(env, dir / "f", "healed"));
  EXPECT_EQ(ReadFileOrEmpty(dir / "f"), "healed");
}

INSTANTIATE_TEST_SUITE_P(
    Faults, AtomicFileFaultTest,
    ::testing::Values(
        FaultCase{"FullDiskMidWrite", [](FaultEnv& env) { env.FailAppendsAfter(100'000); },
                  absl::StatusCode::kResourceExhausted},
        FaultCase{"CreateFails", [](FaultEnv& env) { env.Fail(FaultEnv::Op::kCreate, ENOSPC); },
                  absl::StatusCode::kResourceExhausted},
        FaultCase{"SyncFails", [](FaultEnv& env) { env.Fail(FaultEnv::Op::kSync, EIO); },
                  absl::StatusCode::kUnavailable},
        FaultCase{"CloseFails", [](FaultEnv& env) { env.Fail(FaultEnv::Op::kClose, EIO); },
                  absl::StatusCode::kUnavailable},
        FaultCase{"RenameFails", [](FaultEnv& env) { env.Fail(FaultEnv::Op::kRename, EIO); },
                  absl::StatusCode::kUnavailable}),
    [](const ::testing::TestParamInfo<FaultCase>& info) { return std::string(info.param.name); });

TEST(AtomicFileTest, AFailedDirectorySyncIsReportedButTheFileIsInPlace) {
  TempDir dir("atomic");
  FaultEnv env;
  env.Fail(FaultEnv::Op::kSyncDir, EIO);
  EXPECT_THAT(WriteFileAtomically(env, dir / "f", "new"), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(ReadFileOrEmpty(dir / "f"), "new");
  EXPECT_THAT(Names(dir.path()), ElementsAre("f"));
}

TEST(AtomicFileTest, CommitSyncsTheFileAndTheDirectory) {
  TempDir dir("atomic");
  FaultEnv env;
  ASSERT_OK(WriteFileAtomically(env, dir / "f", "x"));
  EXPECT_EQ(env.calls(FaultEnv::Op::kSync), 1);
  EXPECT_EQ(env.calls(FaultEnv::Op::kRename), 1);
  EXPECT_EQ(env.calls(FaultEnv::Op::kSyncDir), 1);
}

}  // namespace
}  // namespace atelier
