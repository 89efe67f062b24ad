// Parsing a Met Collection API object (GET <api>/objects/<id>).
//
// Image URLs are primaryImage followed by every additionalImages entry (empty
// and duplicate URLs dropped); image n becomes sample `met-<id>-<n>`. The
// object's useful fields go to SampleMeta.extra; derived labels ("decade",
// "century") come from objectBeginDate. Pure functions, thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace atelier::crawler {

struct MetObject {
  int64_t object_id = 0;
  std::vector<std::string> image_urls;        // empty: the object is dead ("no_image")
  std::map<std::string, std::string> extra;   // title, objectDate, objectBeginDate, culture, ...
  std::map<std::string, std::string> derived_labels;  // as asked by `label_fields`
};

// InvalidArgument when `body` is not a JSON object (HTML block pages, broken
// JSON): callers treat that as throttling. `label_fields` may hold "decade"
// (e.g. 1885 -> "1880s", -450 -> "-450s") and "century" (1885 -> "19th century").
absl::StatusOr<MetObject> ParseMetObject(absl::string_view body, const std::vector<std::string>& label_fields);

// The object URL: <api>/objects/<id> (a trailing slash on api is tolerated).
std::string MetObjectUrl(absl::string_view api, int64_t object_id);

std::string DecadeLabel(int64_t year);
std::string CenturyLabel(int64_t year);

}  // namespace atelier::crawler
