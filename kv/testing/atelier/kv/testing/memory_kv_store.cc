#include "atelier/kv/testing/memory_kv_store.h"

#include <vector>

#include "absl/strings/match.h"

namespace atelier::kv {

absl::StatusOr<std::optional<std::string>> MemoryKvStore::Get(absl::string_view key) {
  absl::MutexLock lock(&mu_);
  auto it = data_.find(std::string(key));
  if (it == data_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

absl::Status MemoryKvStore::Put(absl::string_view key, absl::string_view value) {
  absl::MutexLock lock(&mu_);
  data_[std::string(key)] = std::string(value);
  return absl::OkStatus();
}

absl::Status MemoryKvStore::Delete(absl::string_view key) {
  absl::MutexLock lock(&mu_);
  data_.erase(std::string(key));
  return absl::OkStatus();
}

absl::Status MemoryKvStore::Write(const WriteBatch& batch) {
  absl::MutexLock lock(&mu_);
  for (const auto& op : batch.ops()) {
    if (op.is_delete) {
      data_.erase(op.key);
    } else {
      data_[op.key] = op.value;
    }
  }
  return absl::OkStatus();
}

absl::Status MemoryKvStore::Scan(absl::string_view prefix, absl::string_view start,
                                 const Visitor& visit) {
  std::vector<std::pair<std::string, std::string>> snapshot;
  {
    absl::MutexLock lock(&mu_);
    std::string from = start.empty() || start < prefix ? std::string(prefix) : std::string(start);
    for (auto it = data_.lower_bound(from); it != data_.end(); ++it) {
      if (!absl::StartsWith(it->first, prefix)) break;
      snapshot.emplace_back(it->first, it->second);
    }
  }
  for (const auto& [k, v] : snapshot) {
    if (!visit(k, v)) break;
  }
  return absl::OkStatus();
}

size_t MemoryKvStore::size() const {
  absl::MutexLock lock(&mu_);
  return data_.size();
}

}  // namespace atelier::kv
