#include "atelier/common/env.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "atelier/common/status_matchers.h"
#include "atelier/testing/temp_dir.h"

namespace atelier {
namespace {

using ::atelier::testing::ReadFileOrEmpty;
using ::atelier::testing::StatusIs;
using ::atelier::testing::TempDir;
using ::atelier::testing::WriteFileOrDie;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

TEST(PosixEnvTest, WritesAppendsAndReadsFiles) {
  TempDir dir("env");
  Env& env = *Env::Default();
  const auto path = dir / "a";
  {
    ASSERT_OK_AND_ASSIGN(auto file, env.NewWritableFile(path, OpenMode::kCreateNew));
    ASSERT_OK(file->Append("hello "));
    ASSERT_OK(file->Append(std::string(100'000, 'x')));  // larger than the buffer
    EXPECT_EQ(file->size(), 100'006u);
    ASSERT_OK(file->Sync());
    ASSERT_OK(file->Close());
  }
  EXPECT_EQ(ReadFileOrEmpty(path), "hello " + std::string(100'000, 'x'));
  EXPECT_THAT(env.NewWritableFile(path, OpenMode::kCreateNew),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(path.string())));
  {
    ASSERT_OK_AND_ASSIGN(auto file, env.NewWritableFile(path, OpenMode::kAppend));
    EXPECT_EQ(file->size(), 100'006u);
    ASSERT_OK(file->Append("!"));
    ASSERT_OK(file->Flush());
    EXPECT_EQ(ReadFileOrEmpty(path).size(), 100'007u);  // flushed, still open
  }
  {
    ASSERT_OK_AND_ASSIGN(auto file, env.NewWritableFile(path, OpenMode::kTruncate));
    ASSERT_OK(file->Append("new"));
  }  // the destructor flushes and closes
  ASSERT_OK_AND_ASSIGN(std::string read, env.ReadFile(path));
  EXPECT_EQ(read, "new");
  ASSERT_OK_AND_ASSIGN(uint64_t size, env.GetFileSize(path));
  EXPECT_EQ(size, 3u);
}

TEST(PosixEnvTest, ErrorsNameThePath) {
  TempDir dir("env");
  Env& env = *Env::Default();
  const auto missing = dir / "missing" / "file";
  EXPECT_THAT(env.NewWritableFile(missing, OpenMode::kTruncate),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(missing.string())));
  EXPECT_THAT(env.ReadFile(missing), StatusIs(absl::StatusCode::kNotFound, HasSubstr(missing.string())));
  EXPECT_THAT(env.RemoveFile(missing), StatusIs(absl::StatusCode::kNotFound, HasSubstr(missing.string())));
  EXPECT_THAT(env.GetChildren(dir / "missing"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(env.RenameFile(missing, dir / "x"), StatusIs(absl::StatusCode::kNotFound, HasSubstr(missing.string())));
  EXPECT_FALSE(env.FileExists(missing));
}

TEST(PosixEnvTest, FullDiskIsResourceExhausted) {
  Env& env = *Env::Default();
  // /dev/full fails every write with ENOSPC.
  ASSERT_OK_AND_ASSIGN(auto file, env.NewWritableFile("/dev/full", OpenMode::kAppend));
  ASSERT_OK(file->Append("x"));  // buffered
  EXPECT_THAT(file->Flush(), StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("/dev/full")));
}

// The one mapping of errnos that crawler/disk_fault.h relies on.
TEST(PosixEnvTest, FileSystemErrorsMapFullDisksAndIoErrorsToRetryableCodes) {
  EXPECT_THAT(FileSystemError(ENOSPC, "x"), StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("x")));
  EXPECT_THAT(FileSystemError(EDQUOT, "x"), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(FileSystemError(EIO, "x"), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("x")));
  EXPECT_THAT(FileSystemError(ENOENT, "x"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(FileSystemError(EACCES, "x"), StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST(PosixEnvTest, RenamesListsAndRemoves) {
  TempDir dir("env");
  Env& env = *Env::Default();
  ASSERT_OK(env.CreateDirs(dir / "d" / "e"));
  ASSERT_OK(env.CreateDirs(dir / "d" / "e"));  // exists: OK
  WriteFileOrDie(dir / "d" / "a", "A");
  WriteFileOrDie(dir / "d" / "b", "B");
  ASSERT_OK_AND_ASSIGN(auto names, env.GetChildren(dir / "d"));
  EXPECT_THAT(names, UnorderedElementsAre("a", "b", "e"));

  EXPECT_THAT(env.RenameFileNoReplace(dir / "d" / "a", dir / "d" / "b"),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr((dir / "d" / "b").string())));
  EXPECT_EQ(ReadFileOrEmpty(dir / "d" / "a"), "A");
  EXPECT_EQ(ReadFileOrEmpty(dir / "d" / "b"), "B");
  ASSERT_OK(env.RenameFileNoReplace(dir / "d" / "a", dir / "d" / "c"));
  EXPECT_FALSE(env.FileExists(dir / "d" / "a"));
  EXPECT_EQ(ReadFileOrEmpty(dir / "d" / "c"), "A");
  ASSERT_OK(env.RenameFile(dir / "d" / "c", dir / "d" / "b"));
  EXPECT_EQ(ReadFileOrEmpty(dir / "d" / "b"), "A");
  ASSERT_OK(env.SyncDir(dir / "d"));
  ASSERT_OK(env.RemoveFile(dir / "d" / "b"));
  EXPECT_FALSE(env.FileExists(dir / "d" / "b"));
  EXPECT_EQ(ParentDir("name"), std::filesystem::path("."));
  EXPECT_EQ(ParentDir("/a/b"), std::filesystem::path("/a"));
}

}  // namespace
}  // namespace atelier
