#include "atelier/coordinator/coordinator_state.h"

#include <filesystem>

namespace atelier::coordinator {

std::string CoordinatorDatabaseDir(const std::string& state_dir) {
  return (std::filesystem::path(state_dir) / "rocksdb").string();
}

absl::StatusOr<std::unique_ptr<kv::RocksDbKvStore>> OpenCoordinatorDatabase(const std::string& database_dir) {
  kv::RocksDbKvOptions options;
  options.what = "coordinator state";
  options.remedy =
      "Restore the state from a copy, or rebuild the done set with --recover-from-dataset into a new --state";
  return kv::RocksDbKvStore::Open(database_dir, std::move(options));
}

}  // namespace atelier::coordinator
