#include "atelier/coordinator/shard_table.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "atelier/common/status_macros.h"
#include "atelier/dataset/sample_key.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace atelier::coordinator {
namespace {

using json = nlohmann::json;

constexpr char kJobKey[] = "meta/job";
constexpr char kSchemaKey[] = "meta/schema";
constexpr char kIngestProgressKey[] = "meta/ingest_progress";
// The layout of the records below; bump it when they change incompatibly.
constexpr int kSchemaVersion = 1;
constexpr char kIngestDoneKey[] = "meta/ingest_done";
constexpr char kNextTokenKey[] = "meta/next_token";
constexpr char kNextWorkerKey[] = "meta/next_worker";
constexpr char kCountersKey[] = "meta/counters";
constexpr char kListTotalsKey[] = "meta/list_totals";
constexpr char kShardPrefix[] = "shard/";
constexpr char kItemsPrefix[] = "items/";
constexpr char kDonePrefix[] = "done/";
constexpr char kDeadPrefix[] = "dead/";
constexpr char kFailedPrefix[] = "failed/";
constexpr char kWorkerPrefix[] = "worker/";
constexpr char kSealPrefix[] = "seal/";  // seal/<shard>/<seq>: SealedSegment

// The results of a CompleteShard or SealSegment of shard `id` by key, each an
// item of the shard with an outcome, at most one per key; InvalidArgument
// naming the call and the key otherwise.
using ResultsOfShard = std::map<std::string, const v1::ItemResult*>;

absl::StatusOr<ResultsOfShard> ResultsByKey(
    absl::string_view rpc, uint64_t id, const std::vector<v1::WorkItem>& items,
    const google::protobuf::RepeatedPtrField<v1::ItemResult>& results) {
  std::set<std::string> keys;
  for (const auto& item : items) keys.insert(item.key());
  ResultsOfShard by_key;
  for (const auto& r : results) {
    if (!keys.contains(r.key())) {
      return absl::InvalidArgumentError(
          absl::StrCat(rpc, " for shard ", id, ": result for '", r.key(), "', which is not an item of this shard"));
    }
    if (r.outcome() == v1::ITEM_OUTCOME_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat(rpc, " for shard ", id, ": result for '", r.key(), "' has no outcome"));
    }
    if (!by_key.emplace(r.key(), &r).second) {
      return absl::InvalidArgumentError(absl::StrCat(rpc, " for shard ", id, ": two results for '", r.key(), "'"));
    }
  }
  return by_key;
}

std::string ShardKey(absl::string_view prefix, uint64_t id) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%012" PRIu64, id);
  return absl::StrCat(prefix, buf);
}

std::string DeadKey(const std::string& item_key, const std::string& url) {
  return absl::StrCat(kDeadPrefix, item_key, "/", dataset::UrlKey(url));
}

absl::StatusOr<uint64_t> ParseShardId(absl::string_view key, absl::string_view prefix) {
  uint64_t id = 0;
  if (!absl::SimpleAtoi(key.substr(prefix.size()), &id)) {
    return absl::DataLossError(absl::StrCat("bad shard key '", key, "' in the state store"));
  }
  return id;
}

int StateCode(ShardState s) { return static_cast<int>(s); }

int32_t PageSize(const v1::PageRequest& page) {
  if (page.page_size() <= 0) return 100;
  return std::min(page.page_size(), 1000);
}

}  // namespace

absl::string_view ShardStateName(ShardState state) {
  switch (state) {
    case ShardState::kPending: return "pending";
    case ShardState::kLeased: return "leased";
    case ShardState::kDone: return "done";
    case ShardState::kFailed: return "failed";
  }
  return "unknown";
}

ShardTable::ShardTable(kv::KvStore& store, Clock& clock, ShardTableOptions options)
    : store_(store), clock_(clock), options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<ShardTable>> ShardTable::Open(kv::KvStore& store, Clock& clock,
                                                             ShardTableOptions options) {
  std::unique_ptr<ShardTable> table(new ShardTable(store, clock, std::move(options)));
  RETURN_IF_ERROR(table->Load());
  return table;
}

absl::Status ShardTable::Load() {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(auto job, store_.Get(kJobKey));
  kv::WriteBatch first;
  RETURN_IF_ERROR(CheckSchemaLocked(!job.has_value(), first));
  if (job) {
    json j = json::parse(*job, nullptr, false);
    if (j.is_discarded()) return absl::DataLossError("corrupt meta/job record");
    started_at_ms_ = j.value("started_at_ms", int64_t{0});
  } else {
    started_at_ms_ = clock_.NowMillis();
    first.Put(kJobKey, json{{"started_at_ms", started_at_ms_}}.dump());
    RETURN_IF_ERROR(store_.Write(first));
  }
  ASSIGN_OR_RETURN(auto progress, store_.Get(kIngestProgressKey));
  if (progress) {
    json j = json::parse(*progress, nullptr, false);
    if (j.is_discarded()) return absl::DataLossError("corrupt meta/ingest_progress record");
    progress_.shards = j.value("shards", int64_t{0});
    progress_.items = j.value("items", int64_t{0});
    progress_.dead = j.value("dead", int64_t{0});
    progress_.last_item_key = j.value("last_item_key", std::string());
    progress_.last_dead_key = j.value("last_dead_key", std::string());
    progress_.shard_size = j.value("shard_size", int64_t{0});
  }
  ASSIGN_OR_RETURN(auto done, store_.Get(kIngestDoneKey));
  ingested_ = done.has_value();
  ASSIGN_OR_RETURN(auto token, store_.Get(kNextTokenKey));
  if (token && !absl::SimpleAtoi(*token, &next_token_)) return absl::DataLossError("bad next_token");
  ASSIGN_OR_RETURN(auto worker, store_.Get(kNextWorkerKey));
  if (worker && !absl::SimpleAtoi(*worker, &next_worker_)) {
    return absl::DataLossError("bad next_worker");
  }
  ASSIGN_OR_RETURN(auto counters, store_.Get(kCountersKey));
  if (counters && !counters_.ParseFromString(*counters)) {
    return absl::DataLossError("corrupt meta/counters record");
  }
  ASSIGN_OR_RETURN(auto totals, store_.Get(kListTotalsKey));
  if (totals) {
    json j = json::parse(*totals, nullptr, false);
    if (j.is_discarded()) return absl::DataLossError("corrupt meta/list_totals record");
    dead_links_total_ = j.value("dead", int64_t{0});
    failed_items_total_ = j.value("failed", int64_t{0});
  }

  absl::Status parse_error;
  RETURN_IF_ERROR(store_.Scan(kShardPrefix, "", [&](absl::string_view key, absl::string_view value)
                                                     ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto id = ParseShardId(key, kShardPrefix);
    json j = json::parse(value, nullptr, false);
    if (!id.ok() || j.is_discarded() || *id != shards_.size()) {
      parse_error = absl::DataLossError(absl::StrCat("corrupt shard record '", key, "'"));
      return false;
    }
    ShardInfo s;
    s.state = static_cast<ShardState>(j.value("state", 0));
    s.attempts = j.value("attempts", 0);
    s.token = j.value("token", uint64_t{0});
    s.deadline_ms = j.value("deadline_ms", int64_t{0});
    s.worker_id = j.value("worker", std::string());
    s.last_error = j.value("last_error", std::string());
    s.items = j.value("items", int64_t{0});
    switch (s.state) {
      case ShardState::kPending: pending_.insert(*id); break;
      case ShardState::kLeased: leased_.insert(*id); break;
      case ShardState::kDone: ++shards_done_; break;
      case ShardState::kFailed: ++shards_failed_; break;
    }
    shards_.push_back(std::move(s));
    return true;
  }));
  RETURN_IF_ERROR(parse_error);

  RETURN_IF_ERROR(store_.Scan(kWorkerPrefix, "", [&](absl::string_view key, absl::string_view value)
                                                      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    json j = json::parse(value, nullptr, false);
    if (j.is_discarded()) {
      parse_error = absl::DataLossError(absl::StrCat("corrupt worker record '", key, "'"));
      return false;
    }
    Worker w;
    w.id = j.value("id", std::string());
    w.name = j.value("name", std::string());
    w.hostname = j.value("hostname", std::string());
    w.pid = j.value("pid", 0);
    w.concurrency = j.value("concurrency", 0);
    w.last_seen_ms = j.value("last_seen_ms", int64_t{0});
    w.finished = j.value("finished", false);
    w.items_done = j.value("items_done", int64_t{0});
    if (!w.name.empty()) worker_by_name_[w.name] = w.id;
    workers_[w.id] = std::move(w);
    return true;
  }));
  RETURN_IF_ERROR(parse_error);
  spdlog::info("state loaded: {} shards ({} pending, {} leased, {} done, {} failed), {} workers, "
               "ingest {}",
               shards_.size(), pending_.size(), leased_.size(), shards_done_, shards_failed_,
               workers_.size(), ingested_ ? "complete" : "not complete");
  return absl::OkStatus();
}

