// BAM ingest: streams the `modules` table of a BAM metadata SQLite (ordered by
// mid, one row in memory at a time) into an IngestSink.
//
// Labels, per requested family (media, emotion, content):
//  - label_source "scores": the `scores` column `<family>_<attr>` with the
//    highest value wins; NULL scores are ignored; ties go to the attribute
//    name that sorts first; a best score below `min_score` gives no label.
//  - "automatic": the wide `automatic_labels` table; an attribute is a
//    candidate when its column says 'positive'; ties as above.
//  - "crowd": `crowd_labels(mid, attribute, label)`; attributes with label
//    'positive' are candidates; ties as above.
// The label is the attribute without its family prefix ("media_oilpaint" ->
// "oilpaint"). A row with no label in any requested family is skipped; rows
// with mature_content set are skipped unless include_mature. Rows whose src
// starts with https://mir-cdn.behance.net/v1/rendition/ (or have no src) are
// sent as dead ("mir_cdn_rendition" / "no_url"), never fetched.
//
// Errors name the SQLite file. Stateless; safe to call from several threads
// on different sinks.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "atelier/spec/job_spec.h"
#include "atelier/coordinator/item_sink.h"

namespace atelier::coordinator {

inline constexpr char kBamDeadPrefix[] = "https://mir-cdn.behance.net/v1/rendition/";

struct BamIngestReport {
  int64_t rows = 0;                 // rows of `modules` read
  int64_t items = 0;                // sent to be crawled
  int64_t dead = 0;                 // sent as dead
  int64_t skipped_unlabelled = 0;   // no label in any requested family
  int64_t skipped_mature = 0;
};

absl::StatusOr<BamIngestReport> IngestBam(const BamSourceSpec& spec,
                                          const std::string& source_name, IngestSink& sink);

}  // namespace atelier::coordinator
