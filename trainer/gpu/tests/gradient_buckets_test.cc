#include "atelier/trainer/gpu/gradient_buckets.h"

#include <numeric>
#include <span>
#include <vector>

#include "atelier/common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace atelier::trainer::gpu {
namespace {

using ::atelier::testing::IsOk;
using ::atelier::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

ParamInfo F32(const char* name, int64_t numel) { return ParamInfo{name, numel, 4, "float32"}; }

// Parameter indices of a bucket, in entry order.
std::vector<int> Params(const Bucket& b) {
  std::vector<int> out;
  for (const auto& e : b.entries) out.push_back(e.param_index);
  return out;
}

TEST(AssignBucketsTest, ReverseRegistrationOrderAndCap) {
  // 4 params of 100, 200, 300, 50 floats; cap 1600 bytes = 400 floats.
  const std::vector<ParamInfo> params = {F32("a", 100), F32("b", 200), F32("c", 300), F32("d", 50)};
  ASSERT_OK_AND_ASSIGN(BucketPlan plan, AssignBuckets(params, {.cap_bytes = 1600}));
  // Backward order: d(50), c(300) -> 350 floats; b(200) would make 550 > 400:
  // new bucket b(200) + a(100) = 300.
  ASSERT_EQ(plan.buckets.size(), 2u);
  EXPECT_THAT(Params(plan.buckets[0]), ElementsAre(3, 2));
  EXPECT_THAT(Params(plan.buckets[1]), ElementsAre(1, 0));
  EXPECT_EQ(plan.buckets[0].numel, 350);
  EXPECT_EQ(plan.buckets[0].bytes(), 1400);
  EXPECT_EQ(plan.buckets[1].numel, 300);
  EXPECT_EQ(plan.buckets[0].entries[0].offset, 0);
  EXPECT_EQ(plan.buckets[0].entries[1].offset, 50);
  EXPECT_EQ(plan.buckets[1].entries[1].offset, 200);
  EXPECT_THAT(plan.bucket_of_param, ElementsAre(1, 1, 0, 0));
  EXPECT_THAT(plan.entry_of_param, ElementsAre(1, 0, 1, 0));
}

TEST(AssignBucketsTest, ExactCapFillsTheBucket) {
  // 2 x 50 floats = 400 bytes = the cap exactly: one bucket; the next starts a new one.
  const std::vector<ParamInfo> params = {F32("a", 10), F32("b", 50), F32("c", 50)};
  ASSERT_OK_AND_ASSIGN(BucketPlan plan, AssignBuckets(params, {.cap_bytes = 400}));
  ASSERT_EQ(plan.buckets.size(), 2u);
  EXPECT_THAT(Params(plan.buckets[0]), ElementsAre(2, 1));
  EXPECT_EQ(plan.buckets[0].bytes(), 400);
  EXPECT_THAT(Params(plan.buckets[1]), ElementsAre(0));
}

TEST(AssignBucketsTest, OneByteOverTheCapSplits) {
  const std::vector<ParamInfo> params = {F32("a", 51), F32("b", 50)};
  ASSERT_OK_AND_ASSIGN(BucketPlan plan, AssignBuckets(params, {.cap_bytes = 400}));
  ASSERT_EQ(plan.buckets.size(), 2u);
  EXPECT_THAT(Params(plan.buckets[0]), ElementsAre(1));
  EXPECT_THAT(Params(plan.buckets[1]), ElementsAre(0));
}

TEST(AssignBucketsTest, OversizeParameterGetsItsOwnBucket) {
  const std::vector<ParamInfo> params = {F32("small1", 10), F32("huge", 1000), F32("small2", 10)};
  ASSERT_OK_AND_ASSIGN(BucketPlan plan, AssignBuckets(params, {.cap_bytes = 400}));
  ASSERT_EQ(plan.buckets.size(), 3u);
  EXPECT_THAT(Params(plan.buckets[0]), ElementsAre(2));
  EXPECT_THAT(Params(plan.buckets[1]), ElementsAre(1));
  EXPECT_EQ(plan.buckets[1].bytes(), 4000);
  // The bucket after the huge one is fresh, not appended to the huge one.
  EXPECT_THAT(Params(plan.buckets[2]), ElementsAre(0));
}

TEST(AssignBucketsTest, EmptyModelGivesEmptyPlan) {
  ASSERT_OK_AND_ASSIGN(BucketPlan plan, AssignBuckets({}, {.cap_bytes = 400}));
  EXPECT_TRUE(plan.buckets.empty());
  EXPECT_TRUE(plan.bucket_of_param.empty());
}

TEST(AssignBucketsTest, FirstBucketHasItsOwnCap) {
  const std::vector<ParamInfo> params = {F32("a", 100), F32("b", 100), F32("c", 100), F32("d", 100)};
  ASSERT_OK_AND_ASSIGN(BucketPlan plan, AssignBuckets(params, {.cap_bytes = 1600, .first_cap_bytes = 400}));
  ASSERT_EQ(plan.buckets.size(), 2u);
  EXPECT_THAT(Params(plan.buckets[0]), ElementsAre(3));
  EXPECT_THAT(Params(plan.buckets[1]), ElementsAre(2, 1, 0));
}

TEST(AssignBucketsTest, DtypesNeverShareABucket) {
  const std::vector<ParamInfo> params = {F32("w1", 10), ParamInfo{"h1", 10, 2, "bfloat16"}, F32("w2", 10),
                                         ParamInfo{"h2", 10, 2, "float16"}};
  ASSERT_OK_AND_ASSIGN(BucketPlan plan, AssignBuckets(params, {.cap_bytes = 1 << 20}));
  ASSERT_EQ(plan.buckets.size(), 3u);
  EXPECT_EQ(plan.buckets[0].dtype, "float16");
  EXPECT_THAT(Params(plan.buckets[0]), ElementsAre(3));
  EXPECT_EQ(plan.buckets[1].dtype, "float32");
  EXPECT_THAT(Params(plan.buckets[1]), ElementsAre(2, 0));
  EXPECT_EQ(plan.buckets[2].dtype, "bfloat16");
  EXPECT_EQ(plan.buckets[2].bytes(), 20);
}

TEST(AssignBucketsTest, EveryParameterIsAssignedExactlyOnce) {
  std::vector<ParamInfo> params;
  for (int i = 0; i < 37; ++i) params.push_back(F32("p", (i * 7919) % 300 + 1));
  ASSERT_OK_AND_ASSIGN(BucketPlan plan, AssignBuckets(params, {.cap_bytes = 2000}));
  std::vector<int> seen(params.size(), 0);
  for (size_t b = 0; b < plan.buckets.size(); ++b) {
    int64_t offset = 0;
    for (size_t k = 0; k < plan.buckets[b].entries.size(); ++k) {
      const BucketEntry& e = plan.buckets[b].entries[k];
      ++seen[e.param_index];
      EXPECT_EQ(e.offset, offset);
      EXPECT_EQ(e.numel, params[e.param_index].numel);
      EXPECT_EQ(plan.bucket_of_param[e.param_index], static_cast<int>(b));
      EXPECT_EQ(plan.entry_of_param[e.param_index], static_cast<int>(k));
      offset += e.numel;
    }
    EXPECT_EQ(offset, plan.buckets[b].numel);
    EXPECT_TRUE(plan.buckets[b].bytes() <= 2000 || plan.buckets[b].entries.size() == 1);
  }
  EXPECT_THAT(seen, ::testing::Each(1));
}

TEST(AssignBucketsTest, RejectsBadInputNamingIt) {
  EXPECT_THAT(AssignBuckets({F32("a", 1)}, {.cap_bytes = 0}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(AssignBuckets({F32("a", 1), F32("conv.weight", -3)}, {.cap_bytes = 10}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("conv.weight")));
  EXPECT_THAT(AssignBuckets({ParamInfo{"fc.bias", 3, 0, "float32"}}, {.cap_bytes = 10}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("fc.bias")));
  EXPECT_THAT(AssignBuckets({ParamInfo{"x", 3, 4, ""}}, {.cap_bytes = 10}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("dtype")));
}

TEST(FlattenTest, RoundTrip) {
  std::vector<float> a = {1, 2, 3}, b = {}, c = {4, 5};
  std::vector<float> flat(5, 0.0f);
  ASSERT_OK(Flatten({a, b, c}, flat));
  EXPECT_THAT(flat, ElementsAre(1, 2, 3, 4, 5));
  for (float& v : flat) v *= 10;
  std::vector<float> a2(3), b2, c2(2);
  ASSERT_OK(Unflatten(flat, {a2, b2, c2}));
  EXPECT_THAT(a2, ElementsAre(10, 20, 30));
  EXPECT_THAT(c2, ElementsAre(40, 50));
}

TEST(FlattenTest, UnflattenScalesByOneOverWorldSize) {
  const std::vector<float> flat = {4, 8, -12, 1};
  std::vector<float> a(1), b(3);
  ASSERT_OK(Unflatten(flat, {a, b}, 1.0f / 4));
  EXPECT_THAT(a, ElementsAre(1));
  EXPECT_THAT(b, ElementsAre(2, -3, 0.25f));
}

TEST(FlattenTest, SizeMismatchIsAnError) {
  std::vector<float> a = {1, 2}, flat(3);
  EXPECT_THAT(Flatten({a}, flat), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("3")));
  std::vector<float> out(4);
  EXPECT_THAT(Unflatten(flat, {out}), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(FlattenTest, BucketRoundTripThroughPlan) {
  const std::vector<ParamInfo> params = {F32("a", 3), F32("b", 2), F32("c", 4)};
  ASSERT_OK_AND_ASSIGN(BucketPlan plan, AssignBuckets(params, {.cap_bytes = 24}));
  // c(16 bytes) then b would make 24: c,b in bucket 0; a in bucket 1.
  ASSERT_EQ(plan.buckets.size(), 2u);
  std::vector<std::vector<float>> grads = {{1, 2, 3}, {4, 5}, {6, 7, 8, 9}};
  std::vector<std::span<const float>> in(grads.begin(), grads.end());
  std::vector<float> flat0(plan.buckets[0].numel);
  ASSERT_OK(FlattenBucket(plan.buckets[0], in, flat0));
  EXPECT_THAT(flat0, ElementsAre(6, 7, 8, 9, 4, 5));

  // "Allreduce" over 2 ranks with identical gradients, then average.
  for (float& v : flat0) v *= 2;
  std::vector<std::vector<float>> out_storage = {{0, 0, 0}, {0, 0}, {0, 0, 0, 0}};
  std::vector<std::span<float>> out(out_storage.begin(), out_storage.end());
  ASSERT_OK(UnflattenBucket(plan.buckets[0], flat0, out, 0.5f));
  EXPECT_EQ(out_storage[1], grads[1]);
  EXPECT_EQ(out_storage[2], grads[2]);
  EXPECT_THAT(out_storage[0], ElementsAre(0, 0, 0));  // other bucket untouched
}

TEST(FlattenTest, BucketChecksGradientSizes) {
  const std::vector<ParamInfo> params = {F32("a", 3)};
  ASSERT_OK_AND_ASSIGN(BucketPlan plan, AssignBuckets(params, {.cap_bytes = 64}));
  std::vector<float> wrong = {1, 2};
  std::vector<float> flat(3);
  EXPECT_THAT(FlattenBucket(plan.buckets[0], {wrong}, flat),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("parameter 0")));
  EXPECT_THAT(FlattenBucket(plan.buckets[0], {}, flat), StatusIs(absl::StatusCode::kInvalidArgument));
  std::vector<float> right = {1, 2, 3}, small_flat(2);
  EXPECT_THAT(FlattenBucket(plan.buckets[0], {right}, small_flat), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace atelier::trainer::gpu
