// One answer page of the Met Collection API's /search (JSON), as the Met
// ingest (met_ingest.h) reads it: `total` (0 when absent or not an integer)
// and the `objectIDs` list (`null` means no results).
//
// Pure function, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace atelier::coordinator {

struct MetSearchPage {
  int64_t total = 0;
  std::vector<int64_t> ids;
};

// InvalidArgument, whose message says what is wrong ("invalid JSON (N bytes):
// <start of the body>", "JSON without an objectIDs list", "objectIDs holds
// something other than integers"), when `body` is not a JSON object with an
// objectIDs list of integers (or null). An ID outside int64 is not an integer.
absl::StatusOr<MetSearchPage> ParseMetSearchPage(absl::string_view body);

// The first 80 bytes of `body`, line breaks as spaces, "..." when cut.
std::string BodySnippet(absl::string_view body);

}  // namespace atelier::coordinator
