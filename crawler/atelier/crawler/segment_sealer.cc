#include "atelier/crawler/segment_sealer.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "atelier/common/status_macros.h"
#include "atelier/dataset/shard_paths.h"
#include "atelier/dataset/shard_writer.h"
#include "spdlog/spdlog.h"

namespace atelier::crawler {

SegmentSealer::SegmentSealer(const v1::LeaseShardResponse& lease, std::string worker_id,
                             std::filesystem::path data_root, StateStore& store, CoordinatorClient& client, Env* env,
                             const ImportedSegments& imported)
    : lease_(lease),
      worker_id_(std::move(worker_id)),
      data_root_(std::move(data_root)),
      store_(store),
      client_(client),
      env_(env),
      sealed_results_(imported.result_keys),
      sealed_samples_(imported.sample_keys),
      // Seal numbers below this may name files of this token (a restart with
      // the same lease), listed or removed at import.
      next_seal_(lease.segments_size()) {}

absl::StatusOr<int> SegmentSealer::Seal() {
  const uint64_t shard = lease_.shard_id();
  std::set<std::string> keys;
  for (const auto& item : lease_.items()) keys.insert(item.key());
  ASSIGN_OR_RETURN(std::vector<v1::ItemResult> all, store_.ListItems(shard));
  v1::SealSegmentRequest request;
  request.set_worker_id(worker_id_);
  request.set_shard_id(shard);
  request.set_fencing_token(lease_.fencing_token());
  v1::SealedSegment& segment = *request.mutable_segment();
  bool has_ok = false;
  for (auto& result : all) {
    if (!keys.contains(result.key()) || sealed_results_.contains(result.key())) continue;
    has_ok = has_ok || result.outcome() == v1::ITEM_OUTCOME_OK;
    *segment.add_results() = std::move(result);
  }
  if (segment.results_size() == 0) return 0;
  std::set<std::string> new_samples;
  if (has_ok) {
    ASSIGN_OR_RETURN(std::vector<dataset::Sample> samples,
                     store_.LoadSamples(shard, [&](const std::string& key) { return !sealed_samples_.contains(key); }));
    const std::filesystem::path relative = dataset::SegmentPath("", shard, lease_.fencing_token(), next_seal_++);
    ASSIGN_OR_RETURN(std::unique_ptr<dataset::ShardWriter> writer,
                     dataset::ShardWriter::OpenFile(data_root_ / relative, env_));
    for (const auto& sample : samples) {
      RETURN_IF_ERROR(writer->Add(sample));
      new_samples.insert(sample.meta.key);
    }
    ASSIGN_OR_RETURN(dataset::CommittedShard tar, writer->Commit());
    segment.set_path(relative.string());
    segment.set_sha256(tar.sha256);
  }
  std::set<std::string> result_keys;
  for (const auto& result : segment.results()) result_keys.insert(result.key());
  ASSIGN_OR_RETURN(std::vector<v1::DeadLink> dead, store_.ListDeadLinks());
  for (auto& link : dead) {
    if (link.shard_id() == shard && result_keys.contains(link.key())) *segment.add_dead_links() = std::move(link);
  }
  ASSIGN_OR_RETURN(v1::SealSegmentResponse response, client_.SealSegment(request));
  if (!response.accepted()) {
    return absl::FailedPreconditionError(absl::StrCat("shard ", shard, ": SealSegment refused: the lease is lost"));
  }
  sealed_results_.merge(result_keys);
  sealed_samples_.merge(new_samples);
  ++accepted_;
  return segment.results_size();
}

}  // namespace atelier::crawler