absl::Status ShardTable::CheckSchemaLocked(bool fresh, kv::WriteBatch& batch) {
  ASSIGN_OR_RETURN(auto schema, store_.Get(kSchemaKey));
  if (!schema) {
    if (fresh) {
      batch.Put(kSchemaKey, absl::StrCat(kSchemaVersion));
      return absl::OkStatus();
    }
    return absl::FailedPreconditionError(
        "the coordinator state has no schema version record (meta/schema): it was made by an "
        "older atelier or is damaged; continue it with that version or start a new --state");
  }
  int version = 0;
  if (!absl::SimpleAtoi(*schema, &version) || version != kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the coordinator state has schema version '", *schema, "'; this atelier reads version ",
        kSchemaVersion, " only"));
  }
  return absl::OkStatus();
}

// ---- persistence helpers ----------------------------------------------------

void ShardTable::PutProgress(kv::WriteBatch& batch) const {
  json j = {{"shards", progress_.shards}, {"items", progress_.items}, {"dead", progress_.dead},
            {"last_item_key", progress_.last_item_key},
            {"last_dead_key", progress_.last_dead_key}, {"shard_size", progress_.shard_size}};
  batch.Put(kIngestProgressKey, j.dump());
}

void ShardTable::PutShard(kv::WriteBatch& batch, uint64_t id, const ShardInfo& s) const {
  json j = {{"state", StateCode(s.state)}, {"attempts", s.attempts}, {"token", s.token},
            {"deadline_ms", s.deadline_ms}, {"worker", s.worker_id},
            {"last_error", s.last_error}, {"items", s.items}};
  batch.Put(ShardKey(kShardPrefix, id), j.dump());
}

void ShardTable::PutWorker(kv::WriteBatch& batch, const Worker& w) const {
  json j = {{"id", w.id}, {"name", w.name}, {"hostname", w.hostname}, {"pid", w.pid},
            {"concurrency", w.concurrency}, {"last_seen_ms", w.last_seen_ms},
            {"items_done", w.items_done}, {"finished", w.finished}};
  batch.Put(absl::StrCat(kWorkerPrefix, w.id), j.dump());
}

void ShardTable::PutCounters(kv::WriteBatch& batch) const {
  batch.Put(kCountersKey, counters_.SerializeAsString());
  batch.Put(kListTotalsKey,
            json{{"dead", dead_links_total_}, {"failed", failed_items_total_}}.dump());
}

v1::SourceCounts& ShardTable::SourceLocked(const std::string& name) {
  for (auto& s : *counters_.mutable_sources()) {
    if (s.source_name() == name) return s;
  }
  auto* s = counters_.add_sources();
  s->set_source_name(name);
  return *s;
}

void ShardTable::Changed() {
  ++change_seq_;  // releasing mu_ wakes the WaitForChange callers
}

void ShardTable::SetState(uint64_t id, ShardInfo& shard, ShardState state) {
  auto leave = [&](ShardState s, int delta) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    switch (s) {
      case ShardState::kPending:
        if (delta < 0) pending_.erase(id); else pending_.insert(id);
        break;
      case ShardState::kLeased:
        if (delta < 0) leased_.erase(id); else leased_.insert(id);
        break;
      case ShardState::kDone: shards_done_ += delta; break;
      case ShardState::kFailed: shards_failed_ += delta; break;
    }
  };
  leave(shard.state, -1);
  leave(state, +1);
  shard.state = state;
  if (state == ShardState::kLeased) return;
  if (auto it = provisional_.find(id); it != provisional_.end()) {
    // A lost lease's bytes stay downloaded (counters never decrease).
    if (state != ShardState::kDone) bytes_lost_ += it->second.bytes;
    provisional_.erase(it);
  }
}

void ShardTable::RecordRate(int64_t now_ms, int64_t items) {
  // Events older than the window no longer count (Status() skips them too).
  const int64_t window_ms = absl::ToInt64Milliseconds(options_.rate_window);
  while (!rate_events_.empty() && rate_events_.front().first < now_ms - window_ms) {
    rate_events_.pop_front();
  }
  if (items > 0) rate_events_.emplace_back(now_ms, items);
}

