// GoogleTest matchers for absl::Status and absl::StatusOr (Debian's abseil
// 20220623 ships none). Test-only: part of the `atelier_testing` target.
//
//   EXPECT_THAT(DoThing(), IsOk());
//   EXPECT_THAT(Parse("x"), StatusIs(absl::StatusCode::kInvalidArgument,
//                                    HasSubstr("line 3")));
//   ASSERT_OK_AND_ASSIGN(auto v, MakeValue());
#pragma once

#include <ostream>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace atelier::testing {
namespace internal {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) { return s.status(); }

}  // namespace internal

MATCHER(IsOk, negation ? "is not OK" : "is OK") {
  const absl::Status& s = internal::GetStatus(arg);
  if (!s.ok()) *result_listener << "status is " << s;
  return s.ok();
}

MATCHER_P(StatusIs, code,
          std::string(negation ? "does not have" : "has") + " code " +
              absl::StatusCodeToString(code)) {
  const absl::Status& s = internal::GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher,
           std::string(negation ? "does not have" : "has") + " code " +
               absl::StatusCodeToString(code) + " and a matching message") {
  const absl::Status& s = internal::GetStatus(arg);
  *result_listener << "status is " << s;
  if (s.code() != code) return false;
  return ::testing::ExplainMatchResult(message_matcher, std::string(s.message()),
                                       result_listener);
}

}  // namespace atelier::testing

#define ATELIER_MATCHERS_CONCAT_INNER(a, b) a##b
#define ATELIER_MATCHERS_CONCAT(a, b) ATELIER_MATCHERS_CONCAT_INNER(a, b)
#define ASSERT_OK(expr) ASSERT_THAT((expr), ::atelier::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::atelier::testing::IsOk())
#define ASSERT_OK_AND_ASSIGN(lhs, expr)                                        \
  auto ATELIER_MATCHERS_CONCAT(_atelier_sor_, __LINE__) = (expr);              \
  ASSERT_THAT(ATELIER_MATCHERS_CONCAT(_atelier_sor_, __LINE__).status(),       \
              ::atelier::testing::IsOk());                                     \
  lhs = std::move(ATELIER_MATCHERS_CONCAT(_atelier_sor_, __LINE__)).value()
