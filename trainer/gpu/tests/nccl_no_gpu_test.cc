// Tests of atelier_nccl that run on a machine without a GPU (CI): the library
// compiles and links against the CUDA runtime and NCCL, reports the NCCL
// version, handles unique ids, and fails cleanly (never crashes) when asked for
// a communicator without a GPU. On a machine with a GPU the no-GPU tests skip;
// nccl_allreduce_check covers that machine.
#include <cstdlib>
#include <string>

#include "atelier/common/status_matchers.h"
#include "atelier/trainer/gpu/cuda_status.h"
#include "atelier/trainer/gpu/nccl_communicator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace atelier::trainer::gpu {
namespace {

using ::atelier::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

std::string SomeIdBytes() {
  std::string bytes(NCCL_UNIQUE_ID_BYTES, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 37 + 11);
  return bytes;
}

TEST(NcclLinkTest, LinkedVersionMatchesTheHeader) {
  int version = 0;
  ASSERT_OK(LinkedNcclVersion(&version));
  EXPECT_EQ(version, NCCL_VERSION_CODE);
  EXPECT_GE(version, NCCL_VERSION(2, 14, 0)) << "non-blocking communicators need NCCL 2.14";
}

TEST(NcclStatusTest, MapsResultsToCodesAndMessages) {
  EXPECT_OK(NcclStatus(ncclSuccess, "x"));
  EXPECT_THAT(NcclStatus(ncclRemoteError, "allreduce"),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("allreduce: NCCL error")));
  EXPECT_THAT(NcclStatus(ncclInvalidArgument, "x"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(NcclStatus(ncclInvalidUsage, "x"), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(NcclStatus(ncclInternalError, "x"), StatusIs(absl::StatusCode::kInternal));
  EXPECT_OK(CudaStatus(cudaSuccess, "x"));
  EXPECT_THAT(CudaStatus(cudaErrorNoDevice, "cudaSetDevice"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("cudaErrorNoDevice")));
  EXPECT_THAT(CudaStatus(cudaErrorIllegalAddress, "kernel"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("kernel: CUDA error cudaErrorIllegalAddress")));
}

TEST(UniqueIdTest, BytesRoundTrip) {
  const std::string bytes = SomeIdBytes();
  ASSERT_OK_AND_ASSIGN(ncclUniqueId id, FromUniqueIdBytes(bytes));
  EXPECT_EQ(UniqueIdBytes(id), bytes);
}

TEST(UniqueIdTest, CreatedWithoutAGpuOnLoopback) {
  // ncclGetUniqueId starts NCCL's bootstrap root (a listening socket); keep it
  // on loopback. NCCL reads this once, at its first initialisation, which no
  // other test in this binary triggers.
  setenv("NCCL_SOCKET_IFNAME", "lo", 1);
  ASSERT_OK_AND_ASSIGN(std::string a, CreateUniqueIdBytes());
  ASSERT_OK_AND_ASSIGN(std::string b, CreateUniqueIdBytes());
  EXPECT_EQ(a.size(), static_cast<size_t>(NCCL_UNIQUE_ID_BYTES));
  EXPECT_NE(a, b);
  ASSERT_OK_AND_ASSIGN(ncclUniqueId id, FromUniqueIdBytes(a));
  EXPECT_EQ(UniqueIdBytes(id), a);
}

TEST(UniqueIdTest, WrongLengthIsRejected) {
  EXPECT_THAT(FromUniqueIdBytes("short"),
              StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr("128"), HasSubstr("got 5"))));
  EXPECT_THAT(FromUniqueIdBytes(std::string(NCCL_UNIQUE_ID_BYTES + 1, 'x')),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(CommunicatorTest, RejectsBadRankAndWorldBeforeTouchingTheGpu) {
  EXPECT_THAT(NcclCommunicator::Create(SomeIdBytes(), 0, 0, 0), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(NcclCommunicator::Create(SomeIdBytes(), 2, 2, 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("rank 2")));
  EXPECT_THAT(NcclCommunicator::Create("bad id", 0, 1, 0), StatusIs(absl::StatusCode::kInvalidArgument));
}

class NoGpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (VisibleCudaDevices() > 0) GTEST_SKIP() << "a GPU is visible; nccl_allreduce_check covers this machine";
  }
};

TEST_F(NoGpuTest, NoDeviceIsVisible) {
  std::string why;
  EXPECT_EQ(VisibleCudaDevices(&why), 0);
  EXPECT_FALSE(why.empty());
  EXPECT_THAT(RequireCudaDevice(0), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no CUDA device")));
}

TEST_F(NoGpuTest, CreatingACommunicatorFailsCleanly) {
  NcclOptions options;
  options.watchdog.timeout = absl::Seconds(5);
  auto comm = NcclCommunicator::Create(SomeIdBytes(), 0, 1, 0, options);
  EXPECT_THAT(comm, StatusIs(absl::StatusCode::kFailedPrecondition,
                             AllOf(HasSubstr("no CUDA device"), HasSubstr("--device cpu"))));
  // Asking twice gives the same answer (no sticky runtime state, no crash).
  EXPECT_THAT(NcclCommunicator::Create(SomeIdBytes(), 1, 2, 0, options),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no CUDA device")));
}

}  // namespace
}  // namespace atelier::trainer::gpu
