#include "atelier/trainer/gpu/device_option.h"

#include "atelier/common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace atelier::trainer::gpu {
namespace {

using ::atelier::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(ParseDeviceOptionTest, AcceptsTheFourForms) {
  ASSERT_OK_AND_ASSIGN(DeviceChoice cpu, ParseDeviceOption("cpu"));
  EXPECT_EQ(cpu.kind, DeviceKind::kCpu);
  ASSERT_OK_AND_ASSIGN(DeviceChoice cuda, ParseDeviceOption("cuda"));
  EXPECT_EQ(cuda.kind, DeviceKind::kCuda);
  EXPECT_EQ(cuda.index, -1);
  ASSERT_OK_AND_ASSIGN(DeviceChoice autod, ParseDeviceOption(" Auto "));
  EXPECT_EQ(autod.kind, DeviceKind::kAuto);
  ASSERT_OK_AND_ASSIGN(DeviceChoice cuda3, ParseDeviceOption("CUDA:3"));
  EXPECT_EQ(cuda3.kind, DeviceKind::kCuda);
  EXPECT_EQ(cuda3.index, 3);
  ASSERT_OK_AND_ASSIGN(DeviceChoice cuda12, ParseDeviceOption("cuda:12"));
  EXPECT_EQ(cuda12.index, 12);
}

TEST(ParseDeviceOptionTest, RejectsOtherValuesNamingTheFlag) {
  for (const char* bad : {"", "gpu", "cuda:", "cuda:-1", "cuda:+1", "cuda:x", "cuda:1a", "cpu:0", "cuda 1", "mps"}) {
    EXPECT_THAT(ParseDeviceOption(bad),
                StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr("--device"), HasSubstr(bad))))
        << "'" << bad << "'";
  }
}

TEST(ResolveDeviceTest, CpuIsAlwaysCpu) {
  ASSERT_OK_AND_ASSIGN(ResolvedDevice d, ResolveDevice({DeviceKind::kCpu, -1}, 8, 3));
  EXPECT_FALSE(d.cuda);
  EXPECT_EQ(d.ToString(), "cpu");
}

TEST(ResolveDeviceTest, AutoPicksCudaOnlyWhenAGpuIsVisible) {
  ASSERT_OK_AND_ASSIGN(ResolvedDevice none, ResolveDevice({DeviceKind::kAuto, -1}, 0, 0));
  EXPECT_EQ(none.ToString(), "cpu");
  // Without GPUs LOCAL_RANK does not matter (several CPU ranks per node).
  ASSERT_OK_AND_ASSIGN(ResolvedDevice none2, ResolveDevice({DeviceKind::kAuto, -1}, 0, 5));
  EXPECT_EQ(none2.ToString(), "cpu");
  ASSERT_OK_AND_ASSIGN(ResolvedDevice gpu, ResolveDevice({DeviceKind::kAuto, -1}, 4, 2));
  EXPECT_EQ(gpu.ToString(), "cuda:2");
}

TEST(ResolveDeviceTest, CudaUsesLocalRank) {
  ASSERT_OK_AND_ASSIGN(ResolvedDevice d, ResolveDevice({DeviceKind::kCuda, -1}, 8, 7));
  EXPECT_TRUE(d.cuda);
  EXPECT_EQ(d.index, 7);
  EXPECT_EQ(d.ToString(), "cuda:7");
}

TEST(ResolveDeviceTest, CudaWithoutGpuIsAClearError) {
  EXPECT_THAT(ResolveDevice({DeviceKind::kCuda, -1}, 0, 0),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("--device cuda"), HasSubstr("no CUDA device"))));
  EXPECT_THAT(ResolveDevice({DeviceKind::kCuda, 0}, 0, 0), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(ResolveDeviceTest, LocalRankBeyondTheGpusIsAClearError) {
  EXPECT_THAT(ResolveDevice({DeviceKind::kCuda, -1}, 2, 2),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("LOCAL_RANK 2"), HasSubstr("2 CUDA device(s)"), HasSubstr("cuda:0"))));
  EXPECT_THAT(ResolveDevice({DeviceKind::kAuto, -1}, 1, 3),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("--device auto")));
}

TEST(ResolveDeviceTest, ExplicitIndexWinsOverLocalRank) {
  ASSERT_OK_AND_ASSIGN(ResolvedDevice d, ResolveDevice({DeviceKind::kCuda, 0}, 1, 5));
  EXPECT_EQ(d.ToString(), "cuda:0");
  EXPECT_THAT(ResolveDevice({DeviceKind::kCuda, 4}, 4, 0),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("--device cuda:4")));
}

TEST(ResolveDeviceTest, RejectsNegativeCounts) {
  EXPECT_THAT(ResolveDevice({DeviceKind::kAuto, -1}, -1, 0), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ResolveDevice({DeviceKind::kAuto, -1}, 1, -1), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace atelier::trainer::gpu
