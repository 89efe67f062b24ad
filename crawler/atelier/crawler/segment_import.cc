#include "atelier/crawler/segment_import.h"

#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "atelier/common/status_macros.h"
#include "atelier/dataset/sha256.h"
#include "atelier/dataset/shard_paths.h"
#include "atelier/dataset/shard_reader.h"
#include "spdlog/spdlog.h"

namespace atelier::crawler {
namespace {

// The samples of a segment's tar, or why they cannot be taken over.
absl::StatusOr<std::vector<dataset::Sample>> ReadSegment(const std::filesystem::path& path,
                                                         const std::string& sealed_sha256) {
  ASSIGN_OR_RETURN(std::string sha256, dataset::Sha256OfFile(path));
  if (sha256 != sealed_sha256) {
    return absl::DataLossError(absl::StrCat(path.string(), " has sha256 ", sha256, ", the sealed one is ",
                                            sealed_sha256));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<dataset::ShardReader> reader, dataset::ShardReader::Open(path));
  std::vector<dataset::Sample> samples;
  while (true) {
    ASSIGN_OR_RETURN(std::optional<dataset::Sample> sample, reader->Next());
    if (!sample.has_value()) break;
    samples.push_back(*std::move(sample));
  }
  if (reader->report().skipped() > 0) {
    return absl::DataLossError(absl::StrCat(path.string(), ": ", reader->report().skipped(),
                                            " samples unreadable"));
  }
  return samples;
}

// True when the store holds every result exactly as sealed.
absl::StatusOr<bool> AlreadyHeld(StateStore& store, uint64_t shard, const std::vector<v1::ItemResult>& results) {
  for (const auto& result : results) {
    ASSIGN_OR_RETURN(std::optional<v1::ItemResult> held, store.GetItem(shard, result.key()));
    if (!held.has_value() || held->SerializeAsString() != result.SerializeAsString()) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<ImportedSegments> ImportSealedSegments(const v1::LeaseShardResponse& lease,
                                                      const std::filesystem::path& data_root, StateStore& store,
                                                      Env* env) {
  const uint64_t shard = lease.shard_id();
  ImportedSegments imported;
  std::set<std::string> listed;
  for (const v1::SealedSegment& segment : lease.segments()) {
    ++imported.segments;
    std::vector<v1::ItemResult> results;
    std::vector<dataset::Sample> samples;
    bool has_ok = false;
    for (const auto& result : segment.results()) has_ok = has_ok || result.outcome() == v1::ITEM_OUTCOME_OK;
    bool damaged = false;
    if (!segment.path().empty()) {
      listed.insert(segment.path());
      auto read = ReadSegment(data_root / segment.path(), segment.sha256());
      if (read.ok()) {
        samples = *std::move(read);
      } else {
        damaged = true;
        spdlog::warn("shard {}: sealed segment not taken over, its OK items are fetched again: {}", shard,
                     read.status().ToString());
      }
    } else if (has_ok) {
      damaged = true;  // OK items without a tar: nothing to take over for them
    }
    imported.damaged += damaged ? 1 : 0;
    for (const auto& result : segment.results()) {
      if (damaged && result.outcome() == v1::ITEM_OUTCOME_OK) continue;
      results.push_back(result);
    }
    std::vector<v1::DeadLink> dead_links(segment.dead_links().begin(), segment.dead_links().end());
    ASSIGN_OR_RETURN(bool held, AlreadyHeld(store, shard, results));
    if (!held) RETURN_IF_ERROR(store.PutItems(shard, results, samples, dead_links));
    for (const auto& result : results) imported.result_keys.insert(result.key());
    for (const auto& sample : samples) imported.sample_keys.insert(sample.meta.key);
  }
  auto removed = dataset::RemoveShardSegments(data_root, shard, listed, env);
  if (!removed.ok()) {
    spdlog::warn("shard {}: cannot remove unsealed segment files: {}", shard, removed.status().ToString());
  } else if (*removed > 0) {
    spdlog::info("shard {}: removed {} segment files no seal names", shard, *removed);
  }
  if (imported.segments > 0) {
    spdlog::info("shard {}: took over {} items from {} sealed segments ({} damaged)", shard,
                 imported.result_keys.size(), imported.segments, imported.damaged);
  }
  return imported;
}

}  // namespace atelier::crawler
