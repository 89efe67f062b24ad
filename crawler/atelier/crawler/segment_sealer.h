// SegmentSealer: what a lease holder has made final of its shard, sealed at
// the coordinator as it goes (docs/crawler.md, "Sealed segments"), so that
// the next holder of the shard skips it (segment_import.h) when this worker
// is killed or stops.
//
// Seal() takes the items final in the StateStore and not sealed yet, writes
// the samples of the OK ones to a new segment tar, segments/NNNNNN-T-K.tar
// (dataset::SegmentPath: shard, fencing token, seal number; written like a
// shard: temporary, fsync, no-replace rename), and sends SealSegment with
// their results, their dead links, the tar's path and its sha256. Only
// accepted items count as sealed; a seal that was refused or never answered
// leaves them for the next one (its tar stays until the shard is committed or
// next leased: the coordinator may have accepted it after all). Items taken
// over from earlier segments are never sealed again. The worker calls Seal()
// every seal interval and once more before it releases a lease on SIGTERM.
//
// Not thread-safe: called from the thread that drives the shard's crawl, so
// no item becomes final while a seal reads the store.
#pragma once

#include <filesystem>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "atelier/common/env.h"
#include "atelier/crawler/coordinator_client.h"
#include "atelier/crawler/segment_import.h"
#include "atelier/crawler/state_store.h"
#include "atelier/v1/crawl.pb.h"

namespace atelier::crawler {

class SegmentSealer {
 public:
  // `lease`, `store`, `client` and `env` must outlive the sealer.
  SegmentSealer(const v1::LeaseShardResponse& lease, std::string worker_id, std::filesystem::path data_root,
                StateStore& store, CoordinatorClient& client, Env* env, const ImportedSegments& imported);

  // The number of items sealed now (0: nothing new). FailedPrecondition when
  // the coordinator refused the seal (the lease is lost); Unavailable or
  // DeadlineExceeded when it did not answer; the Env's and the store's errors
  // otherwise (a full disk is ResourceExhausted).
  absl::StatusOr<int> Seal();

  int seals() const { return accepted_; }  // accepted seals of this lease

 private:
  const v1::LeaseShardResponse& lease_;
  const std::string worker_id_;
  const std::filesystem::path data_root_;
  StateStore& store_;
  CoordinatorClient& client_;
  Env* const env_;
  std::set<std::string> sealed_results_, sealed_samples_;
  int next_seal_;  // numbers the segment files of this lease
  int accepted_ = 0;
};

}  // namespace atelier::crawler
