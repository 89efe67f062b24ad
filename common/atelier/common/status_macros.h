// Status propagation macros for absl::Status / absl::StatusOr.
//
// Debian's abseil (20220623) ships neither RETURN_IF_ERROR nor ASSIGN_OR_RETURN,
// so atelier defines its own. Header-only, no state.
//
//   RETURN_IF_ERROR(DoThing());                 // returns the status if not ok
//   ASSIGN_OR_RETURN(auto value, MakeValue());  // returns the status if not ok
//   ASSIGN_OR_RETURN(int n, Parse(s), _.prefix("parsing size"));  // annotated
#pragma once

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace atelier {

// Returns `status` with `context` prepended to its message ("context: message"),
// keeping the code. An OK status is returned unchanged.
inline absl::Status Annotate(const absl::Status& status, absl::string_view context) {
  if (status.ok() || context.empty()) return status;
  return absl::Status(status.code(), absl::StrCat(context, ": ", status.message()));
}

namespace status_internal {
// Used by the three-argument ASSIGN_OR_RETURN: `_` names this in the expression.
struct StatusBuilder {
  absl::Status status;
  absl::Status prefix(absl::string_view context) const { return Annotate(status, context); }
};
inline const absl::Status& AsStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& AsStatus(const absl::StatusOr<T>& s) { return s.status(); }
}  // namespace status_internal

}  // namespace atelier

#define ATELIER_STATUS_CONCAT_INNER(a, b) a##b
#define ATELIER_STATUS_CONCAT(a, b) ATELIER_STATUS_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                                                \
  do {                                                                       \
    const ::absl::Status _atelier_status =                                   \
        ::atelier::status_internal::AsStatus((expr));                        \
    if (!_atelier_status.ok()) return _atelier_status;                       \
  } while (0)

#define ATELIER_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr, error_expr)            \
  auto tmp = (expr);                                                         \
  if (!tmp.ok()) {                                                           \
    [[maybe_unused]] ::atelier::status_internal::StatusBuilder _{tmp.status()}; \
    return (error_expr);                                                     \
  }                                                                          \
  lhs = std::move(tmp).value()

#define ATELIER_ASSIGN_OR_RETURN_2(lhs, expr) \
  ATELIER_ASSIGN_OR_RETURN_IMPL(ATELIER_STATUS_CONCAT(_atelier_or_, __LINE__), lhs, expr, _.status)
#define ATELIER_ASSIGN_OR_RETURN_3(lhs, expr, error_expr) \
  ATELIER_ASSIGN_OR_RETURN_IMPL(ATELIER_STATUS_CONCAT(_atelier_or_, __LINE__), lhs, expr, error_expr)
#define ATELIER_GET_ASSIGN_MACRO(_1, _2, _3, NAME, ...) NAME
#define ASSIGN_OR_RETURN(...)                                                      \
  ATELIER_GET_ASSIGN_MACRO(__VA_ARGS__, ATELIER_ASSIGN_OR_RETURN_3,                \
                           ATELIER_ASSIGN_OR_RETURN_2, unused)(__VA_ARGS__)
