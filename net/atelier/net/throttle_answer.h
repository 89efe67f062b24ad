// The one rule for "this answer is a CDN throttling us without 429/503"
// (DESIGN.md: the Met's CDN answers 403 with an HTML page, or 200 with an HTML
// body), for the coordinator's Met API searches and the crawler's Met object
// and image fetches alike. Pure; thread-safe.
#pragma once

#include "atelier/net/fetcher.h"

namespace atelier::net {

// What the request was for: the Met API's JSON or an image.
enum class Expected { kJson, kImage };

// A 200 whose body is an HTML page (by its first bytes or a text/html
// Content-Type) is a block page; where JSON was expected, a 403 or any 200
// body that is not a JSON object is one too. The caller pauses the host and
// retries the request. Transport errors and other statuses are not.
bool IsThrottleAnswer(const FetchResult& result, Expected expected);

}  // namespace atelier::net
