// RocksDbKvStore: the one RocksDB wrapper of atelier (the coordinator's state
// and every crawler's worker state), a RocksDB database in a directory.
//
// Durable writes (synced batches, Put, Delete, Sync) are on disk when they
// return, so a killed coordinator loses nothing it acknowledged. Damage is
// never silently forgotten: every durable write also advances a seal, the
// RocksDB sequence number it reached, kept in `DIR/ATELIER_SEAL` next to the
// database files. Open() replays the database read-only first, verifies every
// SST checksum and compares the recovered sequence number with the seal; when
// RocksDB reports corruption or recovers less than the seal (a cut, zeroed or
// emptied write-ahead log, a cut MANIFEST, a missing CURRENT) it refuses with
// DataLoss naming the state's newest write-ahead log and MANIFEST, before
// anything in the directory is changed. A database without a seal that holds
// writes (made before seals existed, or copied without the seal) is refused
// the same way, unless the caller accepts unsealed databases: then it is
// opened and sealed from then on. A torn tail of writes that were never
// synced (a machine crash) is dropped, as RocksDB's point-in-time recovery does.
//
// RocksDB Corruption maps to absl DataLoss, NoSpace to ResourceExhausted and
// IOError to Unavailable (as absl::ErrnoToStatus maps ENOSPC and EIO, so disk
// faults are told apart: crawler/disk_fault.h), other RocksDB errors to Internal.
// Thread-safe (RocksDB's own guarantees; the seal has its own mutex). Owns
// the DB handle.
#pragma once

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "atelier/kv/kv_store.h"

namespace rocksdb {
class DB;
}

namespace atelier::kv {

struct RocksDbKvOptions {
  // Fsync the WAL on every durable write (default). Without it writes still
  // reach the WAL at once (they survive a killed process, not a machine
  // crash), and only a clean close advances the seal.
  bool sync = true;
  // Names the store in errors ("coordinator state '<dir>' is damaged: ...").
  std::string what = "state";
  // Appended to a damage error: what the user can do about it.
  std::string remedy = "Restore the state from a copy.";
  // Open a database that holds writes but has no seal, and seal it.
  bool accept_unsealed = false;
};

class RocksDbKvStore final : public KvStore {
 public:
  // Opens (creating if missing) the database in `dir`.
  static absl::StatusOr<std::unique_ptr<RocksDbKvStore>> Open(const std::string& dir,
                                                              RocksDbKvOptions options = {});
  ~RocksDbKvStore() override;

  absl::StatusOr<std::optional<std::string>> Get(absl::string_view key) override;
  absl::Status Put(absl::string_view key, absl::string_view value) override;
  absl::Status Delete(absl::string_view key) override;
  absl::Status Write(const WriteBatch& batch) override;
  absl::Status Scan(absl::string_view prefix, absl::string_view start,
                    const Visitor& visit) override;
  absl::Status Sync() override;

  // The seal file of the database in `dir`.
  static std::string SealPath(const std::string& dir);

 private:
  RocksDbKvStore(std::unique_ptr<rocksdb::DB> db, std::string dir, RocksDbKvOptions options, int seal_fd,
                 uint64_t sealed);
  // Syncs the WAL and records the sequence number reached before the sync.
  absl::Status SyncAndSeal();

  std::unique_ptr<rocksdb::DB> db_;
  std::string dir_;
  RocksDbKvOptions options_;
  absl::Mutex seal_mu_;
  int seal_fd_ ABSL_GUARDED_BY(seal_mu_);
  uint64_t sealed_ ABSL_GUARDED_BY(seal_mu_);
};

}  // namespace atelier::kv
