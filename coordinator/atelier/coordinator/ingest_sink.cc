#include "atelier/coordinator/ingest_sink.h"

#include "absl/strings/str_cat.h"

#include "atelier/common/status_macros.h"

namespace atelier::coordinator {

namespace {
constexpr size_t kDeadBatch = 10000;
}

absl::StatusOr<bool> ShardingSink::Skip(int64_t n, int64_t stored, const std::string& key,
                                         const std::string& stored_key,
                                         absl::string_view what) const {
  if (n > stored) return false;
  if (n == stored && key != stored_key) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot resume the interrupted ingest: ", what, " ", n, " is now '", key,
        "', it was '", stored_key, "' (the job's sources changed); start a new --state"));
  }
  return true;
}

absl::Status ShardingSink::Add(v1::WorkItem item) {
  ++items_;
  ASSIGN_OR_RETURN(bool stored, Skip(items_, resume_.items, item.key(), resume_.last_item_key,
                                     "item"));
  if (stored) return absl::OkStatus();
  pending_.push_back(std::move(item));
  if (static_cast<int64_t>(pending_.size()) >= shard_size_) {
    RETURN_IF_ERROR(table_.AddShard(pending_, shard_size_).status());
    ++shards_;
    pending_.clear();
  }
  return absl::OkStatus();
}

absl::Status ShardingSink::AddDead(v1::WorkItem item, const std::string& reason) {
  ++dead_;
  ASSIGN_OR_RETURN(bool stored, Skip(dead_, resume_.dead, item.key(), resume_.last_dead_key,
                                     "dead item"));
  if (stored) return absl::OkStatus();
  dead_pending_.emplace_back(std::move(item), reason);
  if (dead_pending_.size() >= kDeadBatch) return FlushDead();
  return absl::OkStatus();
}

absl::Status ShardingSink::FlushDead() {
  // In arrival order (runs of one reason each), so the stored progress is a
  // prefix of the dead-item stream.
  std::vector<v1::WorkItem> run;
  for (size_t i = 0; i < dead_pending_.size(); ++i) {
    run.push_back(std::move(dead_pending_[i].first));
    if (i + 1 == dead_pending_.size() || dead_pending_[i + 1].second != dead_pending_[i].second) {
      RETURN_IF_ERROR(table_.AddDeadAtIngest(run, dead_pending_[i].second));
      run.clear();
    }
  }
  dead_pending_.clear();
  return absl::OkStatus();
}

absl::Status ShardingSink::Flush() {
  if (resume_.items > items_ || resume_.dead > dead_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot resume the interrupted ingest: the sources now give ", items_, " items and ",
        dead_, " dead items, but ", resume_.items, " and ", resume_.dead,
        " were stored (the job's sources changed); start a new --state"));
  }
  if (!pending_.empty()) {
    RETURN_IF_ERROR(table_.AddShard(pending_, shard_size_).status());
    ++shards_;
    pending_.clear();
  }
  return FlushDead();
}

}  // namespace atelier::coordinator
