// The coordinator's durable state: `--state DIR` holds the RocksDB database in
// DIR/rocksdb (kv::RocksDbKvStore, synced and sealed). A damaged state is
// refused with DataLoss naming the file and saying the two ways out.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "atelier/kv/rocksdb_kv_store.h"

namespace atelier::coordinator {

// DIR/rocksdb for the state directory DIR.
std::string CoordinatorDatabaseDir(const std::string& state_dir);

// Opens the coordinator's database in `database_dir` (CoordinatorDatabaseDir).
absl::StatusOr<std::unique_ptr<kv::RocksDbKvStore>> OpenCoordinatorDatabase(const std::string& database_dir);

}  // namespace atelier::coordinator
