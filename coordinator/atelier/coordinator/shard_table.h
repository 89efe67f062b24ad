// ShardTable: the coordinator's durable state machine for shards, leases,
// workers, item outcomes and counters. Every change is one atomic kv::KvStore
// kv::WriteBatch, durable (synced) before a call that changed a lease, a worker
// or an outcome returns; the in-memory view is rebuilt from the store by Open(), so a
// restarted coordinator continues with every lease (and its deadline), every
// fencing token and every count.
//
// The state carries a schema version (meta/schema); Open() refuses a state
// without one or with another version (FailedPrecondition).
//
// Shard life cycle:
//   pending --Lease--> leased(token, deadline, worker)
//   leased --RegisterWorker again, then Lease, by the same worker--> leased
//          (same token, deadline renewed: a worker restarted with the same
//          name gets its unexpired leases back before any new shard)
//   leased --Complete(current token)--> done      (each item final: ok|dead|failed)
//   leased --deadline passes--> pending           (attempt counted)
//          or failed when attempts == max_attempts (shown in status, never dropped)
//   leased --Release(current token)--> pending    (attempt not counted)
// Fencing tokens strictly increase across all leases and restarts.
//
// CompleteShard semantics (strict): only a CompleteShard with the shard's
// current token, from the lease's worker, before the deadline, is accepted.
// Its results decide every item's final state; an item of the shard that is
// missing from the results becomes FAILED with reason "missing_result" (the
// shard's tar is committed once, so nothing is re-leased). A result for a key
// not in the shard, a duplicate key or an UNSPECIFIED outcome rejects the
// whole call (InvalidArgument) and the lease stays as it was. A retried
// CompleteShard of the very lease that completed the shard (same token and
// worker; its reply was lost) is accepted again and changes nothing.
//
// ReportProgress results are provisional: they show in status at once and are
// replaced by the CompleteShard results; they are dropped when the lease is
// lost. Items of failed shards stay counted as pending (as status.proto says).
//
// Leases expire (pending again, or failed) only in ExpireLeases(), which every
// worker call above (Lease, Heartbeat, ReportProgress, Complete, Release)
// makes first and the coordinator's ticker makes once a second. Status() is a
// const read: it changes nothing, so a lease past its deadline is counted as
// leased until the next of those calls.
//
// Time comes only from the injected Clock. Thread-safe: one absl::Mutex guards
// all state (ABSL_GUARDED_BY); WaitForChange lets status streams sleep until
// something changes.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "atelier/common/clock.h"
#include "atelier/kv/kv_store.h"
#include "atelier/v1/crawl.pb.h"
#include "atelier/v1/status.pb.h"

namespace atelier::coordinator {

struct ShardTableOptions {
  std::string job_name = "atelier";
  absl::Duration lease_ttl = absl::Seconds(60);
  int max_attempts = 3;
  absl::Duration rate_window = absl::Seconds(60);  // items_per_second window
};

enum class ShardState { kPending, kLeased, kDone, kFailed };

// What an ingest wrote so far (kept under meta/ingest_progress, updated in
// the same batch as the records it counts). An interrupted ingest resumes
// after these: the sources are read again and the first `items` items and
// `dead` dead items, already stored, are skipped.
struct IngestProgress {
  int64_t shards = 0;
  int64_t items = 0;             // items in the stored shards
  int64_t dead = 0;              // dead-at-ingest items stored
  std::string last_item_key;     // key of the last stored item ("" if none)
  std::string last_dead_key;     // key of the last stored dead item
  int64_t shard_size = 0;        // items per shard of the ingest that wrote them
};

// One shard as the table keeps it; Shards() hands out copies, indexed by id.
struct ShardInfo {
  ShardState state = ShardState::kPending;
  int attempts = 0;
  uint64_t token = 0;
  int64_t deadline_ms = 0;
  std::string worker_id;
  std::string last_error;
  int64_t items = 0;
};

// What RetryFailed returned to the pool.
struct RetryReport {
  int64_t items = 0;           // failed items, now pending in new shards
  int64_t new_shards = 0;
  int64_t shards_reopened = 0; // failed shards (attempts exhausted) pending again
};

class ShardTable {
 public:
  static absl::StatusOr<std::unique_ptr<ShardTable>> Open(kv::KvStore& store, Clock& clock,
                                                          ShardTableOptions options);

