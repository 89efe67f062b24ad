// FetchAndWait: a blocking GET on any Fetcher, for callers that make one
// request at a time (the coordinator's Met API searches). It follows
// redirects itself, as the crawler does, since Fetchers never do: at most
// `max_redirects` hops, then kTooManyRedirects. Must not be called from a
// Fetcher's callback thread. Thread-safe (each call waits for its own answer).
#pragma once

#include "absl/time/time.h"
#include "atelier/net/fetcher.h"

namespace atelier::net {

// Waits for each hop's answer at most the request's timeout plus `grace`
// (a Fetcher enforces the timeout itself; the grace only guards against one
// that never answers: the result is then kTimeout).
FetchResult FetchAndWait(Fetcher& fetcher, FetchRequest request, int max_redirects = 5,
                         absl::Duration grace = absl::Seconds(30));

}  // namespace atelier::net
