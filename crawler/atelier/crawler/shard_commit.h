// Committing a crawled shard: the samples kept in the StateStore are written
// with dataset::ShardWriter (temporary name, fsync, no-replace rename) and the
// shard is completed at the coordinator with its results, stats and dead links;
// only when the coordinator accepted it is shards/NNNNNN.stats.json written, so
// a stale worker never writes (or overwrites) the accepted shard's stats, and
// the shard's sealed segments (segment_sealer.h) removed.
//
// Fencing (see docs/crawler.md, "Lost leases and stale shard files"): right
// before publishing, the lease is renewed with a Heartbeat; only a worker whose
// lease was just confirmed removes a shard file already at the final name (it
// can only come from a stale worker, whose CompleteShard will be refused), and
// a worker whose lease is lost never deletes a published file. A refused
// CompleteShard discards the worker's state for the shard. A temporary that
// vanished before the rename (removed by a newer holder of the lease, see
// dataset::RemoveShardTemporaries) sends the commit back to the lease check.
// Every file operation goes through `env`; its disk faults (a full disk, an
// I/O error) are tagged by MarkDiskFault.
//
// Not thread-safe; called by the worker thread that crawled the shard.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "atelier/common/clock.h"
#include "atelier/common/env.h"
#include "atelier/crawler/coordinator_client.h"
#include "atelier/crawler/state_store.h"
#include "atelier/dataset/shard_stats.h"
#include "atelier/v1/crawl.pb.h"

namespace atelier::crawler {

enum class CommitOutcome { kAccepted, kLeaseLost };

struct CommitRequest {
  std::string worker_id;
  std::filesystem::path data_root;
  const v1::LeaseShardResponse* lease = nullptr;
  absl::Time leased_at;  // for the shard's duration
  absl::Duration fetch_time;  // HTTP request time of this lease, summed over requests
  Env* env = Env::Default();  // the dataset root's file system
};

// Per-shard counters from the final item results.
v1::ShardStats ComputeShardStats(const std::vector<v1::ItemResult>& results);
dataset::ShardStats ToDatasetStats(const v1::ShardStats& stats, uint64_t shard_id, int attempt,
                                   const std::string& worker_id, const std::vector<v1::ItemResult>& results,
                                   absl::Duration fetch_time);

absl::StatusOr<CommitOutcome> CommitShard(const CommitRequest& request, CoordinatorClient& client,
                                          StateStore& store, Clock& clock);

}  // namespace atelier::crawler
