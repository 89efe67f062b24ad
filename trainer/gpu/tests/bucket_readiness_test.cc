#include "atelier/trainer/gpu/bucket_readiness.h"

#include <vector>

#include "atelier/common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace atelier::trainer::gpu {
namespace {

using ::atelier::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// 6 params of 10 floats, cap 80 bytes: buckets {5,4}, {3,2}, {1,0}.
BucketPlan ThreeBuckets() {
  std::vector<ParamInfo> params;
  for (int i = 0; i < 6; ++i) params.push_back(ParamInfo{"p", 10, 4, "float32"});
  return AssignBuckets(params, {.cap_bytes = 80}).value();
}

TEST(BucketReadinessTest, ReleasesABucketWhenAllItsGradientsAreReady) {
  const BucketPlan plan = ThreeBuckets();
  ASSERT_EQ(plan.buckets.size(), 3u);
  BucketReadiness r(plan);
  ASSERT_OK_AND_ASSIGN(auto released, r.MarkReady(5));
  EXPECT_THAT(released, IsEmpty());
  ASSERT_OK_AND_ASSIGN(released, r.MarkReady(4));
  EXPECT_THAT(released, ElementsAre(0));
  ASSERT_OK_AND_ASSIGN(released, r.MarkReady(3));
  EXPECT_THAT(released, IsEmpty());
  ASSERT_OK_AND_ASSIGN(released, r.MarkReady(2));
  EXPECT_THAT(released, ElementsAre(1));
  EXPECT_FALSE(r.AllLaunched());
  EXPECT_THAT(r.PendingParams(), ElementsAre(0, 1));
}

TEST(BucketReadinessTest, OutOfOrderReadinessStillLaunchesInBucketOrder) {
  BucketReadiness r(ThreeBuckets());
  // Bucket 2 and 1 complete before bucket 0: nothing may launch yet.
  for (int p : {0, 1, 2, 3}) {
    ASSERT_OK_AND_ASSIGN(auto released, r.MarkReady(p));
    EXPECT_THAT(released, IsEmpty()) << "param " << p;
  }
  ASSERT_OK_AND_ASSIGN(auto released, r.MarkReady(4));
  EXPECT_THAT(released, IsEmpty());
  ASSERT_OK_AND_ASSIGN(released, r.MarkReady(5));
  EXPECT_THAT(released, ElementsAre(0, 1, 2));
  EXPECT_TRUE(r.AllLaunched());
  EXPECT_THAT(r.PendingParams(), IsEmpty());
}

TEST(BucketReadinessTest, ResetStartsANewIteration) {
  BucketReadiness r(ThreeBuckets());
  for (int p = 5; p >= 0; --p) ASSERT_OK(r.MarkReady(p).status());
  EXPECT_TRUE(r.AllLaunched());
  EXPECT_THAT(r.MarkReady(3), StatusIs(absl::StatusCode::kFailedPrecondition));
  r.Reset();
  EXPECT_FALSE(r.AllLaunched());
  EXPECT_THAT(r.PendingParams(), ElementsAre(0, 1, 2, 3, 4, 5));
  ASSERT_OK_AND_ASSIGN(auto released, r.MarkReady(5));
  EXPECT_THAT(released, IsEmpty());
}

TEST(BucketReadinessTest, RejectsOutOfRange) {
  BucketReadiness r(ThreeBuckets());
  EXPECT_THAT(r.MarkReady(6), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(r.MarkReady(-1), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(BucketReadinessTest, EmptyPlanIsLaunchedAtOnce) {
  BucketReadiness r(BucketPlan{});
  EXPECT_TRUE(r.AllLaunched());
  EXPECT_THAT(r.MarkReady(0), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace atelier::trainer::gpu
