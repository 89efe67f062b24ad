#include "atelier/common/status_macros.h"

#include "atelier/common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace atelier {
namespace {

using ::atelier::testing::IsOk;
using ::atelier::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

absl::StatusOr<int> Half(int n) {
  if (n % 2 != 0) return absl::InvalidArgumentError(absl::StrCat(n, " is odd"));
  return n / 2;
}

absl::StatusOr<int> Quarter(int n) {
  ASSIGN_OR_RETURN(int half, Half(n));
  ASSIGN_OR_RETURN(int quarter, Half(half), _.prefix("second halving"));
  return quarter;
}

absl::Status CheckEven(int n) {
  RETURN_IF_ERROR(Half(n));
  return absl::OkStatus();
}

TEST(StatusMacrosTest, AssignOrReturnPassesValuesThrough) {
  ASSERT_OK_AND_ASSIGN(int q, Quarter(12));
  EXPECT_EQ(q, 3);
}

TEST(StatusMacrosTest, AssignOrReturnPropagatesErrors) {
  EXPECT_THAT(Quarter(3), StatusIs(absl::StatusCode::kInvalidArgument, "3 is odd"));
}

TEST(StatusMacrosTest, AssignOrReturnAnnotatesWithPrefix) {
  EXPECT_THAT(Quarter(6), StatusIs(absl::StatusCode::kInvalidArgument,
                                   "second halving: 3 is odd"));
}

TEST(StatusMacrosTest, ReturnIfErrorWorksOnStatusOr) {
  EXPECT_THAT(CheckEven(4), IsOk());
  EXPECT_THAT(CheckEven(5), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("odd")));
}

TEST(StatusMatchersTest, MatchersRejectWrongStatus) {
  EXPECT_THAT(absl::NotFoundError("x"), Not(IsOk()));
  EXPECT_THAT(absl::NotFoundError("x"), Not(StatusIs(absl::StatusCode::kInternal)));
  EXPECT_THAT(absl::NotFoundError("abc"), Not(StatusIs(absl::StatusCode::kNotFound, "xyz")));
}

TEST(StatusMacrosTest, AnnotateKeepsCode) {
  absl::Status s = Annotate(absl::UnavailableError("down"), "fetching x");
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnavailable, "fetching x: down"));
  EXPECT_THAT(Annotate(absl::OkStatus(), "ctx"), IsOk());
}

}  // namespace
}  // namespace atelier
