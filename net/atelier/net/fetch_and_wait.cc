#include "atelier/net/fetch_and_wait.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace atelier::net {
namespace {

// Shared with the callback, which may outlive a wait that gave up.
struct Answer {
  absl::Mutex mu;
  bool done ABSL_GUARDED_BY(mu) = false;
  FetchResult result ABSL_GUARDED_BY(mu);
};

FetchResult OneHop(Fetcher& fetcher, const FetchRequest& request, absl::Duration grace) {
  auto answer = std::make_shared<Answer>();
  fetcher.Start(request, [answer](FetchResult result) {
    absl::MutexLock lock(&answer->mu);
    answer->result = std::move(result);
    answer->done = true;
  });
  absl::MutexLock lock(&answer->mu);
  const bool done = answer->mu.AwaitWithTimeout(absl::Condition(&answer->done), request.timeout + grace);
  if (!done) {
    FetchResult timed_out;
    timed_out.error = FetchError::kTimeout;
    timed_out.error_message = absl::StrCat("GET ", request.url, ": no answer within ",
                                           absl::FormatDuration(request.timeout + grace));
    timed_out.effective_url = request.url;
    return timed_out;
  }
  return std::move(answer->result);
}

}  // namespace

FetchResult FetchAndWait(Fetcher& fetcher, FetchRequest request, int max_redirects, absl::Duration grace) {
  int64_t bytes = 0;
  for (int hop = 0;; ++hop) {
    FetchResult result = OneHop(fetcher, request, grace);
    bytes += result.bytes;
    if (result.error != FetchError::kNone || result.redirect_url.empty()) {
      result.bytes = bytes;
      return result;
    }
    if (hop == max_redirects) {
      FetchResult loop;
      loop.error = FetchError::kTooManyRedirects;
      loop.error_message = absl::StrCat("GET ", request.url, ": more than ", max_redirects, " redirects");
      loop.http_status = result.http_status;
      loop.effective_url = result.effective_url;
      loop.bytes = bytes;
      return loop;
    }
    request.url = result.redirect_url;
  }
}

}  // namespace atelier::net
