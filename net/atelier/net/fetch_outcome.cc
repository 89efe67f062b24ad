#include "atelier/net/fetch_outcome.h"

#include "atelier/net/retry_after.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace atelier::net {

Classification ClassifyFetch(const FetchResult& result, absl::Time now) {
  Classification c;
  switch (result.error) {
    case FetchError::kNone:
      break;
    case FetchError::kTimeout:
    case FetchError::kConnection:
    case FetchError::kTruncated:
    case FetchError::kCancelled:
    case FetchError::kOverBudget:
      c.verdict = Verdict::kRetry;
      c.reason = std::string(FetchErrorName(result.error));
      return c;
    case FetchError::kTooLarge:
    case FetchError::kTooManyRedirects:
    case FetchError::kBadUrl:
    case FetchError::kBlockedAddress:
      c.verdict = Verdict::kFail;
      c.reason = std::string(FetchErrorName(result.error));
      return c;
  }
  const int status = result.http_status;
  if (status == 200) {
    c.verdict = Verdict::kSuccess;
    return c;
  }
  c.reason = absl::StrCat("http_", status);
  if (status == 404 || status == 410) {
    c.verdict = Verdict::kDead;
  } else if (status == 429 || status == 503) {
    c.verdict = Verdict::kRetry;
    c.throttle_host = true;
    auto it = result.headers.find("retry-after");
    if (it != result.headers.end()) c.not_before = ParseRetryAfter(it->second, now);
  } else if (status == 408 || (status >= 500 && status <= 599)) {
    c.verdict = Verdict::kRetry;
  } else {
    c.verdict = Verdict::kFail;
  }
  return c;
}

}  // namespace atelier::net
