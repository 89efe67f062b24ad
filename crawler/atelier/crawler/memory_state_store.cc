#include "atelier/crawler/state_store.h"

namespace atelier::crawler {

absl::StatusOr<std::optional<v1::ItemResult>> MemoryStateStore::GetItem(uint64_t shard, const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  auto s = items_.find(shard);
  if (s == items_.end()) return std::optional<v1::ItemResult>();
  auto it = s->second.find(key);
  if (it == s->second.end()) return std::optional<v1::ItemResult>();
  return std::optional<v1::ItemResult>(it->second);
}

absl::Status MemoryStateStore::PutItem(uint64_t shard, const v1::ItemResult& result,
                                       const std::vector<dataset::Sample>& samples,
                                       const std::vector<v1::DeadLink>& dead_links) {
  std::lock_guard<std::mutex> l(mu_);
  items_[shard][result.key()] = result;
  for (const auto& s : samples) samples_[shard][s.meta.key] = s;
  for (const auto& d : dead_links) dead_[d.key()] = d;
  ++puts_;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::ItemResult>> MemoryStateStore::ListItems(uint64_t shard) {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<v1::ItemResult> out;
  for (const auto& [k, v] : items_[shard]) out.push_back(v);
  return out;
}

absl::StatusOr<std::vector<dataset::Sample>> MemoryStateStore::LoadSamples(uint64_t shard) {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<dataset::Sample> out;
  for (const auto& [k, v] : samples_[shard]) out.push_back(v);
  return out;
}

absl::Status MemoryStateStore::MarkCommitted(uint64_t shard) {
  std::lock_guard<std::mutex> l(mu_);
  samples_.erase(shard);
  committed_[shard] = true;
  return absl::OkStatus();
}

absl::StatusOr<bool> MemoryStateStore::IsCommitted(uint64_t shard) {
  std::lock_guard<std::mutex> l(mu_);
  return committed_.count(shard) > 0;
}

absl::Status MemoryStateStore::DiscardShard(uint64_t shard) {
  std::lock_guard<std::mutex> l(mu_);
  samples_.erase(shard);
  auto& items = items_[shard];
  for (auto it = items.begin(); it != items.end();) {
    if (it->second.outcome() == v1::ITEM_OUTCOME_OK) {
      it = items.erase(it);
    } else {
      ++it;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::DeadLink>> MemoryStateStore::ListDeadLinks() {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<v1::DeadLink> out;
  for (const auto& [k, v] : dead_) out.push_back(v);
  return out;
}

absl::StatusOr<std::optional<std::string>> MemoryStateStore::GetMeta(const std::string& name) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = meta_.find(name);
  if (it == meta_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

absl::Status MemoryStateStore::PutMeta(const std::string& name, const std::string& value) {
  std::lock_guard<std::mutex> l(mu_);
  meta_[name] = value;
  return absl::OkStatus();
}

int MemoryStateStore::put_count() const {
  std::lock_guard<std::mutex> l(mu_);
  return puts_;
}

}  // namespace atelier::crawler
