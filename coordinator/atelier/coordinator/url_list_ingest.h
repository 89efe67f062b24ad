// URL list ingest: a .txt file (one URL a line; blank lines and lines starting
// with '#' are skipped) or a .csv file (header row; the `url_column` holds the
// URL, `label_columns` (default: every other column) become labels; empty
// label cells are left out). Each URL becomes `url-<hash>` (dataset::UrlKey);
// a URL seen twice in the list is sent once. The scheme is case-insensitive
// (HTTP:// is fine) and a UTF-8 byte order mark is skipped. A line that is
// not an http(s) URL (or a CSV row with the wrong number of fields) becomes a
// dead item with reason "bad_url", key "<file name>:<line>" and the line's
// text as its URL; the list is refused (InvalidArgument naming the file and
// the first bad line) only when it has lines and none is usable. Streams the
// file.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "atelier/spec/job_spec.h"
#include "atelier/coordinator/item_sink.h"

namespace atelier::coordinator {

struct UrlListReport {
  int64_t lines = 0;       // records read (header excluded)
  int64_t items = 0;
  int64_t duplicates = 0;
  int64_t bad_lines = 0;   // recorded dead, reason bad_url
};

absl::StatusOr<UrlListReport> IngestUrlList(const UrlsSourceSpec& spec,
                                            const std::string& source_name, IngestSink& sink);

}  // namespace atelier::coordinator
