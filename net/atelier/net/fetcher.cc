#include "atelier/net/fetcher.h"

namespace atelier::net {

absl::string_view FetchErrorName(FetchError error) {
  switch (error) {
    case FetchError::kNone: return "none";
    case FetchError::kTimeout: return "timeout";
    case FetchError::kConnection: return "connection";
    case FetchError::kTruncated: return "truncated";
    case FetchError::kTooLarge: return "too_large";
    case FetchError::kTooManyRedirects: return "too_many_redirects";
    case FetchError::kBadUrl: return "bad_url";
    case FetchError::kCancelled: return "cancelled";
    case FetchError::kBlockedAddress: return "blocked_address";
    case FetchError::kOverBudget: return "over_budget";
  }
  return "unknown";
}

}  // namespace atelier::net
