#include "atelier/common/testing/fault_env.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "atelier/common/status_matchers.h"
#include "atelier/testing/temp_dir.h"

namespace atelier::testing {
namespace {

using ::testing::HasSubstr;

TEST(FaultEnvTest, ForwardsWhenHealthyAndCountsCalls) {
  TempDir dir("fault-env");
  FaultEnv env;
  ASSERT_OK_AND_ASSIGN(auto file, env.NewWritableFile(dir / "a", OpenMode::kCreateNew));
  ASSERT_OK(file->Append("abc"));
  ASSERT_OK(file->Sync());
  ASSERT_OK(file->Close());
  EXPECT_EQ(ReadFileOrEmpty(dir / "a"), "abc");
  ASSERT_OK(env.RenameFile(dir / "a", dir / "b"));
  ASSERT_OK(env.RemoveFile(dir / "b"));
  EXPECT_EQ(env.calls(FaultEnv::Op::kCreate), 1);
  EXPECT_EQ(env.calls(FaultEnv::Op::kAppend), 1);
  EXPECT_EQ(env.calls(FaultEnv::Op::kSync), 1);
  EXPECT_EQ(env.calls(FaultEnv::Op::kRename), 1);
  EXPECT_EQ(env.calls(FaultEnv::Op::kRemove), 1);
  EXPECT_EQ(env.failures(FaultEnv::Op::kAppend), 0);
}

TEST(FaultEnvTest, AByteLimitWritesWhatFitsThenFailsWithEnospc) {
  TempDir dir("fault-env");
  FaultEnv env;
  env.FailAppendsAfter(5, ENOSPC, ".tmp");
  ASSERT_OK_AND_ASSIGN(auto other, env.NewWritableFile(dir / "other", OpenMode::kCreateNew));
  ASSERT_OK(other->Append("not limited: the path does not match"));
  ASSERT_OK_AND_ASSIGN(auto file, env.NewWritableFile(dir / "x.tmp", OpenMode::kCreateNew));
  ASSERT_OK(file->Append("abc"));
  EXPECT_THAT(file->Append("defg"),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr((dir / "x.tmp").string())));
  EXPECT_EQ(ReadFileOrEmpty(dir / "x.tmp"), "abcde");
  EXPECT_EQ(env.failures(FaultEnv::Op::kAppend), 1);
  env.Heal();
  ASSERT_OK(file->Append("fg"));
}

TEST(FaultEnvTest, FaultsMatchPathsAndCanBeCounted) {
  TempDir dir("fault-env");
  FaultEnv env;
  env.Fail(FaultEnv::Op::kRename, EIO, "target", 1);
  WriteFileOrDie(dir / "a", "A");
  EXPECT_OK(env.RenameFile(dir / "a", dir / "other"));
  EXPECT_THAT(env.RenameFile(dir / "other", dir / "target"),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr((dir / "target").string())));
  EXPECT_TRUE(env.FileExists(dir / "other"));  // a failed operation does nothing
  EXPECT_OK(env.RenameFileNoReplace(dir / "other", dir / "target"));  // only once
  EXPECT_EQ(env.calls(FaultEnv::Op::kRename), 3);
  EXPECT_EQ(env.failures(FaultEnv::Op::kRename), 1);

  env.Fail(FaultEnv::Op::kSync, EIO);
  ASSERT_OK_AND_ASSIGN(auto file, env.NewWritableFile(dir / "s", OpenMode::kCreateNew));
  EXPECT_THAT(file->Sync(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(file->Sync(), StatusIs(absl::StatusCode::kUnavailable));  // every time
  env.Fail(FaultEnv::Op::kCreate, EACCES, "denied");
  EXPECT_THAT(env.NewWritableFile(dir / "denied", OpenMode::kCreateNew),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_FALSE(env.FileExists(dir / "denied"));
}

}  // namespace
}  // namespace atelier::testing
