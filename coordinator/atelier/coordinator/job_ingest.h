// IngestJob: runs every source of a job spec into the ShardTable once.
// A job already ingested (marker in the store) is left alone, so a restarted
// coordinator never re-ingests; an ingest that was killed half-way resumes:
// what it stored is kept and the sources are read again past it
// (ShardTable::BeginIngest, ShardingSink). Returns a JSON summary that is
// also stored with the marker. Not thread-safe; run before serving.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "atelier/common/clock.h"
#include "atelier/spec/job_spec.h"
#include "atelier/coordinator/met_ingest.h"
#include "atelier/coordinator/shard_table.h"
#include "atelier/net/fetcher.h"

namespace atelier::coordinator {

absl::StatusOr<std::string> IngestJob(const JobSpec& spec, ShardTable& table, net::Fetcher& http,
                                      Clock& clock, const MetIngestOptions& met_options = {});

}  // namespace atelier::coordinator
