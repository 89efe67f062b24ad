// Met ingest: runs each search of a `met` source against the Collection API
// (through a net::Fetcher, one request at a time with FetchAndWait), deduplicates object IDs across searches and sends
// one work item per object (`met-<objectID>`, labels of its search) to the
// sink. The crawler resolves objects to images later.
//
// - API base ending in /v1.1 uses `offset`/`limit` paging (limit <= 500, the
//   API serves the first 10,000 results); other bases call /search once. A
//   /v1 base that answers 410 Gone is switched to /v1.1 once.
// - `objectIDs: null` means no results.
// - Answers are judged by the rules the crawler uses (net/fetch_outcome.h,
//   net/throttle_answer.h): block pages (a 403, or a 200 that is not a JSON
//   object) pause the API for `throttle_backoff`; broken JSON, 408, 429, 5xx
//   and transport errors are retried with the one backoff (common/backoff.h)
//   on the injected Clock, never before a Retry-After, and 429/503 lower the
//   request rate; 404 and other statuses fail at once. After `max_attempts`
//   the ingest fails with a message naming the search and the last answer.
// - An object found again by a search with different labels is reported in
//   MetIngestReport::conflicts and logged; it keeps the labels of the first
//   search (never silently relabelled).
// - Requests are spaced by the source's requests_per_second (politeness, the
//   crawler's HostLimiter).
//
// Not thread-safe per call; stateless otherwise.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "atelier/common/backoff.h"
#include "atelier/common/clock.h"
#include "atelier/spec/job_spec.h"
#include "atelier/coordinator/item_sink.h"
#include "atelier/net/fetcher.h"

namespace atelier::coordinator {

struct MetIngestOptions {
  int max_attempts = 6;                                 // per request
  BackoffPolicy backoff{absl::Seconds(2), absl::Seconds(120)};  // between attempts
  absl::Duration throttle_backoff = absl::Seconds(60);  // after a block page
  int64_t max_body_bytes = 256 << 20;                   // a larger answer fails
  absl::Duration timeout = absl::Seconds(30);
  int page_limit = 500;                                 // /v1.1 page size
  int64_t max_results_per_search = 10000;               // /v1.1 paging cap
  uint64_t seed = 0x5eed;                               // jitter
};

struct MetLabelConflict {
  int64_t object_id = 0;
  std::string first_search;
  std::string second_search;
  std::map<std::string, std::string> first_labels;
  std::map<std::string, std::string> second_labels;
};

struct MetIngestReport {
  int64_t searches = 0;
  int64_t requests = 0;        // HTTP requests made, retries included
  int64_t retries = 0;
  int64_t objects_found = 0;   // object IDs returned, duplicates included
  int64_t items = 0;           // distinct objects sent to the sink
  int64_t duplicates = 0;      // found again by another search (same or other labels)
  std::vector<MetLabelConflict> conflicts;
};

// "search #2 (q=dress, geoLocation=France; line 12)"
std::string DescribeMetSearch(const MetSearchSpec& search, int index);

absl::StatusOr<MetIngestReport> IngestMet(const MetSourceSpec& spec,
                                          const std::string& source_name, net::Fetcher& http,
                                          Clock& clock, IngestSink& sink,
                                          const MetIngestOptions& options = {});

}  // namespace atelier::coordinator