absl::StatusOr<std::vector<v1::WorkItem>> ShardTable::LoadItems(uint64_t id) {
  ASSIGN_OR_RETURN(auto value, store_.Get(ShardKey(kItemsPrefix, id)));
  if (!value) return absl::DataLossError(absl::StrCat("items of shard ", id, " are missing"));
  v1::LeaseShardResponse holder;
  if (!holder.ParseFromString(*value)) {
    return absl::DataLossError(absl::StrCat("items of shard ", id, " are corrupt"));
  }
  return std::vector<v1::WorkItem>(holder.items().begin(), holder.items().end());
}

// ---- ingest -----------------------------------------------------------------

bool ShardTable::ingested() const {
  absl::MutexLock lock(&mu_);
  return ingested_;
}

absl::StatusOr<IngestProgress> ShardTable::BeginIngest() {
  absl::MutexLock lock(&mu_);
  if (ingested_) return absl::FailedPreconditionError("the job was already ingested");
  if (progress_.shards != static_cast<int64_t>(shards_.size())) {
    return absl::DataLossError(absl::StrCat("the ingest progress record counts ", progress_.shards,
                                            " shards, but the state holds ", shards_.size()));
  }
  return progress_;
}

absl::StatusOr<uint64_t> ShardTable::AddShard(const std::vector<v1::WorkItem>& items,
                                              int64_t shard_size) {
  if (items.empty()) return absl::InvalidArgumentError("a shard needs at least one item");
  absl::MutexLock lock(&mu_);
  if (ingested_) return absl::FailedPreconditionError("the job was already ingested");
  const uint64_t id = shards_.size();
  v1::LeaseShardResponse holder;
  for (const auto& item : items) {
    *holder.add_items() = item;
    SourceLocked(item.source_name()).set_items_total(
        SourceLocked(item.source_name()).items_total() + 1);
  }
  counters_.set_items_total(counters_.items_total() + static_cast<int64_t>(items.size()));
  ShardInfo shard;
  shard.items = static_cast<int64_t>(items.size());
  const IngestProgress before = progress_;
  ++progress_.shards;
  progress_.items += shard.items;
  progress_.last_item_key = items.back().key();
  if (shard_size > 0) progress_.shard_size = shard_size;
  kv::WriteBatch batch;
  batch.set_sync(false);  // FinishIngest's synced write makes the whole ingest durable
  batch.Put(ShardKey(kItemsPrefix, id), holder.SerializeAsString());
  PutShard(batch, id, shard);
  PutCounters(batch);
  PutProgress(batch);
  if (absl::Status written = store_.Write(batch); !written.ok()) {
    progress_ = before;
    return written;
  }
  shards_.push_back(shard);
  pending_.insert(id);
  return id;
}

absl::Status ShardTable::AddDeadAtIngest(const std::vector<v1::WorkItem>& items,
                                         const std::string& reason) {
  if (items.empty()) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  if (ingested_) return absl::FailedPreconditionError("the job was already ingested");
  const int64_t now = clock_.NowMillis();
  kv::WriteBatch batch;
  batch.set_sync(false);  // made durable by FinishIngest
  for (const auto& item : items) {
    v1::SourceCounts& src = SourceLocked(item.source_name());
    src.set_items_total(src.items_total() + 1);
    src.set_items_dead(src.items_dead() + 1);
    v1::DeadLink link;
    link.set_key(item.key());
    link.set_url(item.url());
    link.set_reason(reason);
    link.set_recorded_at_ms(now);
    batch.Put(DeadKey(item.key(), item.url()), link.SerializeAsString());
    ++dead_links_total_;
  }
  const auto n = static_cast<int64_t>(items.size());
  counters_.set_items_total(counters_.items_total() + n);
  counters_.set_items_dead(counters_.items_dead() + n);
  (*counters_.mutable_errors_by_reason())[reason] += n;
  progress_.dead += n;
  progress_.last_dead_key = items.back().key();
  PutCounters(batch);
  PutProgress(batch);
  return store_.Write(batch);
}

absl::Status ShardTable::FinishIngest(const std::string& summary) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(store_.Put(kIngestDoneKey, summary));
  ingested_ = true;
  Changed();
  return absl::OkStatus();
}

// ---- workers and leases -----------------------------------------------------

absl::StatusOr<std::string> ShardTable::RegisterWorker(const v1::RegisterWorkerRequest& request) {
  ASSIGN_OR_RETURN(std::string id, RegisterWorkerUnsynced(request));
  RETURN_IF_ERROR(store_.Sync());
  return id;
}

absl::StatusOr<v1::LeaseShardResponse> ShardTable::Lease(const std::string& worker_id) {
  ASSIGN_OR_RETURN(v1::LeaseShardResponse response, LeaseUnsynced(worker_id));
  if (response.has_shard()) RETURN_IF_ERROR(store_.Sync());
  return response;
}

absl::Status ShardTable::Complete(const v1::CompleteShardRequest& request) {
  RETURN_IF_ERROR(CompleteUnsynced(request));
  return store_.Sync();
}

absl::Status ShardTable::Release(const v1::ReleaseShardRequest& request) {
  RETURN_IF_ERROR(ReleaseUnsynced(request));
  return store_.Sync();
}

absl::StatusOr<std::string> ShardTable::RegisterWorkerUnsynced(
    const v1::RegisterWorkerRequest& request) {
  absl::MutexLock lock(&mu_);
  const int64_t now = clock_.NowMillis();
  Worker* worker = nullptr;
  if (!request.worker_name().empty()) {
    auto it = worker_by_name_.find(request.worker_name());
    if (it != worker_by_name_.end()) worker = &workers_[it->second];
  }
  kv::WriteBatch batch;
  if (worker == nullptr) {
    const std::string id = absl::StrCat("w", next_worker_++);
    batch.Put(kNextWorkerKey, absl::StrCat(next_worker_));
    worker = &workers_[id];
    worker->id = id;
    worker->name = request.worker_name();
    if (!worker->name.empty()) worker_by_name_[worker->name] = id;
  }
  worker->resume.clear();
  for (uint64_t id : leased_) {
    if (shards_[id].worker_id == worker->id) worker->resume.push_back(id);
  }
  worker->hostname = request.hostname();
  worker->pid = request.pid();
  worker->concurrency = request.concurrency();
  worker->last_seen_ms = now;
  worker->finished = false;
  PutWorker(batch, *worker);
  batch.set_sync(false);  // synced by the caller, outside mu_
  RETURN_IF_ERROR(store_.Write(batch));
  spdlog::info("worker {} registered (name '{}', host {}, pid {})", worker->id, worker->name,
               worker->hostname, worker->pid);
  return worker->id;
}

