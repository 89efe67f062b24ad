#include "atelier/coordinator/met_ingest.h"

#include <algorithm>
#include <random>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "atelier/common/backoff.h"
#include "atelier/common/status_macros.h"
#include "atelier/coordinator/met_search_page.h"
#include "atelier/net/fetch_and_wait.h"
#include "atelier/net/fetch_outcome.h"
#include "atelier/net/host_limiter.h"
#include "atelier/net/throttle_answer.h"
#include "atelier/net/url_encode.h"
#include "spdlog/spdlog.h"

namespace atelier::coordinator {
namespace {

class MetSearcher {
 public:
  MetSearcher(const MetSourceSpec& spec, net::Fetcher& http, Clock& clock, const MetIngestOptions& options,
              MetIngestReport& report)
      : http_(http), clock_(clock), options_(options), report_(report), rng_(options.seed), api_(spec.api),
        host_(net::HostOfUrl(spec.api)),
        limiter_(net::HostLimits{/*max_in_flight=*/1, /*requests_per_second=*/std::max(0.01, spec.requests_per_second),
                                 /*burst=*/1}) {}

  absl::StatusOr<std::vector<int64_t>> Run(const MetSearchSpec& search, int index) {
    const std::string name = DescribeMetSearch(search, index);
    std::vector<int64_t> ids;
    int64_t offset = 0;
    while (true) {
      const bool paged = api_.ends_with("/v1.1");
      std::string url = absl::StrCat(api_, "/search?");
      std::vector<std::string> parts;
      for (const auto& [k, v] : search.params) parts.push_back(absl::StrCat(k, "=", net::UrlEncode(v)));
      if (paged) {
        parts.push_back(absl::StrCat("offset=", offset));
        parts.push_back(absl::StrCat("limit=", options_.page_limit));
      }
      absl::StrAppend(&url, absl::StrJoin(parts, "&"));
      auto page = Fetch(url, name);
      if (!page.ok()) {
        if (absl::IsNotFound(page.status()) && !paged && api_.ends_with("/v1")) {
          spdlog::warn("Met {}: {}/search is gone (410); switching to /v1.1 paging", name, api_);
          api_ += ".1";
          continue;
        }
        return page.status();
      }
      ids.insert(ids.end(), page->ids.begin(), page->ids.end());
      if (!paged) break;
      offset += static_cast<int64_t>(page->ids.size());
      if (page->ids.empty() || offset >= std::min(page->total, options_.max_results_per_search)) {
        break;
      }
    }
    return ids;
  }

 private:
  // Waits on the clock until the limiter gives a slot (the source's rate, and
  // any pause a retry or a throttling answer set).
  void WaitForSlot() {
    absl::Time retry_at;
    while (!limiter_.TryAcquire(host_, clock_.Now(), &retry_at)) {
      clock_.SleepFor(std::max(absl::ZeroDuration(), retry_at - clock_.Now()));
    }
  }

  // One search page, retried. NotFound (only) means 410 Gone.
  absl::StatusOr<MetSearchPage> Fetch(const std::string& url, const std::string& name) {
    std::string last;
    for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
      if (attempt > 1) ++report_.retries;
      WaitForSlot();
      ++report_.requests;
      net::FetchRequest request;
      request.url = url;
      request.timeout = options_.timeout;
      request.max_bytes = options_.max_body_bytes;
      const net::FetchResult response = net::FetchAndWait(http_, request);
      limiter_.Release(host_);
      const absl::Time now = clock_.Now();
      net::Classification verdict = net::ClassifyFetch(response, now);
      absl::Time not_before = now;
      if (response.error == net::FetchError::kNone && response.http_status == 410) {
        return absl::NotFoundError(absl::StrCat("Met ", name, ": ", url, " answered 410 Gone"));
      }
      if (net::IsThrottleAnswer(response, net::Expected::kJson)) {
        last = absl::StrCat("a block page (HTTP ", response.http_status, ", throttled?): ", BodySnippet(response.body));
        not_before = now + options_.throttle_backoff;
      } else if (verdict.verdict == net::Verdict::kSuccess) {
        absl::StatusOr<MetSearchPage> page = ParseMetSearchPage(response.body);
        if (page.ok()) {
          limiter_.Succeeded(host_);
          return page;
        }
        last = std::string(page.status().message());
      } else if (verdict.verdict == net::Verdict::kRetry) {
        last = response.error != net::FetchError::kNone
                   ? absl::StrCat(verdict.reason, ": ", response.error_message)
                   : absl::StrCat("HTTP ", response.http_status, ": ", BodySnippet(response.body));
        if (verdict.throttle_host) limiter_.Throttle(host_, now);
        if (verdict.not_before) not_before = *verdict.not_before;
      } else if (response.error != net::FetchError::kNone) {  // kFail: too large, bad URL, ...
        return absl::FailedPreconditionError(absl::StrCat("Met ", name, ": GET ", url, " failed (",
                                                          verdict.reason, "): ", response.error_message));
      } else {  // 404 and other statuses
        return absl::FailedPreconditionError(absl::StrCat("Met ", name, ": GET ", url, " answered HTTP ",
                                                          response.http_status, ": ", BodySnippet(response.body)));
      }
      if (attempt < options_.max_attempts) {
        const absl::Time at = std::max(not_before, now + BackoffDelay(options_.backoff, attempt, rng_));
        spdlog::warn("Met {}: attempt {} of {} got {}; retrying in {}", name, attempt, options_.max_attempts, last,
                     absl::FormatDuration(at - now));
        limiter_.PauseUntil(host_, at);
      }
    }
    return absl::UnavailableError(absl::StrCat("Met ", name, " failed after ", options_.max_attempts, " attempts (",
                                               url, "); last answer: ", last));
  }

