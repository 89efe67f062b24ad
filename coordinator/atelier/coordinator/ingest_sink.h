// ShardingSink: the IngestSink (item_sink.h) of a real ingest. It groups items into
// shards of `shard_size` items in arrival order and writes each full shard to
// the ShardTable at once, so ingest memory is bounded by one shard plus one
// batch of dead items. Resuming an interrupted ingest, it is given what was
// stored (IngestProgress) and skips that many items and dead items, checking
// that the last skipped key is the stored one (FailedPrecondition when the
// sources changed).
//
// Not thread-safe: one ingest thread owns a sink.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "atelier/coordinator/item_sink.h"
#include "atelier/coordinator/shard_table.h"
#include "atelier/v1/common.pb.h"

namespace atelier::coordinator {

class ShardingSink final : public IngestSink {
 public:
  ShardingSink(ShardTable& table, int64_t shard_size, IngestProgress resume = {})
      : table_(table), shard_size_(shard_size), resume_(std::move(resume)),
        shards_(resume_.shards) {}
  absl::Status Add(v1::WorkItem item) override;
  absl::Status AddDead(v1::WorkItem item, const std::string& reason) override;
  // Writes the last partial shard and the buffered dead items.
  absl::Status Flush();

  // Totals, the resumed part included.
  int64_t items() const { return items_; }
  int64_t dead() const { return dead_; }
  int64_t shards() const { return shards_; }

 private:
  absl::Status FlushDead();
  // True when the `n`-th (1-based) item of a stream was stored before; checks
  // the stored key at the last one.
  absl::StatusOr<bool> Skip(int64_t n, int64_t stored, const std::string& key,
                            const std::string& stored_key, absl::string_view what) const;

  ShardTable& table_;
  const int64_t shard_size_;
  const IngestProgress resume_;
  std::vector<v1::WorkItem> pending_;
  std::vector<std::pair<v1::WorkItem, std::string>> dead_pending_;
  int64_t items_ = 0;
  int64_t dead_ = 0;
  int64_t shards_ = 0;
};

}  // namespace atelier::coordinator