  // ---- Ingest -------------------------------------------------------------
  // True once FinishIngest() has been committed (survives restarts).
  bool ingested() const;
  // Starts or resumes an ingest. Returns what an interrupted ingest already
  // stored (kept, never deleted). FailedPrecondition when the job was
  // already ingested.
  absl::StatusOr<IngestProgress> BeginIngest();
  // Adds one shard made of `items` (all pending); `shard_size` is the ingest's
  // shard size, recorded with the progress. Returns its id.
  absl::StatusOr<uint64_t> AddShard(const std::vector<v1::WorkItem>& items,
                                    int64_t shard_size = 0);
  // Records items that are dead before any fetch (e.g. BAM mir-cdn URLs):
  // they count in the totals and as dead, with a dead-link record each.
  absl::Status AddDeadAtIngest(const std::vector<v1::WorkItem>& items, const std::string& reason);
  // Marks the ingest complete; `summary` (JSON text) is stored for operators.
  absl::Status FinishIngest(const std::string& summary);

  // ---- Workers and leases (the CrawlService) --------------------------------
  // Returns the worker id; the same non-empty `worker_name` gets the same id.
  absl::StatusOr<std::string> RegisterWorker(const v1::RegisterWorkerRequest& request);
  // NotFound for an unknown worker id. After a RegisterWorker that returned
  // an existing id, the worker's unexpired leases come back first, one a
  // call (same shard and token, deadline renewed, done_keys = the keys its
  // ReportProgress calls made final), then new shards.
  absl::StatusOr<v1::LeaseShardResponse> Lease(const std::string& worker_id);
  // ok=false when the lease is not the caller's current one.
  absl::StatusOr<v1::HeartbeatResponse> Heartbeat(const v1::HeartbeatRequest& request);
  absl::StatusOr<v1::ReportProgressResponse> ReportProgress(
      const v1::ReportProgressRequest& request);
  // FailedPrecondition for a stale token, InvalidArgument for bad results.
  absl::Status Complete(const v1::CompleteShardRequest& request);
  // FailedPrecondition for a stale token.
  absl::Status Release(const v1::ReleaseShardRequest& request);
  // Records a sealed segment of the current lease durably under seal/<shard>
  // (kept across restarts and later leases, until the shard is done, when it
  // is deleted). Every later LeaseShardResponse of the shard carries the
  // shard's segments. FailedPrecondition (logged) for a stale token,
  // InvalidArgument for a result whose key is not in the shard.
  absl::Status Seal(const v1::SealSegmentRequest& request) ABSL_LOCKS_EXCLUDED(mu_);
  // Returns expired leases to the pool (or fails them). Called by every
  // operation above and by the server's ticker; Status() never does it.
  absl::Status ExpireLeases() ABSL_LOCKS_EXCLUDED(mu_);

  // ---- Operator tools (run while the coordinator is not serving) -----------
  // Makes a shard that is not done `done` with `record` as its accepted
  // result, without a lease (rebuilding the done set from a dataset root).
  // AlreadyExists when the shard is done, InvalidArgument for bad results.
  absl::Status CompleteFromDataset(const v1::CompleteShardRequest& record);
  // The work items of shard `id`.
  absl::StatusOr<std::vector<v1::WorkItem>> ItemsOf(uint64_t id);
  // Visits every accepted completion (done/ records) in shard order.
  absl::Status ScanDone(const std::function<bool(const v1::CompleteShardRequest&)>& visit);
  // Returns failed items (all, or those with `reason`) to the pool in new
  // shards of `shard_size` items, and (without a reason) failed shards to
  // pending with their attempts reset. Items with other outcomes are not
  // touched. One durable batch.
  absl::StatusOr<RetryReport> RetryFailed(const std::string& reason, int64_t shard_size);

  // ---- Status (the StatusService) -----------------------------------------
  // A const read: counts and lists the state as it is (see ExpireLeases()).
  v1::CrawlStatus Status() const ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<v1::ListDeadLinksResponse> ListDeadLinks(const v1::PageRequest& page);
  absl::StatusOr<v1::ListFailedItemsResponse> ListFailedItems(const v1::PageRequest& page);
  // True when ingest is complete and every shard is done or failed.
  bool done() const;

  // Bumped on every shard state change.
  uint64_t change_seq() const;
  // Waits (on the Clock) until change_seq() != `seen`, `deadline` passes or
  // `stop()` is true. Returns the current change_seq().
  uint64_t WaitForChange(uint64_t seen, absl::Time deadline, const std::function<bool()>& stop);
  // Wakes every WaitForChange (e.g. on shutdown).
  void NotifyAll() ABSL_LOCKS_EXCLUDED(mu_);

  std::vector<ShardInfo> Shards() const;

