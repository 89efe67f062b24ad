#include "atelier/trainer/launcher_env.h"

#include "atelier/common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace atelier::trainer {
namespace {

using ::atelier::testing::StatusIs;

TEST(LauncherEnvTest, NoLauncherIsOneRank) {
  ASSERT_OK_AND_ASSIGN(LaunchInfo info, LaunchInfoFromEnv({}));
  EXPECT_EQ(info.rank, 0);
  EXPECT_EQ(info.world_size, 1);
  EXPECT_EQ(info.launcher, "single");
}

TEST(LauncherEnvTest, Torchrun) {
  ASSERT_OK_AND_ASSIGN(LaunchInfo info, LaunchInfoFromEnv({{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"},
                                                           {"MASTER_ADDR", "10.0.0.5"}, {"MASTER_PORT", "1234"}}));
  EXPECT_EQ(info.launcher, "torchrun");
  EXPECT_EQ(info.rank, 3);
  EXPECT_EQ(info.world_size, 4);
  EXPECT_EQ(info.local_rank, 1);
  EXPECT_EQ(info.master_addr, "10.0.0.5");
  EXPECT_EQ(info.master_port, 1234);
}

TEST(LauncherEnvTest, SlurmUsesFirstHostOfNodeList) {
  ASSERT_OK_AND_ASSIGN(LaunchInfo info,
                       LaunchInfoFromEnv({{"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "8"}, {"SLURM_LOCALID", "1"},
                                          {"SLURM_JOB_NODELIST", "gpu[07-09,12],cpu1"}}));
  EXPECT_EQ(info.launcher, "slurm");
  EXPECT_EQ(info.rank, 5);
  EXPECT_EQ(info.world_size, 8);
  EXPECT_EQ(info.local_rank, 1);
  EXPECT_EQ(info.master_addr, "gpu07");
  EXPECT_EQ(info.master_port, 29500);
}

TEST(LauncherEnvTest, FirstSlurmHostForms) {
  EXPECT_EQ(*FirstSlurmHost("node1"), "node1");
  EXPECT_EQ(*FirstSlurmHost("a,b"), "a");
  EXPECT_EQ(*FirstSlurmHost("x-[3,5]-y"), "x-3-y");
  EXPECT_THAT(FirstSlurmHost(""), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(LauncherEnvTest, KubernetesIndexedJob) {
  ASSERT_OK_AND_ASSIGN(LaunchInfo info, LaunchInfoFromEnv({{"JOB_COMPLETION_INDEX", "2"}, {"WORLD_SIZE", "3"},
                                                           {"MASTER_ADDR", "train-0.train"}}));
  EXPECT_EQ(info.launcher, "kubernetes");
  EXPECT_EQ(info.rank, 2);
  EXPECT_EQ(info.world_size, 3);
  EXPECT_EQ(info.master_addr, "train-0.train");
  EXPECT_THAT(LaunchInfoFromEnv({{"JOB_COMPLETION_INDEX", "0"}, {"WORLD_SIZE", "3"}}),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("MASTER_ADDR")));
}

TEST(LauncherEnvTest, BadValuesNameTheVariable) {
  EXPECT_THAT(LaunchInfoFromEnv({{"RANK", "x"}, {"WORLD_SIZE", "2"}}),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("RANK")));
  EXPECT_THAT(LaunchInfoFromEnv({{"RANK", "2"}, {"WORLD_SIZE", "2"}}),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("world size")));
  EXPECT_THAT(LaunchInfoFromEnv({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "99999"}}),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("MASTER_PORT")));
}

}  // namespace
}  // namespace atelier::trainer
