// StateStore: the worker's durable record of its crawl (`--state DIR`).
//
// For every item of every shard it holds the final ItemResult as soon as the
// item is final, every dead link, and, for items that are OK, the processed
// samples (image bytes + metadata) until the shard is committed, so a worker
// that is SIGKILLed and restarted rebuilds the shard without fetching a
// finished item again. PutItem is atomic (record + samples + dead links).
//
// One implementation on kv::KvStore: RocksDB (OpenRocksDbStateStore) or, in
// tests, kv::MemoryKvStore (MakeKvStateStore).
// Thread safety: all methods may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "atelier/common/env.h"
#include "atelier/dataset/sample.h"
#include "atelier/kv/kv_store.h"
#include "atelier/v1/common.pb.h"

namespace atelier::crawler {

class StateStore {
 public:
  virtual ~StateStore() = default;

  // The final record of `key` in `shard`, or nullopt when the item is not final.
  virtual absl::StatusOr<std::optional<v1::ItemResult>> GetItem(uint64_t shard, const std::string& key) = 0;
  // Records final items with their samples (those of the OK items) and dead
  // links, atomically: all or none. A record or sample already there with the
  // same key is replaced.
  virtual absl::Status PutItems(uint64_t shard, const std::vector<v1::ItemResult>& results,
                                const std::vector<dataset::Sample>& samples,
                                const std::vector<v1::DeadLink>& dead_links) = 0;
  // One final item with its samples (OK items) and dead links, atomically.
  absl::Status PutItem(uint64_t shard, const v1::ItemResult& result, const std::vector<dataset::Sample>& samples,
                       const std::vector<v1::DeadLink>& dead_links) {
    return PutItems(shard, {result}, samples, dead_links);
  }
  // Every final item recorded for `shard`, ordered by key.
  virtual absl::StatusOr<std::vector<v1::ItemResult>> ListItems(uint64_t shard) = 0;
  // The samples kept for `shard`, ordered by sample key; with `want`, only
  // those whose key it accepts (the bytes of the others are not read).
  virtual absl::StatusOr<std::vector<dataset::Sample>> LoadSamples(
      uint64_t shard, const std::function<bool(const std::string& key)>& want = nullptr) = 0;
  // After a shard was accepted by the coordinator: drop its sample bytes, keep
  // the item records (they are history and keep the shard from being redone).
  virtual absl::Status MarkCommitted(uint64_t shard) = 0;
  virtual absl::StatusOr<bool> IsCommitted(uint64_t shard) = 0;
  // After a lease was lost: drop the samples and the OK records of `shard`
  // (another worker owns it now); dead/failed records and dead links stay.
  virtual absl::Status DiscardShard(uint64_t shard) = 0;
  // Every dead link ever recorded, ordered by key.
  virtual absl::StatusOr<std::vector<v1::DeadLink>> ListDeadLinks() = 0;

  // Small worker metadata (e.g. the stable worker name).
  virtual absl::StatusOr<std::optional<std::string>> GetMeta(const std::string& name) = 0;
  virtual absl::Status PutMeta(const std::string& name, const std::string& value) = 0;
};

// Opens (creating if needed) the worker state in directory `dir`: a
// kv::RocksDbKvStore in `dir` (writes through the WAL without an fsync each;
// damage is DataLoss naming the file; a state made before seals is accepted
// and sealed) and the spool in `dir`/spool, written through `env` (which must
// outlive the store).
absl::StatusOr<std::unique_ptr<StateStore>> OpenRocksDbStateStore(const std::string& dir, Env* env = Env::Default());

// The state on any KvStore (tests: kv::MemoryKvStore), with image bytes
// spooled under `spool_dir` through `env`.
std::unique_ptr<StateStore> MakeKvStateStore(std::unique_ptr<kv::KvStore> store, const std::string& spool_dir,
                                             Env* env = Env::Default());

}  // namespace atelier::crawler
