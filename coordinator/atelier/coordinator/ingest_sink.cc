#include "atelier/coordinator/ingest_sink.h"

#include <map>

#include "atelier/common/status_macros.h"

namespace atelier::coordinator {

namespace {
constexpr size_t kDeadBatch = 10000;
}

absl::Status ShardingSink::Add(v1::WorkItem item) {
  pending_.push_back(std::move(item));
  ++items_;
  if (static_cast<int64_t>(pending_.size()) >= shard_size_) {
    RETURN_IF_ERROR(table_.AddShard(pending_).status());
    ++shards_;
    pending_.clear();
  }
  return absl::OkStatus();
}

absl::Status ShardingSink::AddDead(v1::WorkItem item, const std::string& reason) {
  dead_pending_.emplace_back(std::move(item), reason);
  ++dead_;
  if (dead_pending_.size() >= kDeadBatch) return FlushDead();
  return absl::OkStatus();
}

absl::Status ShardingSink::FlushDead() {
  std::map<std::string, std::vector<v1::WorkItem>> by_reason;
  for (auto& [item, reason] : dead_pending_) by_reason[reason].push_back(std::move(item));
  dead_pending_.clear();
  for (const auto& [reason, items] : by_reason) {
    RETURN_IF_ERROR(table_.AddDeadAtIngest(items, reason));
  }
  return absl::OkStatus();
}

absl::Status ShardingSink::Flush() {
  if (!pending_.empty()) {
    RETURN_IF_ERROR(table_.AddShard(pending_).status());
    ++shards_;
    pending_.clear();
  }
  return FlushDead();
}

}  // namespace atelier::coordinator
