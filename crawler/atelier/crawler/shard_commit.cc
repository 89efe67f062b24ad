#include "atelier/crawler/shard_commit.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "atelier/common/status_macros.h"
#include "atelier/crawler/disk_fault.h"
#include "atelier/dataset/shard_paths.h"
#include "atelier/dataset/shard_writer.h"
#include "spdlog/spdlog.h"

namespace atelier::crawler {

v1::ShardStats ComputeShardStats(const std::vector<v1::ItemResult>& results) {
  v1::ShardStats stats;
  for (const auto& r : results) {
    stats.set_items(stats.items() + 1);
    stats.set_samples(stats.samples() + r.samples_written());
    stats.set_bytes_downloaded(stats.bytes_downloaded() + r.bytes());
    switch (r.outcome()) {
      case v1::ITEM_OUTCOME_OK: stats.set_ok(stats.ok() + 1); break;
      case v1::ITEM_OUTCOME_DEAD: stats.set_dead(stats.dead() + 1); break;
      default: stats.set_failed(stats.failed() + 1); break;
    }
    if (r.outcome() != v1::ITEM_OUTCOME_OK) (*stats.mutable_errors_by_reason())[r.reason()] += 1;
  }
  return stats;
}

dataset::ShardStats ToDatasetStats(const v1::ShardStats& stats, uint64_t shard_id, int attempt,
                                   const std::string& worker_id, const std::vector<v1::ItemResult>& results,
                                   absl::Duration fetch_time) {
  dataset::ShardStats out;
  out.shard_index = shard_id;
  out.items_total = stats.items();
  out.ok = stats.ok();
  out.dead = stats.dead();
  out.failed = stats.failed();
  out.samples = stats.samples();
  for (const auto& r : results) {
    if (r.outcome() == v1::ITEM_OUTCOME_DEAD) out.dead_by_reason[r.reason()] += 1;
    if (r.outcome() == v1::ITEM_OUTCOME_FAILED) out.errors_by_reason[r.reason()] += 1;
  }
  out.bytes_downloaded = stats.bytes_downloaded();
  out.bytes_written = stats.bytes_written();
  out.duration_ms = stats.duration_ms();
  out.fetch_seconds = absl::ToDoubleSeconds(fetch_time);
  out.wall_seconds = static_cast<double>(stats.duration_ms()) / 1000.0;
  out.attempt = attempt;
  out.worker_id = worker_id;
  return out;
}

namespace {

// Heartbeat right before publishing: true when the lease is confirmed.
absl::StatusOr<bool> ConfirmLease(const CommitRequest& request, CoordinatorClient& client) {
  v1::HeartbeatRequest hb;
  hb.set_worker_id(request.worker_id);
  hb.set_shard_id(request.lease->shard_id());
  hb.set_fencing_token(request.lease->fencing_token());
  auto response = client.Heartbeat(hb);
  if (!response.ok()) {
    if (absl::IsFailedPrecondition(response.status())) return false;
    return response.status();
  }
  return response->ok();
}

// Removes a file left at the final name by a stale worker. Only called with a
// freshly confirmed lease.
void RemoveStaleShard(Env& env, const std::filesystem::path& root, uint64_t shard, uint64_t token) {
  for (const auto& path : {dataset::ShardPath(root, shard), dataset::ShardStatsPath(root, shard)}) {
    if (!env.FileExists(path)) continue;
    spdlog::warn("shard {}: removing {} left by a stale worker (lease token {} is current)", shard, path.string(),
                 token);
    const auto aside = std::filesystem::path(path.string() + absl::StrFormat(".stale-%d", token));
    if (env.RenameFile(path, aside).ok()) (void)env.RemoveFile(aside);
  }
}

}  // namespace

absl::StatusOr<CommitOutcome> CommitShard(const CommitRequest& request, CoordinatorClient& client,
                                          StateStore& store, Clock& clock) {
  const v1::LeaseShardResponse& lease = *request.lease;
  const uint64_t shard = lease.shard_id();
  std::set<std::string> keys;
  for (const auto& item : lease.items()) keys.insert(item.key());

  ASSIGN_OR_RETURN(std::vector<v1::ItemResult> all_results, store.ListItems(shard), MarkDiskFault(_.status));
  std::vector<v1::ItemResult> results;
  for (auto& r : all_results) {
    if (keys.count(r.key()) > 0) results.push_back(std::move(r));
  }
  ASSIGN_OR_RETURN(std::vector<dataset::Sample> samples, store.LoadSamples(shard), MarkDiskFault(_.status));
  v1::ShardStats stats = ComputeShardStats(results);
  stats.set_duration_ms(absl::ToInt64Milliseconds(clock.Now() - request.leased_at));

  std::optional<dataset::CommittedShard> committed;
  for (int attempt = 0; attempt < 3 && !committed.has_value(); ++attempt) {
    ASSIGN_OR_RETURN(bool confirmed, ConfirmLease(request, client));
    if (!confirmed) return CommitOutcome::kLeaseLost;
    RemoveStaleShard(*request.env, request.data_root, shard, lease.fencing_token());
    auto writer = dataset::ShardWriter::Open(request.data_root, shard, request.env);
    if (absl::IsAlreadyExists(writer.status())) continue;  // a stale worker published meanwhile
    if (!writer.ok()) return MarkDiskFault(writer.status());
    for (const auto& sample : samples) {
      absl::Status added = (*writer)->Add(sample);
      if (!added.ok()) return MarkDiskFault(Annotate(added, absl::StrCat("shard ", shard, ": adding ", sample.meta.key)));
    }
    // The tar alone: stats.json is written only once the coordinator accepted this tar.
    auto done = (*writer)->Commit();
    if (absl::IsAlreadyExists(done.status())) continue;
    if (absl::IsNotFound(done.status())) {
      spdlog::warn("shard {}: {}; checking the lease again", shard, done.status().ToString());
      continue;  // our temporary was removed: a newer lease holder cleaned up
    }
    if (!done.ok()) return MarkDiskFault(done.status());
    committed = *std::move(done);
  }
  if (!committed.has_value()) {
    return absl::AbortedError(absl::StrCat("shard ", shard, ": could not publish: another file kept appearing"));
  }
  stats.set_bytes_written(static_cast<int64_t>(committed->bytes));

  v1::CompleteShardRequest complete;
  complete.set_worker_id(request.worker_id);
  complete.set_shard_id(shard);
  complete.set_fencing_token(lease.fencing_token());
  for (const auto& r : results) *complete.add_results() = r;
  *complete.mutable_stats() = stats;
  ASSIGN_OR_RETURN(std::vector<v1::DeadLink> dead, store.ListDeadLinks());
  for (const auto& d : dead) {
    if (d.shard_id() == shard) *complete.add_dead_links() = d;
  }
  complete.set_shard_path(std::filesystem::relative(committed->tar_path, request.data_root).string());
  complete.set_shard_sha256(committed->sha256);
  ASSIGN_OR_RETURN(v1::CompleteShardResponse response, client.CompleteShard(complete));
  if (!response.accepted()) {
    // Our file stays: the current lease holder replaces it when it commits.
    return CommitOutcome::kLeaseLost;
  }
  absl::Status stats_written = dataset::WriteShardStats(
      request.data_root,
      ToDatasetStats(stats, shard, lease.attempt(), request.worker_id, results, request.fetch_time), request.env);
  if (!stats_written.ok()) {
    // The shard is accepted; its figures are also in the coordinator's record.
    spdlog::warn("shard {}: accepted, but its stats file was not written: {}", shard, stats_written.ToString());
  }
  RETURN_IF_ERROR(MarkDiskFault(store.MarkCommitted(shard)));
  // The shard's tar holds every sealed sample now (the coordinator deleted the seals).
  auto segments = dataset::RemoveShardSegments(request.data_root, shard, {}, request.env);
  if (!segments.ok()) spdlog::warn("shard {}: cannot remove its segments: {}", shard, segments.status().ToString());
  return CommitOutcome::kAccepted;
}

}  // namespace atelier::crawler