void ShardTable::TouchWorker(const std::string& worker_id, int64_t now_ms, kv::WriteBatch& batch) {
  auto it = workers_.find(worker_id);
  if (it == workers_.end()) return;
  it->second.last_seen_ms = now_ms;
  PutWorker(batch, it->second);
}

void ShardTable::WriteTouch(kv::WriteBatch& batch) {
  if (batch.empty()) return;
  batch.set_sync(false);
  absl::Status s = store_.Write(batch);
  if (!s.ok()) spdlog::warn("cannot record worker last-seen times: {}", std::string(s.message()));
}

absl::Status ShardTable::ExpireLocked(int64_t now_ms) {
  std::vector<uint64_t> expired;
  for (uint64_t id : leased_) {
    if (shards_[id].deadline_ms <= now_ms) expired.push_back(id);
  }
  if (expired.empty()) return absl::OkStatus();
  kv::WriteBatch batch;
  std::vector<ShardInfo> updated;
  for (uint64_t id : expired) {
    ShardInfo s = shards_[id];
    s.last_error = absl::StrCat("lease of worker ", s.worker_id, " (token ", s.token,
                                ") expired on attempt ", s.attempts, " of ",
                                options_.max_attempts);
    s.state = s.attempts >= options_.max_attempts ? ShardState::kFailed : ShardState::kPending;
    PutShard(batch, id, s);
    updated.push_back(s);
  }
  batch.set_sync(false);  // an expiry lost in a machine crash just happens again
  RETURN_IF_ERROR(store_.Write(batch));
  for (size_t i = 0; i < expired.size(); ++i) {
    const uint64_t id = expired[i];
    const ShardState next = updated[i].state;
    updated[i].state = ShardState::kLeased;
    shards_[id] = updated[i];
    SetState(id, shards_[id], next);
    if (next == ShardState::kFailed) {
      spdlog::error("shard {} failed: {}", id, shards_[id].last_error);
    } else {
      spdlog::warn("shard {} back to pending: {}", id, shards_[id].last_error);
    }
  }
  Changed();
  return absl::OkStatus();
}

absl::Status ShardTable::ExpireLeases() {
  absl::MutexLock lock(&mu_);
  return ExpireLocked(clock_.NowMillis());
}

absl::StatusOr<v1::LeaseShardResponse> ShardTable::LeaseUnsynced(const std::string& worker_id) {
  absl::MutexLock lock(&mu_);
  const int64_t now = clock_.NowMillis();
  if (!workers_.contains(worker_id)) {
    return absl::NotFoundError(
        absl::StrCat("unknown worker id '", worker_id, "'; call RegisterWorker first"));
  }
  RETURN_IF_ERROR(ExpireLocked(now));
  kv::WriteBatch batch;
  TouchWorker(worker_id, now, batch);
  // A worker that registered again (restarted with the same name) gets the
  // leases it still holds back, deadline renewed, before any new shard.
  std::deque<uint64_t>& resume = workers_[worker_id].resume;
  while (!resume.empty()) {
    const uint64_t held = resume.front();
    resume.pop_front();
    if (!leased_.contains(held) || shards_[held].worker_id != worker_id) continue;
    ShardInfo s = shards_[held];
    s.deadline_ms = now + absl::ToInt64Milliseconds(options_.lease_ttl);
    PutShard(batch, held, s);
    batch.set_sync(false);  // synced by the caller, outside mu_
    RETURN_IF_ERROR(store_.Write(batch));
    shards_[held] = s;
    ASSIGN_OR_RETURN(v1::LeaseShardResponse again, LeaseResponseLocked(held));
    if (auto p = provisional_.find(held); p != provisional_.end()) {
      for (const auto& [key, outcome] : p->second.outcomes) again.add_done_keys(key);
    }
    spdlog::info("shard {} leased again to its holder {} (token {}, attempt {}, {} keys final)",
                 held, worker_id, s.token, s.attempts, again.done_keys_size());
    return again;
  }
  v1::LeaseShardResponse response;
  if (pending_.empty()) {
    response.set_has_shard(false);
    response.set_job_done(ingested_ && leased_.empty());
    // A worker told the crawl is done exits: it is finished, not lost.
    if (response.job_done()) {
      Worker& w = workers_.at(worker_id);
      w.finished = true;
      PutWorker(batch, w);
    }
    WriteTouch(batch);
    return response;
  }
  const uint64_t id = *pending_.begin();
  ShardInfo s = shards_[id];
  s.attempts += 1;
  s.token = next_token_;
  s.deadline_ms = now + absl::ToInt64Milliseconds(options_.lease_ttl);
  s.worker_id = worker_id;
  s.state = ShardState::kLeased;
  batch.Put(kNextTokenKey, absl::StrCat(next_token_ + 1));
  PutShard(batch, id, s);
  batch.set_sync(false);  // synced by the caller, outside mu_
  RETURN_IF_ERROR(store_.Write(batch));
  ++next_token_;
  s.state = ShardState::kPending;
  shards_[id] = s;
  SetState(id, shards_[id], ShardState::kLeased);
  Changed();
  spdlog::info("shard {} leased to {} (token {}, attempt {})", id, worker_id, s.token, s.attempts);
  return LeaseResponseLocked(id);
}

absl::StatusOr<v1::LeaseShardResponse> ShardTable::LeaseResponseLocked(uint64_t id) {
  ASSIGN_OR_RETURN(std::vector<v1::WorkItem> items, LoadItems(id));
  const ShardInfo& s = shards_[id];
  v1::LeaseShardResponse response;
  response.set_has_shard(true);
  response.set_job_done(false);
  response.set_shard_id(id);
  response.set_fencing_token(s.token);
  response.set_lease_deadline_ms(s.deadline_ms);
  response.set_attempt(s.attempts);
  for (auto& item : items) *response.add_items() = std::move(item);
  RETURN_IF_ERROR(store_.Scan(SealPrefix(id), "", [&](absl::string_view key, absl::string_view value) {
    if (!response.add_segments()->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      spdlog::warn("shard {}: unreadable sealed segment record '{}' ignored", id, std::string(key));
      response.mutable_segments()->RemoveLast();
    }
    return true;
  }));
  return response;
}

std::string ShardTable::SealPrefix(uint64_t id) { return absl::StrCat(ShardKey(kSealPrefix, id), "/"); }

