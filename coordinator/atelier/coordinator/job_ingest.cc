#include "atelier/coordinator/job_ingest.h"

#include <variant>

#include "absl/strings/str_cat.h"
#include "atelier/common/status_macros.h"
#include "atelier/coordinator/bam_ingest.h"
#include "atelier/coordinator/ingest_sink.h"
#include "atelier/coordinator/url_list_ingest.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace atelier::coordinator {

using json = nlohmann::json;

absl::StatusOr<std::string> IngestJob(const JobSpec& spec, ShardTable& table, net::Fetcher& http,
                                      Clock& clock, const MetIngestOptions& met_options) {
  if (table.ingested()) {
    spdlog::info("job '{}' was ingested before; continuing it", spec.name);
    return std::string("{}");
  }
  ASSIGN_OR_RETURN(IngestProgress resume, table.BeginIngest());
  if (resume.shards > 0 || resume.dead > 0) {
    if (resume.shard_size != 0 && resume.shard_size != spec.shard_size) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot resume the interrupted ingest: it made shards of ", resume.shard_size,
          " items, the spec now says shard_size ", spec.shard_size, "; start a new --state"));
    }
    spdlog::info("resuming an interrupted ingest: {} items in {} shards and {} dead items are "
                 "stored already and kept",
                 resume.items, resume.shards, resume.dead);
  }
  const absl::Time start = clock.Now();
  ShardingSink sink(table, spec.shard_size, resume);
  json summary = json::array();
  for (const SourceSpec& source : spec.sources) {
    json entry = {{"source", source.name}};
    if (const auto* bam = std::get_if<BamSourceSpec>(&source.source)) {
      ASSIGN_OR_RETURN(BamIngestReport r, IngestBam(*bam, source.name, sink),
                       _.prefix(absl::StrCat("source '", source.name, "'")));
      entry.update({{"kind", "bam"}, {"rows", r.rows}, {"items", r.items}, {"dead", r.dead},
                    {"skipped_unlabelled", r.skipped_unlabelled},
                    {"skipped_mature", r.skipped_mature}});
      spdlog::info("ingest {}: {} rows, {} items, {} dead (mir-cdn), {} unlabelled, {} mature",
                   source.name, r.rows, r.items, r.dead, r.skipped_unlabelled, r.skipped_mature);
    } else if (const auto* met = std::get_if<MetSourceSpec>(&source.source)) {
      ASSIGN_OR_RETURN(MetIngestReport r, IngestMet(*met, source.name, http, clock, sink, met_options),
                       _.prefix(absl::StrCat("source '", source.name, "'")));
      json conflicts = json::array();
      for (const auto& c : r.conflicts) {
        conflicts.push_back({{"object_id", c.object_id}, {"first_search", c.first_search},
                             {"second_search", c.second_search}, {"kept", c.first_labels},
                             {"ignored", c.second_labels}});
      }
      entry.update({{"kind", "met"}, {"searches", r.searches}, {"requests", r.requests},
                    {"objects_found", r.objects_found}, {"items", r.items},
                    {"duplicates", r.duplicates}, {"label_conflicts", conflicts}});
      spdlog::info("ingest {}: {} searches, {} objects, {} distinct, {} label conflicts",
                   source.name, r.searches, r.objects_found, r.items, r.conflicts.size());
    } else {
      const auto& urls = std::get<UrlsSourceSpec>(source.source);
      ASSIGN_OR_RETURN(UrlListReport r, IngestUrlList(urls, source.name, sink),
                       _.prefix(absl::StrCat("source '", source.name, "'")));
      entry.update({{"kind", "urls"}, {"lines", r.lines}, {"items", r.items},
                    {"duplicates", r.duplicates}, {"bad_lines", r.bad_lines}});
      spdlog::info("ingest {}: {} lines, {} items, {} duplicates, {} bad lines (dead, bad_url)",
                   source.name, r.lines, r.items, r.duplicates, r.bad_lines);
    }
    summary.push_back(std::move(entry));
  }
  RETURN_IF_ERROR(sink.Flush());
  json out = {{"sources", summary}, {"shards", sink.shards()}, {"items", sink.items()},
              {"dead_at_ingest", sink.dead()},
              {"seconds", absl::ToDoubleSeconds(clock.Now() - start)}};
  RETURN_IF_ERROR(table.FinishIngest(out.dump()));
  spdlog::info("ingest complete: {} items in {} shards, {} dead at ingest", sink.items(),
               sink.shards(), sink.dead());
  return out.dump();
}

}  // namespace atelier::coordinator
