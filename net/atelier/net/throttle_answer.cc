#include "atelier/net/throttle_answer.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

namespace atelier::net {

bool IsThrottleAnswer(const FetchResult& result, Expected expected) {
  if (result.error != FetchError::kNone) return false;
  if (expected == Expected::kJson && result.http_status == 403) return true;
  if (result.http_status != 200) return false;
  const absl::string_view body = absl::StripLeadingAsciiWhitespace(result.body);
  if (expected == Expected::kJson) return !absl::StartsWith(body, "{");
  if (auto it = result.headers.find("content-type"); it != result.headers.end()) {
    if (absl::StartsWithIgnoreCase(absl::StripLeadingAsciiWhitespace(it->second), "text/html")) return true;
  }
  return absl::StartsWithIgnoreCase(body, "<!doctype html") || absl::StartsWithIgnoreCase(body, "<html");
}

}  // namespace atelier::net