 private:
  // One page of the protobuf records stored under `prefix`, each parsed into
  // the message `add()` returns. Returns the next page token ("" on the last
  // page); `what` names the records in errors.
  absl::StatusOr<std::string> ScanPage(absl::string_view prefix, const v1::PageRequest& page, absl::string_view what,
                                       const std::function<google::protobuf::Message*()>& add);
  struct Provisional {  // ReportProgress results of the current lease
    std::map<std::string, v1::ItemOutcome> outcomes;
    std::map<std::string, std::string> sources;  // key -> source_name
    int64_t bytes = 0;
  };
  struct Worker {
    std::string id;
    std::string name;
    std::string hostname;
    int pid = 0;
    int concurrency = 0;
    int64_t last_seen_ms = 0;
    int64_t items_done = 0;
    bool finished = false;  // LeaseShard told it the crawl is done
    std::deque<uint64_t> resume;  // leases to hand back (after a re-register)
  };

  ShardTable(kv::KvStore& store, Clock& clock, ShardTableOptions options);
  static std::string SealPrefix(uint64_t id);  // of shard id's sealed segment records
  absl::Status Load() ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status CheckSchemaLocked(bool fresh, kv::WriteBatch& batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PutProgress(kv::WriteBatch& batch) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The response for shard `id` as leased now.
  absl::StatusOr<v1::LeaseShardResponse> LeaseResponseLocked(uint64_t id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // The public mutators below run these under mu_, writing without fsync,
  // then call store_.Sync() after releasing mu_ and before returning: the
  // caller (and the RPC reply) only sees a change once it is durable, and
  // concurrent calls share one fsync (group commit).
  absl::StatusOr<std::string> RegisterWorkerUnsynced(const v1::RegisterWorkerRequest& request) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<v1::LeaseShardResponse> LeaseUnsynced(const std::string& worker_id) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status CompleteUnsynced(const v1::CompleteShardRequest& request) ABSL_LOCKS_EXCLUDED(mu_);
  // Validates `request`'s results against shard request.shard_id()'s items
  // and commits them (needs mu_; the lease is the caller's business).
  absl::Status CompleteLocked(const v1::CompleteShardRequest& request, int64_t now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ReleaseUnsynced(const v1::ReleaseShardRequest& request) ABSL_LOCKS_EXCLUDED(mu_);

  // All *Locked methods need mu_ held.
  absl::Status ExpireLocked(int64_t now_ms) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PutShard(kv::WriteBatch& batch, uint64_t id, const ShardInfo& shard) const;
  void PutWorker(kv::WriteBatch& batch, const Worker& worker) const;
  void PutCounters(kv::WriteBatch& batch) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::vector<v1::WorkItem>> LoadItems(uint64_t id);
  // The lease `id`/`token` of `worker_id` if it is current, else a message.
  absl::Status CheckLease(const std::string& worker_id, uint64_t id, uint64_t token,
                          int64_t now_ms) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Records that `worker_id` was seen now, adding its record to `batch`.
  void TouchWorker(const std::string& worker_id, int64_t now_ms, kv::WriteBatch& batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes a batch that only records last-seen times (not synced: losing it
  // on a machine crash only makes a worker look older).
  void WriteTouch(kv::WriteBatch& batch);
  void SetState(uint64_t id, ShardInfo& shard, ShardState state) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  v1::SourceCounts& SourceLocked(const std::string& name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RecordRate(int64_t now_ms, int64_t items) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Changed() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  kv::KvStore& store_;
  Clock& clock_;
  const ShardTableOptions options_;

  mutable absl::Mutex mu_;
  uint64_t change_seq_ ABSL_GUARDED_BY(mu_) = 0;

  bool ingested_ ABSL_GUARDED_BY(mu_) = false;
  IngestProgress progress_ ABSL_GUARDED_BY(mu_);
  int64_t started_at_ms_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_token_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t next_worker_ ABSL_GUARDED_BY(mu_) = 1;
  std::vector<ShardInfo> shards_ ABSL_GUARDED_BY(mu_);
  std::set<uint64_t> pending_ ABSL_GUARDED_BY(mu_);
  std::set<uint64_t> leased_ ABSL_GUARDED_BY(mu_);
  int64_t shards_done_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t shards_failed_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<uint64_t, Provisional> provisional_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Worker> workers_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> worker_by_name_ ABSL_GUARDED_BY(mu_);
  // Committed counters, persisted as a CrawlStatus under "meta/counters".
  v1::CrawlStatus counters_ ABSL_GUARDED_BY(mu_);
  int64_t dead_links_total_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t failed_items_total_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t bytes_lost_ ABSL_GUARDED_BY(mu_) = 0;  // progress bytes of leases lost since Open()
  std::deque<std::pair<int64_t, int64_t>> rate_events_ ABSL_GUARDED_BY(mu_);  // (ms, items made final)
};

absl::string_view ShardStateName(ShardState state);

}  // namespace atelier::coordinator