absl::Status ShardTable::Seal(const v1::SealSegmentRequest& request) {
  {
    absl::MutexLock lock(&mu_);
    const int64_t now = clock_.NowMillis();
    RETURN_IF_ERROR(ExpireLocked(now));
    if (absl::Status lease = CheckLease(request.worker_id(), request.shard_id(), request.fencing_token(), now);
        !lease.ok()) {
      spdlog::warn("SealSegment refused: {}", std::string(lease.message()));
      return lease;
    }
    const uint64_t id = request.shard_id();
    ASSIGN_OR_RETURN(std::vector<v1::WorkItem> items, LoadItems(id));
    RETURN_IF_ERROR(ResultsByKey("SealSegment", id, items, request.segment().results()).status());
    int64_t seq = 0;
    RETURN_IF_ERROR(store_.Scan(SealPrefix(id), "", [&](absl::string_view, absl::string_view) {
      ++seq;
      return true;
    }));
    v1::SealedSegment segment = request.segment();
    segment.set_fencing_token(request.fencing_token());
    kv::WriteBatch batch;
    batch.Put(absl::StrCat(SealPrefix(id), absl::StrFormat("%08d", seq)), segment.SerializeAsString());
    TouchWorker(request.worker_id(), now, batch);
    batch.set_sync(false);  // synced below, outside mu_
    RETURN_IF_ERROR(store_.Write(batch));
    spdlog::info("shard {}: segment {} sealed by {} (token {}): {} items", id, segment.path(),
                 request.worker_id(), request.fencing_token(), segment.results_size());
  }
  return store_.Sync();
}

