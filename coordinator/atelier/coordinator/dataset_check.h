// The coordinator state checked against, and rebuilt from, the dataset root:
// the committed shard tars (shards/NNNNNN.tar) are the ground truth of what
// was crawled.
//
//   CheckAgainstDataset: every done shard's tar exists at the recorded path
//   and has the accepted sha256; returns one line per mismatch (empty: all
//   good).
//   RecoverFromDataset: every shard that is not done but has a committed tar
//   in the dataset root (read fully, every sample's sha256 verified) becomes
//   done: its items with a sample in the tar are ok, the others failed with
//   reason "not_in_recovered_shard" (so --retry-failed can fetch them).
//
// Run while the coordinator is not serving (start-up, operator modes).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "atelier/coordinator/shard_table.h"

namespace atelier::coordinator {

absl::StatusOr<std::vector<std::string>> CheckAgainstDataset(
    ShardTable& table, const std::filesystem::path& dataset_root);

struct RecoverReport {
  int64_t shards = 0;        // shards made done from the dataset
  int64_t items_ok = 0;      // items found in their tars
  int64_t items_missing = 0; // items not in their tars (failed, not_in_recovered_shard)
};

absl::StatusOr<RecoverReport> RecoverFromDataset(ShardTable& table,
                                                 const std::filesystem::path& dataset_root);

}  // namespace atelier::coordinator
