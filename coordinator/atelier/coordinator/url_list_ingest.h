// URL list ingest: a .txt file (one URL a line; blank lines and lines starting
// with '#' are skipped) or a .csv file (header row; the `url_column` holds the
// URL, `label_columns` (default: every other column) become labels; empty
// label cells are left out). Each URL becomes `url-<hash>` (dataset::UrlKey);
// a URL seen twice in the list is sent once. A line that is not an http(s)
// URL fails the ingest with "<file>:<line>: ...". Streams the file.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "atelier/common/job_spec.h"
#include "atelier/coordinator/ingest_sink.h"

namespace atelier::coordinator {

struct UrlListReport {
  int64_t lines = 0;       // records read (header excluded)
  int64_t items = 0;
  int64_t duplicates = 0;
};

absl::StatusOr<UrlListReport> IngestUrlList(const UrlsSourceSpec& spec,
                                            const std::string& source_name, IngestSink& sink);

}  // namespace atelier::coordinator