absl::Status ShardTable::CheckLease(const std::string& worker_id, uint64_t id, uint64_t token,
                                    int64_t now_ms) const {
  if (id >= shards_.size()) {
    return absl::FailedPreconditionError(absl::StrCat("unknown shard ", id, " (token ", token,
                                                      ", worker '", worker_id, "')"));
  }
  const ShardInfo& s = shards_[id];
  if (s.state != ShardState::kLeased || s.token != token || s.worker_id != worker_id ||
      s.deadline_ms <= now_ms) {
    return absl::FailedPreconditionError(absl::StrCat(
        "stale lease: shard ", id, " token ", token, " of worker '", worker_id,
        "' is not current (shard is ", ShardStateName(s.state), ", token ", s.token, ", worker '",
        s.worker_id, "')"));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::HeartbeatResponse> ShardTable::Heartbeat(const v1::HeartbeatRequest& request) {
  absl::MutexLock lock(&mu_);
  const int64_t now = clock_.NowMillis();
  RETURN_IF_ERROR(ExpireLocked(now));
  kv::WriteBatch batch;
  TouchWorker(request.worker_id(), now, batch);
  v1::HeartbeatResponse response;
  if (absl::Status lease = CheckLease(request.worker_id(), request.shard_id(),
                                      request.fencing_token(), now);
      !lease.ok()) {
    spdlog::warn("Heartbeat refused: {}", std::string(lease.message()));
    WriteTouch(batch);
    response.set_ok(false);
    return response;
  }
  ShardInfo s = shards_[request.shard_id()];
  s.deadline_ms = now + absl::ToInt64Milliseconds(options_.lease_ttl);
  // Not synced: a deadline extension lost in a machine crash only makes the
  // lease end earlier, and the fencing token keeps that safe.
  batch.set_sync(false);
  PutShard(batch, request.shard_id(), s);
  RETURN_IF_ERROR(store_.Write(batch));
  shards_[request.shard_id()] = s;
  response.set_ok(true);
  response.set_lease_deadline_ms(s.deadline_ms);
  return response;
}

absl::StatusOr<v1::ReportProgressResponse> ShardTable::ReportProgress(
    const v1::ReportProgressRequest& request) {
  absl::MutexLock lock(&mu_);
  const int64_t now = clock_.NowMillis();
  RETURN_IF_ERROR(ExpireLocked(now));
  kv::WriteBatch touch;
  TouchWorker(request.worker_id(), now, touch);
  WriteTouch(touch);
  v1::ReportProgressResponse response;
  if (absl::Status lease = CheckLease(request.worker_id(), request.shard_id(),
                                      request.fencing_token(), now);
      !lease.ok()) {
    spdlog::warn("ReportProgress refused: {}", std::string(lease.message()));
    response.set_ok(false);
    return response;
  }
  Provisional& p = provisional_[request.shard_id()];
  if (p.sources.empty()) {
    ASSIGN_OR_RETURN(auto items, LoadItems(request.shard_id()));
    for (const auto& item : items) p.sources[item.key()] = item.source_name();
  }
  int64_t newly_final = 0;
  for (const auto& r : request.results()) {
    if (!p.sources.contains(r.key()) || r.outcome() == v1::ITEM_OUTCOME_UNSPECIFIED) continue;
    if (p.outcomes.emplace(r.key(), r.outcome()).second) ++newly_final;
  }
  p.bytes += request.bytes_downloaded();
  RecordRate(now, newly_final);
  response.set_ok(true);
  return response;
}

absl::Status ShardTable::CompleteUnsynced(const v1::CompleteShardRequest& request) {
  absl::MutexLock lock(&mu_);
  const int64_t now = clock_.NowMillis();
  RETURN_IF_ERROR(ExpireLocked(now));
  if (absl::Status lease = CheckLease(request.worker_id(), request.shard_id(),
                                      request.fencing_token(), now);
      !lease.ok()) {
    kv::WriteBatch touch;
    TouchWorker(request.worker_id(), now, touch);
    WriteTouch(touch);
    // A retry of the completion that made the shard done (its reply was lost,
    // e.g. the coordinator was killed after committing): accepted again,
    // changing nothing.
    if (request.shard_id() < shards_.size()) {
      const ShardInfo& s = shards_[request.shard_id()];
      if (s.state == ShardState::kDone && s.token == request.fencing_token() &&
          s.worker_id == request.worker_id()) {
        return absl::OkStatus();
      }
    }
    spdlog::warn("CompleteShard refused: {}", std::string(lease.message()));
    return lease;
  }
  RETURN_IF_ERROR(CompleteLocked(request, now));
  spdlog::info("shard {} done by {} (token {}): {} ok, {} dead, {} failed", request.shard_id(),
               request.worker_id(), request.fencing_token(), request.stats().ok(),
               request.stats().dead(), request.stats().failed());
  return absl::OkStatus();
}

absl::Status ShardTable::CompleteLocked(const v1::CompleteShardRequest& request, int64_t now) {
  const uint64_t id = request.shard_id();
  ASSIGN_OR_RETURN(std::vector<v1::WorkItem> items, LoadItems(id));

  ASSIGN_OR_RETURN(ResultsOfShard results, ResultsByKey("CompleteShard", id, items, request.results()));

  // Everything below is applied to copies first, then committed in one batch.
  v1::CrawlStatus counters = counters_;
  auto source_of = [&](const std::string& name) -> v1::SourceCounts& {
    for (auto& s : *counters.mutable_sources()) {
      if (s.source_name() == name) return s;
    }
    auto* s = counters.add_sources();
    s->set_source_name(name);
    return *s;
  };
  kv::WriteBatch batch;
  int64_t dead_links = 0, failed_items = 0;
  std::set<std::string> dead_link_keys;
  for (const auto& link : request.dead_links()) {
    v1::DeadLink copy = link;
    copy.set_recorded_at_ms(now);
    copy.set_shard_id(id);
    const std::string key = DeadKey(copy.key(), copy.url());
    if (dead_link_keys.insert(key).second) {
      batch.Put(key, copy.SerializeAsString());
      ++dead_links;
    }
  }
  int64_t newly_final = 0;
  const Provisional* prov = nullptr;
  if (auto it = provisional_.find(id); it != provisional_.end()) prov = &it->second;
  for (const auto& item : items) {
    v1::ItemResult result;
    if (auto it = results.find(item.key()); it != results.end()) {
      result = *it->second;
    } else {
      result.set_key(item.key());
      result.set_outcome(v1::ITEM_OUTCOME_FAILED);
      result.set_reason("missing_result");
      result.set_url(item.url());
    }
    if (prov == nullptr || !prov->outcomes.contains(item.key())) ++newly_final;
    v1::SourceCounts& src = source_of(item.source_name());
    const std::string url = result.url().empty() ? item.url() : result.url();
    switch (result.outcome()) {
      case v1::ITEM_OUTCOME_OK:
        counters.set_items_ok(counters.items_ok() + 1);
        src.set_items_ok(src.items_ok() + 1);
        break;
      case v1::ITEM_OUTCOME_DEAD: {
        counters.set_items_dead(counters.items_dead() + 1);
        src.set_items_dead(src.items_dead() + 1);
        (*counters.mutable_errors_by_reason())[result.reason().empty() ? "dead" : result.reason()]++;
        bool has_link = false;
        for (const auto& k : dead_link_keys) {
          if (absl::StartsWith(k, absl::StrCat(kDeadPrefix, item.key(), "/"))) {
            has_link = true;
            break;
          }
        }
        if (!has_link) {
          v1::DeadLink link;
          link.set_key(item.key());
          link.set_url(url);
          link.set_reason(result.reason());
          link.set_http_status(result.http_status());
          link.set_recorded_at_ms(now);
          link.set_shard_id(id);
          const std::string key = DeadKey(item.key(), url);
          if (dead_link_keys.insert(key).second) {
            batch.Put(key, link.SerializeAsString());
            ++dead_links;
          }
        }
        break;
      }
      default: {  // FAILED
        counters.set_items_failed(counters.items_failed() + 1);
        src.set_items_failed(src.items_failed() + 1);
        (*counters.mutable_errors_by_reason())[result.reason().empty() ? "failed" : result.reason()]++;
        v1::FailedItem failed;
        failed.set_key(item.key());
        failed.set_url(url);
        failed.set_reason(result.reason());
        failed.set_http_status(result.http_status());
        failed.set_attempts(result.attempts());
        failed.set_shard_id(id);
        failed.set_recorded_at_ms(now);
        batch.Put(absl::StrCat(kFailedPrefix, item.key()), failed.SerializeAsString());
        ++failed_items;
        break;
      }
    }
  }
  // Never less than the progress reports already counted for this lease.
  counters.set_bytes_downloaded(counters.bytes_downloaded() +
                                std::max(request.stats().bytes_downloaded(), prov == nullptr ? 0 : prov->bytes));

  ShardInfo s = shards_[id];
  const ShardState prior = s.state;
  s.state = ShardState::kDone;
  s.last_error.clear();
  s.token = request.fencing_token();
  s.worker_id = request.worker_id();
  PutShard(batch, id, s);
  v1::CompleteShardRequest record = request;
  record.clear_dead_links();
  batch.Put(ShardKey(kDonePrefix, id), record.SerializeAsString());
  RETURN_IF_ERROR(store_.Scan(SealPrefix(id), "", [&](absl::string_view key, absl::string_view) {
    batch.Delete(std::string(key));  // the shard's tar holds every sealed sample now
    return true;
  }));
  std::swap(counters, counters_);
  dead_links_total_ += dead_links;
  failed_items_total_ += failed_items;
  auto worker = workers_.find(request.worker_id());
  if (worker != workers_.end()) {
    worker->second.items_done += static_cast<int64_t>(items.size());
    worker->second.last_seen_ms = now;
    PutWorker(batch, worker->second);
  }
  PutCounters(batch);
  batch.set_sync(false);  // synced by Complete(), outside mu_
  absl::Status written = store_.Write(batch);
  if (!written.ok()) {  // roll the in-memory copies back
    std::swap(counters, counters_);
    dead_links_total_ -= dead_links;
    failed_items_total_ -= failed_items;
    if (worker != workers_.end()) worker->second.items_done -= static_cast<int64_t>(items.size());
    return written;
  }
  RecordRate(now, newly_final);
  s.state = prior;
  shards_[id] = s;
  SetState(id, shards_[id], ShardState::kDone);
  Changed();
  return absl::OkStatus();
}

absl::Status ShardTable::CompleteFromDataset(const v1::CompleteShardRequest& record) {
  {
    absl::MutexLock lock(&mu_);
    if (!ingested_) return absl::FailedPreconditionError("the job is not ingested yet");
    if (record.shard_id() >= shards_.size()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown shard ", record.shard_id()));
    }
    if (shards_[record.shard_id()].state == ShardState::kDone) {
      return absl::AlreadyExistsError(absl::StrCat("shard ", record.shard_id(), " is done"));
    }
    RETURN_IF_ERROR(CompleteLocked(record, clock_.NowMillis()));
  }
  return store_.Sync();
}

absl::StatusOr<std::vector<v1::WorkItem>> ShardTable::ItemsOf(uint64_t id) {
  absl::MutexLock lock(&mu_);
  if (id >= shards_.size()) return absl::InvalidArgumentError(absl::StrCat("unknown shard ", id));
  return LoadItems(id);
}

namespace {

// Visits the protobuf records under `prefix`, parsed; `what` names them in
// errors (DataLoss for a record that does not parse).
template <typename Record>
absl::Status ScanRecords(kv::KvStore& store, absl::string_view prefix, absl::string_view what,
                         const std::function<bool(Record&)>& visit) {
  absl::Status parse;
  RETURN_IF_ERROR(store.Scan(prefix, "", [&](absl::string_view key, absl::string_view value) {
    Record record;
    if (!record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      parse = absl::DataLossError(absl::StrCat("corrupt ", what, " record '", key, "'"));
      return false;
    }
    return visit(record);
  }));
  return parse;
}

}  // namespace

absl::Status ShardTable::ScanDone(
    const std::function<bool(const v1::CompleteShardRequest&)>& visit) {
  return ScanRecords<v1::CompleteShardRequest>(
      store_, kDonePrefix, "done", [&](v1::CompleteShardRequest& r) { return visit(r); });
}

absl::StatusOr<RetryReport> ShardTable::RetryFailed(const std::string& reason,
                                                    int64_t shard_size) {
  if (shard_size <= 0) return absl::InvalidArgumentError("shard_size must be positive");
  std::vector<v1::FailedItem> failed;
  RETURN_IF_ERROR(ScanRecords<v1::FailedItem>(store_, kFailedPrefix, "failed item",
                                              [&](v1::FailedItem& item) {
    if (reason.empty() || item.reason() == reason) failed.push_back(std::move(item));
    return true;
  }));

  absl::MutexLock lock(&mu_);
  if (!ingested_) return absl::FailedPreconditionError("the job is not ingested yet");
  RetryReport report;
  kv::WriteBatch batch;
  // The failed items' work items, from the shards they failed in.
  std::map<uint64_t, std::vector<v1::WorkItem>> shard_items;
  std::vector<v1::WorkItem> retry;
  for (const auto& f : failed) {
    if (!shard_items.contains(f.shard_id())) {
      ASSIGN_OR_RETURN(shard_items[f.shard_id()], LoadItems(f.shard_id()));
    }
    const auto& items = shard_items[f.shard_id()];
    auto it = std::find_if(items.begin(), items.end(),
                           [&](const v1::WorkItem& w) { return w.key() == f.key(); });
    if (it == items.end()) {
      return absl::DataLossError(absl::StrCat("failed item '", f.key(), "' is not in shard ",
                                              f.shard_id()));
    }
    retry.push_back(*it);
    batch.Delete(absl::StrCat(kFailedPrefix, f.key()));
    counters_.set_items_failed(counters_.items_failed() - 1);
    SourceLocked(it->source_name()).set_items_failed(SourceLocked(it->source_name()).items_failed() - 1);
    auto& by_reason = *counters_.mutable_errors_by_reason();
    const std::string r = f.reason().empty() ? "failed" : f.reason();
    if (auto c = by_reason.find(r); c != by_reason.end() && --c->second <= 0) by_reason.erase(c);
    --failed_items_total_;
  }
  std::vector<uint64_t> new_shards;
  std::vector<ShardInfo> added;
  for (size_t at = 0; at < retry.size(); at += static_cast<size_t>(shard_size)) {
    const uint64_t id = shards_.size() + new_shards.size();
    v1::LeaseShardResponse holder;
    const size_t end = std::min(retry.size(), at + static_cast<size_t>(shard_size));
    for (size_t i = at; i < end; ++i) *holder.add_items() = retry[i];
    ShardInfo shard;
    shard.items = static_cast<int64_t>(end - at);
    shard.state = ShardState::kPending;
    batch.Put(ShardKey(kItemsPrefix, id), holder.SerializeAsString());
    PutShard(batch, id, shard);
    new_shards.push_back(id);
    added.push_back(shard);
  }
  std::vector<uint64_t> reopened;
  if (reason.empty()) {
    for (size_t id = 0; id < shards_.size(); ++id) {
      if (shards_[id].state != ShardState::kFailed) continue;
      ShardInfo s = shards_[id];
      s.state = ShardState::kPending;
      s.attempts = 0;
      s.last_error = "retried after failing: " + s.last_error;
      PutShard(batch, id, s);
      reopened.push_back(id);
    }
  }
  PutCounters(batch);
  RETURN_IF_ERROR(store_.Write(batch));  // durable
  for (size_t i = 0; i < new_shards.size(); ++i) {
    shards_.push_back(added[i]);
    pending_.insert(new_shards[i]);
  }
  for (uint64_t id : reopened) {
    shards_[id].attempts = 0;
    shards_[id].last_error = "retried after failing: " + shards_[id].last_error;
    SetState(id, shards_[id], ShardState::kPending);
  }
  Changed();
  report.items = static_cast<int64_t>(retry.size());
  report.new_shards = static_cast<int64_t>(new_shards.size());
  report.shards_reopened = static_cast<int64_t>(reopened.size());
  spdlog::info("retry-failed{}: {} failed items back in {} new shards, {} failed shards pending "
               "again",
               reason.empty() ? "" : " " + reason, report.items, report.new_shards,
               report.shards_reopened);
  return report;
}

absl::Status ShardTable::ReleaseUnsynced(const v1::ReleaseShardRequest& request) {
  absl::MutexLock lock(&mu_);
  const int64_t now = clock_.NowMillis();
  RETURN_IF_ERROR(ExpireLocked(now));
  kv::WriteBatch batch;
  TouchWorker(request.worker_id(), now, batch);
  if (absl::Status lease = CheckLease(request.worker_id(), request.shard_id(),
                                      request.fencing_token(), now);
      !lease.ok()) {
    spdlog::warn("ReleaseShard refused: {}", std::string(lease.message()));
    WriteTouch(batch);
    return lease;
  }
  const uint64_t id = request.shard_id();
  ShardInfo s = shards_[id];
  s.attempts = std::max(0, s.attempts - 1);
  s.state = ShardState::kPending;
  s.last_error = absl::StrCat("released by ", request.worker_id(), ": ", request.reason());
  PutShard(batch, id, s);
  batch.set_sync(false);  // synced by the caller, outside mu_
  RETURN_IF_ERROR(store_.Write(batch));
  s.state = ShardState::kLeased;
  shards_[id] = s;
  SetState(id, shards_[id], ShardState::kPending);
  Changed();
  spdlog::info("shard {} released by {} ({})", id, request.worker_id(), request.reason());
  return absl::OkStatus();
}

// ---- status -----------------------------------------------------------------

bool ShardTable::done() const {
  absl::MutexLock lock(&mu_);
  return ingested_ && pending_.empty() && leased_.empty();
}

v1::CrawlStatus ShardTable::Status() const {
  absl::MutexLock lock(&mu_);
  const int64_t now = clock_.NowMillis();

  v1::CrawlStatus st = counters_;
  st.set_job_name(options_.job_name);
  st.set_started_at_ms(started_at_ms_);
  // Provisional outcomes of live leases.
  for (const auto& [id, p] : provisional_) {
    st.set_bytes_downloaded(st.bytes_downloaded() + p.bytes);
    for (const auto& [key, outcome] : p.outcomes) {
      const std::string& source = p.sources.at(key);
      v1::SourceCounts* src = nullptr;
      for (auto& s : *st.mutable_sources()) {
        if (s.source_name() == source) src = &s;
      }
      switch (outcome) {
        case v1::ITEM_OUTCOME_OK:
          st.set_items_ok(st.items_ok() + 1);
          if (src) src->set_items_ok(src->items_ok() + 1);
          break;
        case v1::ITEM_OUTCOME_DEAD:
          st.set_items_dead(st.items_dead() + 1);
          if (src) src->set_items_dead(src->items_dead() + 1);
          break;
        default:
          st.set_items_failed(st.items_failed() + 1);
          if (src) src->set_items_failed(src->items_failed() + 1);
          break;
      }
    }
  }
  st.set_bytes_downloaded(st.bytes_downloaded() + bytes_lost_);
  st.set_items_pending(st.items_total() - st.items_ok() - st.items_dead() - st.items_failed());
  for (auto& s : *st.mutable_sources()) {
    s.set_items_pending(s.items_total() - s.items_ok() - s.items_dead() - s.items_failed());
  }
  st.set_shards_total(static_cast<int64_t>(shards_.size()));
  st.set_shards_done(shards_done_);
  st.set_shards_leased(static_cast<int64_t>(leased_.size()));
  st.set_shards_failed(shards_failed_);
  st.set_shards_pending(static_cast<int64_t>(pending_.size()));

  const int64_t ttl_ms = absl::ToInt64Milliseconds(options_.lease_ttl);
  std::map<std::string, std::vector<uint64_t>> leases_by_worker;
  for (uint64_t id : leased_) leases_by_worker[shards_[id].worker_id].push_back(id);
  int alive = 0, lost = 0, finished = 0;
  for (const auto& [id, w] : workers_) {
    auto* info = st.add_workers();
    info->set_worker_id(id);
    info->set_hostname(w.hostname);
    const bool is_alive = now - w.last_seen_ms <= ttl_ms;
    info->set_state(w.finished ? v1::WORKER_STATE_FINISHED
                               : is_alive ? v1::WORKER_STATE_ALIVE : v1::WORKER_STATE_LOST);
    info->set_last_seen_ms(w.last_seen_ms);
    info->set_items_done(w.items_done);
    for (uint64_t shard : leases_by_worker[id]) info->add_leased_shards(shard);
    (w.finished ? finished : is_alive ? alive : lost)++;
  }
  st.set_workers_alive(alive);
  st.set_workers_lost(lost);
  st.set_workers_finished(finished);
  st.set_bytes_lost(bytes_lost_);
  for (size_t id = 0; id < shards_.size(); ++id) {
    if (shards_[id].state != ShardState::kFailed) continue;
    auto* f = st.add_failed_shards();
    f->set_shard_id(id);
    f->set_attempts(shards_[id].attempts);
    f->set_last_error(shards_[id].last_error);
  }

  const int64_t window_ms = absl::ToInt64Milliseconds(options_.rate_window);
  // The events of the last window: those after the leading ones that are older.
  auto first = rate_events_.begin();
  while (first != rate_events_.end() && first->first < now - window_ms) ++first;
  int64_t recent = 0;
  for (auto it = first; it != rate_events_.end(); ++it) recent += it->second;
  // Before a whole window has passed since the start, divide by the time elapsed.
  const int64_t span_ms = std::max<int64_t>(1000, std::min(window_ms, now - started_at_ms_));
  const double rate = static_cast<double>(recent) * 1000.0 / static_cast<double>(span_ms);
  st.set_items_per_second(rate);
  const bool all_done = ingested_ && pending_.empty() && leased_.empty();
  st.set_done(all_done);
  if (all_done) {
    st.set_eta_ms(0);
  } else if (rate > 0) {
    st.set_eta_ms(static_cast<int64_t>(static_cast<double>(st.items_pending()) / rate * 1000.0));
  } else {
    st.set_eta_ms(-1);
  }
  return st;
}

absl::StatusOr<v1::ListDeadLinksResponse> ShardTable::ListDeadLinks(const v1::PageRequest& page) {
  v1::ListDeadLinksResponse response;
  {
    absl::MutexLock lock(&mu_);
    response.set_total(dead_links_total_);
  }
  ASSIGN_OR_RETURN(std::string next,
                   ScanPage(kDeadPrefix, page, "dead link", [&] { return response.add_dead_links(); }));
  response.set_next_page_token(next);
  return response;
}

absl::StatusOr<v1::ListFailedItemsResponse> ShardTable::ListFailedItems(
    const v1::PageRequest& page) {
  v1::ListFailedItemsResponse response;
  {
    absl::MutexLock lock(&mu_);
    response.set_total(failed_items_total_);
  }
  ASSIGN_OR_RETURN(std::string next,
                   ScanPage(kFailedPrefix, page, "failed item", [&] { return response.add_items(); }));
  response.set_next_page_token(next);
  return response;
}

absl::StatusOr<std::string> ShardTable::ScanPage(absl::string_view prefix, const v1::PageRequest& page,
                                                 absl::string_view what,
                                                 const std::function<google::protobuf::Message*()>& add) {
  const int32_t size = PageSize(page);
  const std::string& token = page.page_token();
  if (!token.empty() && !absl::StartsWith(token, prefix)) {
    return absl::InvalidArgumentError(absl::StrCat("bad page_token '", token, "'"));
  }
  std::string last;
  bool more = false;
  int32_t added = 0;
  absl::Status parse;
  RETURN_IF_ERROR(store_.Scan(prefix, token, [&](absl::string_view key, absl::string_view value) {
    if (key == token) return true;
    if (added == size) {
      more = true;
      return false;
    }
    if (!add()->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      parse = absl::DataLossError(absl::StrCat("corrupt ", what, " record '", key, "'"));
      return false;
    }
    ++added;
    last = std::string(key);
    return true;
  }));
  RETURN_IF_ERROR(parse);
  return more ? last : std::string();
}

uint64_t ShardTable::change_seq() const {
  absl::MutexLock lock(&mu_);
  return change_seq_;
}

uint64_t ShardTable::WaitForChange(uint64_t seen, absl::Time deadline,
                                   const std::function<bool()>& stop) {
  absl::MutexLock lock(&mu_);
  clock_.WaitUntil(mu_, deadline,
                   [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return change_seq_ != seen || stop(); });
  return change_seq_;
}

void ShardTable::NotifyAll() {
  // Releasing mu_ re-evaluates every WaitForChange condition (and its stop()).
  absl::MutexLock lock(&mu_);
}

std::vector<ShardInfo> ShardTable::Shards() const {
  absl::MutexLock lock(&mu_);
  return shards_;
}

}  // namespace atelier::coordinator
