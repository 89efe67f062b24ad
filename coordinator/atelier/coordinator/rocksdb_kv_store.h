// RocksDbKvStore: the production KvStore, a RocksDB database in a directory.
// Writes are synced (WAL fsync) so a killed coordinator loses nothing it
// acknowledged. Thread-safe (RocksDB's own guarantees). Owns the DB handle.
#pragma once

#include <memory>
#include <string>

#include "atelier/coordinator/kv_store.h"

namespace rocksdb {
class DB;
}

namespace atelier::coordinator {

class RocksDbKvStore final : public KvStore {
 public:
  // Opens (creating if missing) the database in `dir`. `sync` fsyncs the WAL on
  // every write (default); benchmarks and bulk ingest may turn it off.
  static absl::StatusOr<std::unique_ptr<RocksDbKvStore>> Open(const std::string& dir,
                                                              bool sync = true);
  ~RocksDbKvStore() override;

  absl::StatusOr<std::optional<std::string>> Get(absl::string_view key) override;
  absl::Status Put(absl::string_view key, absl::string_view value) override;
  absl::Status Delete(absl::string_view key) override;
  absl::Status Write(const WriteBatch& batch) override;
  absl::Status Scan(absl::string_view prefix, absl::string_view start,
                    const Visitor& visit) override;
  absl::Status Sync() override;

 private:
  RocksDbKvStore(std::unique_ptr<rocksdb::DB> db, std::string dir, bool sync);

  std::unique_ptr<rocksdb::DB> db_;
  std::string dir_;
  bool sync_;
};

}  // namespace atelier::coordinator