  net::Fetcher& http_;
  Clock& clock_;
  const MetIngestOptions& options_;
  MetIngestReport& report_;
  std::mt19937_64 rng_;
  std::string api_;
  const std::string host_;
  // One request at a time, at the source's rate (politeness).
  net::HostLimiter limiter_;
};

std::string LabelsText(const std::map<std::string, std::string>& labels) {
  return absl::StrJoin(labels, ", ", absl::PairFormatter("="));
}

}  // namespace

std::string DescribeMetSearch(const MetSearchSpec& search, int index) {
  std::vector<std::string> parts;
  if (auto it = search.params.find("q"); it != search.params.end()) {
    parts.push_back(absl::StrCat("q=", it->second));
  }
  for (const auto& [k, v] : search.params) {
    if (k != "q") parts.push_back(absl::StrCat(k, "=", v));
  }
  std::string out = absl::StrCat("search #", index + 1, " (", absl::StrJoin(parts, ", "));
  if (search.line > 0) absl::StrAppend(&out, "; line ", search.line);
  return absl::StrCat(out, ")");
}

absl::StatusOr<MetIngestReport> IngestMet(const MetSourceSpec& spec,
                                          const std::string& source_name, net::Fetcher& http,
                                          Clock& clock, IngestSink& sink,
                                          const MetIngestOptions& options) {
  MetIngestReport report;
  MetSearcher searcher(spec, http, clock, options, report);
  std::unordered_map<int64_t, int> first_search;  // object id -> search index
  for (size_t i = 0; i < spec.searches.size(); ++i) {
    const MetSearchSpec& search = spec.searches[i];
    ASSIGN_OR_RETURN(std::vector<int64_t> ids, searcher.Run(search, static_cast<int>(i)));
    ++report.searches;
    report.objects_found += static_cast<int64_t>(ids.size());
    spdlog::info("Met {}: {} objects", DescribeMetSearch(search, static_cast<int>(i)), ids.size());
    for (int64_t id : ids) {
      auto [it, inserted] = first_search.emplace(id, static_cast<int>(i));
      if (!inserted) {
        ++report.duplicates;
        const MetSearchSpec& first = spec.searches[it->second];
        if (it->second != static_cast<int>(i) && first.label != search.label) {
          MetLabelConflict c{id, DescribeMetSearch(first, it->second),
                             DescribeMetSearch(search, static_cast<int>(i)), first.label,
                             search.label};
          spdlog::warn("Met object {} has conflicting labels: {} gives {{{}}}, {} gives {{{}}}; "
                       "keeping the first",
                       id, c.first_search, LabelsText(c.first_labels), c.second_search,
                       LabelsText(c.second_labels));
          report.conflicts.push_back(std::move(c));
        }
        continue;
      }
      if (spec.max_objects > 0 && report.items >= spec.max_objects) continue;
      v1::WorkItem item;
      item.set_key(absl::StrCat("met-", id));
      item.set_source(v1::SOURCE_KIND_MET);
      item.set_met_object_id(id);
      item.set_source_name(source_name);
      for (const auto& [k, v] : search.label) (*item.mutable_labels())[k] = v;
      RETURN_IF_ERROR(sink.Add(std::move(item)));
      ++report.items;
    }
  }
  return report;
}

}  // namespace atelier::coordinator
