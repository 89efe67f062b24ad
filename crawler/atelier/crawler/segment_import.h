// Taking over what earlier holders of a shard sealed (SegmentSealer,
// LeaseShardResponse.segments), so that a shard that moves to another worker
// is not fetched again from the start.
//
// For every segment the coordinator lists, in sealing order: its dead and
// failed results and its dead links are recorded in the StateStore; its OK
// results are recorded together with the samples of its tar, but only when the
// tar is there and its sha256 is the sealed one. A missing or damaged tar is
// logged naming the file, and its OK items are fetched again (they are not
// recorded). Records go in with one atomic StateStore::PutItems per segment,
// replacing the store's own records of those keys (the coordinator accepted
// the segment; a later segment wins over an earlier one). A segment that the
// store already holds exactly (this worker's own, after a restart with the
// same --state) is not written again. Then every file of the shard under
// segments/ that the coordinator does not list (unaccepted seals, their
// temporaries) is removed.
//
// Errors are the store's (the caller gives the lease up); reading a segment
// never fails the import. Not thread-safe; the worker thread calls it once
// per lease, before the crawl.
#pragma once

#include <filesystem>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "atelier/common/env.h"
#include "atelier/crawler/state_store.h"
#include "atelier/v1/crawl.pb.h"

namespace atelier::crawler {

struct ImportedSegments {
  std::set<std::string> result_keys;  // items taken over (already sealed: never sealed again)
  std::set<std::string> sample_keys;  // samples taken over
  int segments = 0;                   // segments listed in the lease
  int damaged = 0;                    // of those, with a missing or damaged tar
};

absl::StatusOr<ImportedSegments> ImportSealedSegments(const v1::LeaseShardResponse& lease,
                                                      const std::filesystem::path& data_root, StateStore& store,
                                                      Env* env);

}  // namespace atelier::crawler
