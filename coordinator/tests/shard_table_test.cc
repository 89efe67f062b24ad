#include "atelier/coordinator/shard_table.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "atelier/common/fake_clock.h"
#include "atelier/common/status_matchers.h"
#include "atelier/kv/testing/memory_kv_store.h"
#include "atelier/kv/rocksdb_kv_store.h"
#include "atelier/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/spdlog.h"
#include "test_items.h"

namespace atelier::coordinator {
namespace {

using ::atelier::testing::StatusIs;
using ::atelier::testing::TempDir;
using ::testing::HasSubstr;
using testing::CompleteAll;
using testing::FillTable;

ShardTableOptions Options(int max_attempts = 3) {
  ShardTableOptions o;
  o.job_name = "test-job";
  o.lease_ttl = absl::Seconds(30);
  o.max_attempts = max_attempts;
  return o;
}

class ShardTableTest : public ::testing::Test {
 protected:
  void Open(int shards, int per_shard, int max_attempts = 3) {
    auto table = ShardTable::Open(store_, clock_, Options(max_attempts));
    ASSERT_OK(table.status());
    table_ = std::move(*table);
    FillTable(*table_, shards, per_shard);
  }
  std::string Register(const std::string& name = "") {
    v1::RegisterWorkerRequest req;
    req.set_hostname("host");
    req.set_worker_name(name);
    auto id = table_->RegisterWorker(req);
    EXPECT_OK(id.status());
    return id.value_or("");
  }
  // A ReportProgress of `lease` making `key` ok.
  v1::ReportProgressRequest Progress(const std::string& worker, const v1::LeaseShardResponse& lease,
                                     const std::string& key) {
    v1::ReportProgressRequest progress;
    progress.set_worker_id(worker);
    progress.set_shard_id(lease.shard_id());
    progress.set_fencing_token(lease.fencing_token());
    auto* r = progress.add_results();
    r->set_key(key);
    r->set_outcome(v1::ITEM_OUTCOME_OK);
    return progress;
  }
  v1::HeartbeatResponse Beat(const std::string& worker, const v1::LeaseShardResponse& lease) {
    v1::HeartbeatRequest req;
    req.set_worker_id(worker);
    req.set_shard_id(lease.shard_id());
    req.set_fencing_token(lease.fencing_token());
    auto r = table_->Heartbeat(req);
    EXPECT_OK(r.status());
    return r.value_or(v1::HeartbeatResponse());
  }

  FakeClock clock_;
  kv::MemoryKvStore store_;
  std::unique_ptr<ShardTable> table_;
};

TEST_F(ShardTableTest, LeaseGivesShardTokenDeadlineAndItems) {
  Open(2, 3);
  const std::string w = Register();
  ASSERT_OK_AND_ASSIGN(auto lease, table_->Lease(w));
  EXPECT_TRUE(lease.has_shard());
  EXPECT_FALSE(lease.job_done());
  EXPECT_EQ(lease.shard_id(), 0u);
  EXPECT_EQ(lease.attempt(), 1);
  EXPECT_EQ(lease.items_size(), 3);
  EXPECT_EQ(lease.items(0).key(), "url-0");
  EXPECT_EQ(lease.lease_deadline_ms(), clock_.NowMillis() + 30'000);
  ASSERT_OK_AND_ASSIGN(auto second, table_->Lease(w));
  EXPECT_EQ(second.shard_id(), 1u);
  EXPECT_GT(second.fencing_token(), lease.fencing_token());
  ASSERT_OK_AND_ASSIGN(auto none, table_->Lease(w));
  EXPECT_FALSE(none.has_shard());
  EXPECT_FALSE(none.job_done());  // two shards still leased
}

// Refused calls are logged at the coordinator with shard, worker and token.
TEST_F(ShardTableTest, RefusedCallsAreLoggedWithShardWorkerAndToken) {
  Open(1, 1);
  std::ostringstream log;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
  spdlog::default_logger()->sinks().push_back(sink);
  const std::string w = Register("w");
  ASSERT_OK_AND_ASSIGN(auto lease, table_->Lease(w));
  v1::LeaseShardResponse stale = lease;
  stale.set_fencing_token(lease.fencing_token() + 7);
  EXPECT_FALSE(Beat(w, stale).ok());
  v1::ReportProgressRequest progress;
  progress.set_worker_id(w);
  progress.set_shard_id(0);
  progress.set_fencing_token(stale.fencing_token());
  ASSERT_OK_AND_ASSIGN(auto refused, table_->ReportProgress(progress));
  EXPECT_FALSE(refused.ok());
  EXPECT_FALSE(table_->Complete(CompleteAll(w, stale)).ok());
  v1::LeaseShardResponse unknown = lease;
  unknown.set_shard_id(99);
  EXPECT_FALSE(table_->Complete(CompleteAll(w, unknown)).ok());
  spdlog::default_logger()->sinks().pop_back();
  const std::string text = log.str();
  const std::string token = absl::StrCat("token ", stale.fencing_token());
  for (const char* rpc : {"Heartbeat", "ReportProgress", "CompleteShard"}) {
    const size_t at = text.find(absl::StrCat(rpc, " refused"));
    ASSERT_NE(at, std::string::npos) << rpc << " refusal not logged:\n" << text;
    const std::string line = text.substr(at, text.find('\n', at) - at);
    EXPECT_THAT(line, HasSubstr("shard 0"));
    EXPECT_THAT(line, HasSubstr(token));
    EXPECT_THAT(line, HasSubstr(w));
  }
  EXPECT_THAT(text, HasSubstr("unknown shard 99"));
}

TEST_F(ShardTableTest, UnknownWorkerCannotLease) {
  Open(1, 1);
  EXPECT_THAT(table_->Lease("nobody").status(), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(ShardTableTest, LeaseExpiresAndShardIsReleasedToAnotherWorkerWithNewToken) {
  Open(1, 2);
  const std::string a = Register("a"), b = Register("b");
  ASSERT_OK_AND_ASSIGN(auto first, table_->Lease(a));
  clock_.Advance(absl::Seconds(20));
  EXPECT_TRUE(Beat(a, first).ok());  // extends to now + 30 s
  clock_.Advance(absl::Seconds(20));
  ASSERT_OK_AND_ASSIGN(auto none, table_->Lease(b));
  EXPECT_FALSE(none.has_shard());  // heartbeat kept it alive
  clock_.Advance(absl::Seconds(11));
  ASSERT_OK_AND_ASSIGN(auto second, table_->Lease(b));
  ASSERT_TRUE(second.has_shard());
  EXPECT_EQ(second.shard_id(), first.shard_id());
  EXPECT_EQ(second.attempt(), 2);
  EXPECT_GT(second.fencing_token(), first.fencing_token());
  EXPECT_FALSE(Beat(a, first).ok());  // the old holder lost it
  EXPECT_TRUE(Beat(b, second).ok());
}

TEST_F(ShardTableTest, StaleTokenCompletionIsRefusedAndChangesNothing) {
  Open(1, 2);
  const std::string a = Register("a"), b = Register("b");
  ASSERT_OK_AND_ASSIGN(auto first, table_->Lease(a));
  clock_.Advance(absl::Seconds(31));
  ASSERT_OK_AND_ASSIGN(auto second, table_->Lease(b));
  EXPECT_THAT(table_->Complete(CompleteAll(a, first)),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("stale lease")));
  v1::CrawlStatus st = table_->Status();
  EXPECT_EQ(st.items_ok(), 0);
  EXPECT_EQ(st.shards_done(), 0);
  EXPECT_EQ(st.shards_leased(), 1);
  // Right token but wrong worker is refused too.
  EXPECT_THAT(table_->Complete(CompleteAll(a, second)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  v1::ReleaseShardRequest release;
  release.set_worker_id(a);
  release.set_shard_id(first.shard_id());
  release.set_fencing_token(first.fencing_token());
  EXPECT_THAT(table_->Release(release), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_OK(table_->Complete(CompleteAll(b, second)));
  // The stale holder is still refused once the shard is done ...
  EXPECT_THAT(table_->Complete(CompleteAll(a, first)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  // ... while a retry of the accepted completion (lost reply) is accepted
  // again and counts nothing twice, even with different results.
  EXPECT_OK(table_->Complete(CompleteAll(b, second, v1::ITEM_OUTCOME_FAILED, "x")));
  st = table_->Status();
  EXPECT_EQ(st.items_ok(), 2);
  EXPECT_EQ(st.shards_done(), 1);
  EXPECT_TRUE(st.done());
}

TEST_F(ShardTableTest, AttemptsExhaustedFailsTheShardAndStatusShowsIt) {
  Open(2, 2, /*max_attempts=*/2);
  const std::string w = Register();
  for (int attempt = 1; attempt <= 2; ++attempt) {
    ASSERT_OK_AND_ASSIGN(auto lease, table_->Lease(w));
    ASSERT_EQ(lease.shard_id(), 0u);
    EXPECT_EQ(lease.attempt(), attempt);
    clock_.Advance(absl::Seconds(31));
  }
  ASSERT_OK(table_->ExpireLeases());  // the ticker's call; Status() expires nothing
  v1::CrawlStatus st = table_->Status();
  EXPECT_EQ(st.shards_failed(), 1);
  ASSERT_EQ(st.failed_shards_size(), 1);
  EXPECT_EQ(st.failed_shards(0).shard_id(), 0u);
  EXPECT_EQ(st.failed_shards(0).attempts(), 2);
  EXPECT_THAT(st.failed_shards(0).last_error(), HasSubstr("expired on attempt 2 of 2"));
  EXPECT_EQ(st.items_pending(), 4);  // failed shards' items stay pending
  EXPECT_FALSE(st.done());
  ASSERT_OK_AND_ASSIGN(auto next, table_->Lease(w));
  EXPECT_EQ(next.shard_id(), 1u);  // the failed shard is never leased again
  ASSERT_OK(table_->Complete(CompleteAll(w, next)));
  st = table_->Status();
  EXPECT_TRUE(st.done());
  EXPECT_EQ(st.shards_done(), 1);
  EXPECT_EQ(st.shards_failed(), 1);
  ASSERT_OK_AND_ASSIGN(auto after, table_->Lease(w));
  EXPECT_FALSE(after.has_shard());
  EXPECT_TRUE(after.job_done());
}

// Every record in `store`, to show that a call wrote nothing.
std::map<std::string, std::string> Records(kv::KvStore& store) {
  std::map<std::string, std::string> records;
  EXPECT_OK(store.Scan("", "", [&](absl::string_view key, absl::string_view value) {
    records.emplace(std::string(key), std::string(value));
    return true;
  }));
  return records;
}

TEST_F(ShardTableTest, StatusIsAConstReadThatNeverExpiresLeases) {
  Open(2, 2, /*max_attempts=*/1);
  const std::string w = Register();
  ASSERT_OK_AND_ASSIGN(auto lease, table_->Lease(w));
  clock_.Advance(absl::Seconds(31));  // past the 30 s TTL
  const uint64_t seq = table_->change_seq();
  const auto records = Records(store_);
  const ShardTable& read_only = *table_;
  const v1::CrawlStatus first = read_only.Status();
  const v1::CrawlStatus second = read_only.Status();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(first, second))
      << first.DebugString() << "\nvs\n" << second.DebugString();
  // The expired lease is still counted leased: Status() changed nothing.
  EXPECT_EQ(first.shards_leased(), 1);
  EXPECT_EQ(first.shards_failed(), 0);
  EXPECT_EQ(first.shards_pending(), 1);
  EXPECT_EQ(table_->Shards()[lease.shard_id()].state, ShardState::kLeased);
  EXPECT_EQ(table_->change_seq(), seq);
  EXPECT_EQ(Records(store_), records);
  // The explicit call (the ticker's, and the first step of every worker call)
  // expires it.
  ASSERT_OK(table_->ExpireLeases());
  const v1::CrawlStatus after = read_only.Status();
  EXPECT_EQ(after.shards_leased(), 0);
  EXPECT_EQ(after.shards_failed(), 1);  // max_attempts 1
  EXPECT_GT(table_->change_seq(), seq);
}

TEST_F(ShardTableTest, WorkerCallsExpireLeasesBeforeAnsweringWhileStatusDoesNot) {
  Open(1, 2, /*max_attempts=*/2);
  const std::string a = Register("a"), b = Register("b");
  ASSERT_OK_AND_ASSIGN(auto first, table_->Lease(a));
  clock_.Advance(absl::Seconds(31));
  EXPECT_EQ(table_->Status().shards_leased(), 1);
  EXPECT_FALSE(Beat(b, first).ok());  // any worker call expires first ...
  v1::CrawlStatus st = table_->Status();
  EXPECT_EQ(st.shards_leased(), 0);   // ... so the shard is pending again
  EXPECT_EQ(st.shards_pending(), 1);
  ASSERT_OK_AND_ASSIGN(auto second, table_->Lease(b));
  EXPECT_EQ(second.shard_id(), first.shard_id());
  EXPECT_EQ(second.attempt(), 2);
}

TEST_F(ShardTableTest, ReleaseReturnsShardWithoutCountingTheAttempt) {
  Open(1, 1, /*max_attempts=*/1);
  const std::string w = Register();
  ASSERT_OK_AND_ASSIGN(auto lease, table_->Lease(w));
  v1::ReleaseShardRequest release;
  release.set_worker_id(w);
  release.set_shard_id(lease.shard_id());
  release.set_fencing_token(lease.fencing_token());
  release.set_reason("sigterm");
  ASSERT_OK(table_->Release(release));
  ASSERT_OK_AND_ASSIGN(auto again, table_->Lease(w));
  ASSERT_TRUE(again.has_shard());
  EXPECT_EQ(again.attempt(), 1);
}

TEST_F(ShardTableTest, CompletionDecidesEveryItemAndMissingResultsFail) {
  Open(1, 4);
  const std::string w = Register();
  ASSERT_OK_AND_ASSIGN(auto lease, table_->Lease(w));
  v1::CompleteShardRequest req = CompleteAll(w, lease);
  req.mutable_results(1)->set_outcome(v1::ITEM_OUTCOME_DEAD);
  req.mutable_results(1)->set_reason("http_404");
  req.mutable_results(1)->set_http_status(404);
  req.mutable_results(2)->set_outcome(v1::ITEM_OUTCOME_FAILED);
  req.mutable_results(2)->set_reason("timeout");
  req.mutable_results()->RemoveLast();  // url-3 has no result
  req.mutable_stats()->set_bytes_downloaded(1234);
  ASSERT_OK(table_->Complete(req));
  v1::CrawlStatus st = table_->Status();
  EXPECT_EQ(st.items_ok(), 1);
  EXPECT_EQ(st.items_dead(), 1);
  EXPECT_EQ(st.items_failed(), 2);
  EXPECT_EQ(st.items_pending(), 0);
  EXPECT_EQ(st.bytes_downloaded(), 1234);
  EXPECT_EQ(st.errors_by_reason().at("http_404"), 1);
  EXPECT_EQ(st.errors_by_reason().at("timeout"), 1);
  EXPECT_EQ(st.errors_by_reason().at("missing_result"), 1);
  ASSERT_OK_AND_ASSIGN(auto dead, table_->ListDeadLinks({}));
  ASSERT_EQ(dead.dead_links_size(), 1);
  EXPECT_EQ(dead.dead_links(0).key(), "url-1");
  EXPECT_EQ(dead.dead_links(0).http_status(), 404);
  EXPECT_EQ(dead.total(), 1);
  ASSERT_OK_AND_ASSIGN(auto failed, table_->ListFailedItems({}));
  ASSERT_EQ(failed.items_size(), 2);
  EXPECT_EQ(failed.items(0).key(), "url-2");
  EXPECT_EQ(failed.items(1).key(), "url-3");
  EXPECT_EQ(failed.items(1).reason(), "missing_result");
}

TEST_F(ShardTableTest, BadResultsAreRejectedAndTheLeaseStays) {
  Open(1, 2);
  const std::string w = Register();
  ASSERT_OK_AND_ASSIGN(auto lease, table_->Lease(w));
  v1::CompleteShardRequest unknown = CompleteAll(w, lease);
  unknown.mutable_results(0)->set_key("url-999");
  EXPECT_THAT(table_->Complete(unknown),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("url-999")));
  v1::CompleteShardRequest dup = CompleteAll(w, lease);
  *dup.add_results() = dup.results(0);
  EXPECT_THAT(table_->Complete(dup), StatusIs(absl::StatusCode::kInvalidArgument));
  v1::CompleteShardRequest unspecified = CompleteAll(w, lease, v1::ITEM_OUTCOME_UNSPECIFIED);
  EXPECT_THAT(table_->Complete(unspecified), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(table_->Status().shards_leased(), 1);
  ASSERT_OK(table_->Complete(CompleteAll(w, lease)));
}

TEST_F(ShardTableTest, ProgressIsLiveAndReplacedByCompletion) {
  Open(1, 3);
  const std::string w = Register();
  ASSERT_OK_AND_ASSIGN(auto lease, table_->Lease(w));
  v1::ReportProgressRequest progress = Progress(w, lease, "url-0");
  progress.set_bytes_downloaded(100);
  clock_.Advance(absl::Seconds(10));
  ASSERT_OK_AND_ASSIGN(auto resp, table_->ReportProgress(progress));
  EXPECT_TRUE(resp.ok());
  v1::CrawlStatus st = table_->Status();
  EXPECT_EQ(st.items_ok(), 1);
  EXPECT_EQ(st.items_pending(), 2);
  EXPECT_EQ(st.bytes_downloaded(), 100);
  EXPECT_GT(st.items_per_second(), 0);
  EXPECT_GT(st.eta_ms(), 0);
  ASSERT_OK(table_->Complete(CompleteAll(w, lease)));
  st = table_->Status();
  EXPECT_EQ(st.items_ok(), 3);  // not 4: progress is replaced, not added
  EXPECT_EQ(st.items_pending(), 0);
  // Stale progress is answered ok=false.
  ASSERT_OK_AND_ASSIGN(auto stale, table_->ReportProgress(progress));
  EXPECT_FALSE(stale.ok());
}

TEST_F(ShardTableTest, ItemsPerSecondUsesTheSlidingWindow) {
  Open(3, 10);
  const std::string w = Register();
  clock_.Advance(absl::Seconds(120));
  ASSERT_OK_AND_ASSIGN(auto a, table_->Lease(w));
  ASSERT_OK(table_->Complete(CompleteAll(w, a)));
  clock_.Advance(absl::Seconds(30));
  ASSERT_OK_AND_ASSIGN(auto b, table_->Lease(w));
  ASSERT_OK(table_->Complete(CompleteAll(w, b)));
  EXPECT_DOUBLE_EQ(table_->Status().items_per_second(), 20.0 / 60.0);
  EXPECT_EQ(table_->Status().eta_ms(), 30'000);  // 10 pending at 1/3 per second
  clock_.Advance(absl::Seconds(45));  // the first completion leaves the window
  EXPECT_DOUBLE_EQ(table_->Status().items_per_second(), 10.0 / 60.0);
  clock_.Advance(absl::Seconds(60));
  EXPECT_EQ(table_->Status().items_per_second(), 0);
  EXPECT_EQ(table_->Status().eta_ms(), -1);
}

TEST_F(ShardTableTest, WorkersWithoutHeartbeatAreShownLost) {
  Open(2, 1);
  const std::string a = Register("a"), b = Register("b");
  ASSERT_OK_AND_ASSIGN(auto la, table_->Lease(a));
  ASSERT_OK_AND_ASSIGN(auto lb, table_->Lease(b));
  clock_.Advance(absl::Seconds(20));
  EXPECT_TRUE(Beat(a, la).ok());
  clock_.Advance(absl::Seconds(20));
  v1::CrawlStatus st = table_->Status();
  EXPECT_EQ(st.workers_alive(), 1);
  EXPECT_EQ(st.workers_lost(), 1);
  std::map<std::string, v1::WorkerState> states;
  for (const auto& wi : st.workers()) states[wi.worker_id()] = wi.state();
  EXPECT_EQ(states[a], v1::WORKER_STATE_ALIVE);
  EXPECT_EQ(states[b], v1::WORKER_STATE_LOST);
  // The same worker name gets the same id back.
  EXPECT_EQ(Register("b"), b);
}

TEST_F(ShardTableTest, ConcurrentLeasesNeverShareAShard) {
  Open(200, 2);
  constexpr int kThreads = 8;
  std::vector<std::string> workers;
  for (int i = 0; i < kThreads; ++i) workers.push_back(Register(absl::StrCat("w", i)));
  std::vector<std::vector<std::pair<uint64_t, uint64_t>>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (true) {
        auto lease = table_->Lease(workers[t]);
        if (!lease.ok() || !lease->has_shard()) return;
        got[t].emplace_back(lease->shard_id(), lease->fencing_token());
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<uint64_t> shards, tokens;
  size_t total = 0;
  for (const auto& g : got) {
    for (const auto& [shard, token] : g) {
      EXPECT_TRUE(shards.insert(shard).second) << "shard " << shard << " leased twice";
      EXPECT_TRUE(tokens.insert(token).second) << "token " << token << " reused";
      ++total;
    }
  }
  EXPECT_EQ(total, 200u);
  EXPECT_EQ(table_->Status().shards_leased(), 200);
}

// A coordinator restarted in the middle (real RocksDB) keeps every count,
// every lease with its deadline, and keeps fencing tokens increasing.
TEST(ShardTableRestartTest, RestartInTheMiddleKeepsEverything) {
  TempDir dir("restart");
  const std::string db = (dir.path() / "db").string();
  FakeClock clock;
  v1::CrawlStatus before;
  std::string a, b;
  v1::LeaseShardResponse held, expiring;
  {
    ASSERT_OK_AND_ASSIGN(auto store, kv::RocksDbKvStore::Open(db));
    ASSERT_OK_AND_ASSIGN(auto table, ShardTable::Open(*store, clock, Options(2)));
    FillTable(*table, 5, 3);
    v1::RegisterWorkerRequest reg;
    reg.set_worker_name("a");
    ASSERT_OK_AND_ASSIGN(a, table->RegisterWorker(reg));
    reg.set_worker_name("b");
    ASSERT_OK_AND_ASSIGN(b, table->RegisterWorker(reg));
    ASSERT_OK_AND_ASSIGN(auto l0, table->Lease(a));
    v1::CompleteShardRequest c = CompleteAll(a, l0);
    c.mutable_results(0)->set_outcome(v1::ITEM_OUTCOME_DEAD);
    c.mutable_results(0)->set_reason("http_410");
    c.mutable_results(1)->set_outcome(v1::ITEM_OUTCOME_FAILED);
    c.mutable_results(1)->set_reason("http_503");
    ASSERT_OK(table->Complete(c));
    ASSERT_OK_AND_ASSIGN(held, table->Lease(a));
    ASSERT_OK_AND_ASSIGN(expiring, table->Lease(b));
    clock.Advance(absl::Seconds(20));
    v1::HeartbeatRequest hb;
    hb.set_worker_id(a);
    hb.set_shard_id(held.shard_id());
    hb.set_fencing_token(held.fencing_token());
    ASSERT_OK_AND_ASSIGN(auto beat, table->Heartbeat(hb));
    ASSERT_TRUE(beat.ok());
    held.set_lease_deadline_ms(beat.lease_deadline_ms());
    before = table->Status();
  }
  // Restart: a fresh table over the same directory.
  ASSERT_OK_AND_ASSIGN(auto store, kv::RocksDbKvStore::Open(db));
  ASSERT_OK_AND_ASSIGN(auto table, ShardTable::Open(*store, clock, Options(2)));
  EXPECT_TRUE(table->ingested());
  v1::CrawlStatus after = table->Status();
  EXPECT_EQ(after.items_total(), 15);
  for (auto field : {&v1::CrawlStatus::items_total, &v1::CrawlStatus::items_ok,
                     &v1::CrawlStatus::items_dead, &v1::CrawlStatus::items_failed,
                     &v1::CrawlStatus::items_pending, &v1::CrawlStatus::shards_total,
                     &v1::CrawlStatus::shards_done, &v1::CrawlStatus::shards_leased,
                     &v1::CrawlStatus::shards_pending, &v1::CrawlStatus::started_at_ms}) {
    EXPECT_EQ((after.*field)(), (before.*field)());
  }
  EXPECT_EQ(after.errors_by_reason().at("http_410"), 1);
  EXPECT_EQ(after.errors_by_reason().at("http_503"), 1);
  EXPECT_EQ(after.workers_size(), 2);
  auto shards = table->Shards();
  EXPECT_EQ(shards[held.shard_id()].state, ShardState::kLeased);
  EXPECT_EQ(shards[held.shard_id()].deadline_ms, held.lease_deadline_ms());
  EXPECT_EQ(shards[held.shard_id()].token, held.fencing_token());
  // The held lease is still valid after the restart; the other one expires on time.
  v1::HeartbeatRequest hb;
  hb.set_worker_id(a);
  hb.set_shard_id(held.shard_id());
  hb.set_fencing_token(held.fencing_token());
  ASSERT_OK_AND_ASSIGN(auto beat, table->Heartbeat(hb));
  EXPECT_TRUE(beat.ok());
  clock.Advance(absl::Seconds(11));
  ASSERT_OK_AND_ASSIGN(auto relet, table->Lease(b));
  ASSERT_TRUE(relet.has_shard());
  EXPECT_EQ(relet.shard_id(), expiring.shard_id());
  EXPECT_EQ(relet.attempt(), 2);
  EXPECT_GT(relet.fencing_token(), expiring.fencing_token());
  EXPECT_GT(relet.fencing_token(), held.fencing_token());
  // Re-ingest is refused: the job continues instead.
  EXPECT_THAT(table->BeginIngest(), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_OK_AND_ASSIGN(auto dead, table->ListDeadLinks({}));
  EXPECT_EQ(dead.total(), 1);
}

// An ingest killed before FinishIngest keeps what it stored: BeginIngest
// reports it (to resume after it) and deletes nothing.
TEST(ShardTableRestartTest, UnfinishedIngestIsKeptForResuming) {
  FakeClock clock;
  kv::MemoryKvStore store;
  {
    ASSERT_OK_AND_ASSIGN(auto table, ShardTable::Open(store, clock, Options()));
    ASSERT_OK(table->BeginIngest());
    ASSERT_OK(table->AddShard({testing::UrlItem(1), testing::UrlItem(2)}, 2).status());
    ASSERT_OK(table->AddDeadAtIngest({testing::UrlItem(3)}, "mir_cdn_rendition"));
    // killed here: FinishIngest never ran
  }
  ASSERT_OK_AND_ASSIGN(auto table, ShardTable::Open(store, clock, Options()));
  EXPECT_FALSE(table->ingested());
  ASSERT_OK_AND_ASSIGN(IngestProgress progress, table->BeginIngest());
  EXPECT_EQ(progress.shards, 1);
  EXPECT_EQ(progress.items, 2);
  EXPECT_EQ(progress.dead, 1);
  EXPECT_EQ(progress.last_item_key, "url-2");
  EXPECT_EQ(progress.last_dead_key, "url-3");
  EXPECT_EQ(progress.shard_size, 2);
  EXPECT_EQ(table->Status().items_total(), 3);
  EXPECT_EQ(table->Status().shards_total(), 1);
}

TEST(ShardTableSchemaTest, NewStateGetsTheVersionAndOthersAreRefused) {
  FakeClock clock;
  {
    kv::MemoryKvStore store;
    ASSERT_OK(ShardTable::Open(store, clock, Options()).status());
    ASSERT_OK_AND_ASSIGN(auto schema, store.Get("meta/schema"));
    EXPECT_EQ(schema, std::optional<std::string>("1"));
    EXPECT_OK(ShardTable::Open(store, clock, Options()).status());  // reopened: same version
  }
  {
    kv::MemoryKvStore store;
    ASSERT_OK(ShardTable::Open(store, clock, Options()).status());
    ASSERT_OK(store.Put("meta/schema", "2"));
    EXPECT_THAT(ShardTable::Open(store, clock, Options()).status(),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("schema version '2'")));
  }
  {
    kv::MemoryKvStore store;  // a state written before schema versions existed
    ASSERT_OK(store.Put("meta/job", R"({"started_at_ms":1})"));
    EXPECT_THAT(ShardTable::Open(store, clock, Options()).status(),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no schema version")));
  }
}

// A worker restarted with the same name (same --state) registers again and
// gets its own unexpired lease back: same shard, same token, renewed
// deadline, with the keys it reported done; other workers never get it.
TEST_F(ShardTableTest, RestartedWorkerGetsItsOwnLeaseBack) {
  Open(3, 3);
  const std::string a = Register("a"), b = Register("b");
  ASSERT_OK_AND_ASSIGN(auto first, table_->Lease(a));
  ASSERT_OK(table_->ReportProgress(Progress(a, first, first.items(1).key())).status());
  clock_.Advance(absl::Seconds(20));
  EXPECT_EQ(Register("a"), a);  // restarted
  ASSERT_OK_AND_ASSIGN(auto again, table_->Lease(a));
  ASSERT_TRUE(again.has_shard());
  EXPECT_EQ(again.shard_id(), first.shard_id());
  EXPECT_EQ(again.fencing_token(), first.fencing_token());
  EXPECT_EQ(again.attempt(), first.attempt());
  EXPECT_EQ(again.lease_deadline_ms(), clock_.NowMillis() + 30'000);
  EXPECT_EQ(again.items_size(), 3);
  EXPECT_THAT(again.done_keys(), ::testing::ElementsAre(first.items(1).key()));
  EXPECT_TRUE(Beat(a, first).ok());  // the old token is still the lease
  ASSERT_OK(table_->Complete(CompleteAll(a, again)));
  // Its next lease is a new shard; b never got shard 0.
  ASSERT_OK_AND_ASSIGN(auto next, table_->Lease(a));
  EXPECT_NE(next.shard_id(), first.shard_id());
  ASSERT_OK_AND_ASSIGN(auto other, table_->Lease(b));
  EXPECT_NE(other.shard_id(), first.shard_id());
  EXPECT_NE(other.shard_id(), next.shard_id());
}

TEST_F(ShardTableTest, RestartedWorkerDoesNotGetAnExpiredLeaseBack) {
  Open(2, 1);
  const std::string a = Register("a");
  ASSERT_OK_AND_ASSIGN(auto first, table_->Lease(a));
  clock_.Advance(absl::Seconds(31));
  EXPECT_EQ(Register("a"), a);
  ASSERT_OK_AND_ASSIGN(auto again, table_->Lease(a));
  ASSERT_TRUE(again.has_shard());
  EXPECT_GT(again.fencing_token(), first.fencing_token());  // a new lease
}

TEST(ShardTablePagingTest, DeadLinksPageThroughEveryRecordOnce) {
  FakeClock clock;
  kv::MemoryKvStore store;
  ASSERT_OK_AND_ASSIGN(auto table, ShardTable::Open(store, clock, Options()));
  ASSERT_OK(table->BeginIngest());
  std::vector<v1::WorkItem> dead;
  for (int i = 0; i < 25; ++i) dead.push_back(testing::UrlItem(i, "bam"));
  ASSERT_OK(table->AddDeadAtIngest(dead, "mir_cdn_rendition"));
  ASSERT_OK(table->FinishIngest("{}"));
  std::set<std::string> keys;
  v1::PageRequest page;
  page.set_page_size(10);
  int pages = 0;
  do {
    ASSERT_OK_AND_ASSIGN(auto resp, table->ListDeadLinks(page));
    EXPECT_EQ(resp.total(), 25);
    for (const auto& d : resp.dead_links()) {
      EXPECT_TRUE(keys.insert(d.key()).second);
      EXPECT_EQ(d.reason(), "mir_cdn_rendition");
    }
    page.set_page_token(resp.next_page_token());
    ++pages;
  } while (!page.page_token().empty());
  EXPECT_EQ(keys.size(), 25u);
  EXPECT_EQ(pages, 3);
  v1::CrawlStatus st = table->Status();
  EXPECT_EQ(st.items_dead(), 25);
  EXPECT_TRUE(st.done());  // nothing to crawl
  page.set_page_token("garbage");
  EXPECT_THAT(table->ListDeadLinks(page).status(), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace atelier::coordinator

namespace atelier::coordinator {
namespace {

// A moved shard: the next holder's lease carries the segments sealed by the
// earlier one; a coordinator restart keeps them; a stale token's seal is
// refused; the shard's completion deletes them.
TEST_F(ShardTableTest, SealedSegmentsSurviveRestartGoToTheNextHolderAndStaleSealsAreRefused) {
  Open(1, 3);
  const std::string a = Register("a"), b = Register("b");
  ASSERT_OK_AND_ASSIGN(auto first, table_->Lease(a));
  v1::SealSegmentRequest seal;
  seal.set_worker_id(a);
  seal.set_shard_id(first.shard_id());
  seal.set_fencing_token(first.fencing_token());
  seal.mutable_segment()->set_path("shards/000000.seg-1-0.tar");
  seal.mutable_segment()->set_sha256("ab");
  auto* r = seal.mutable_segment()->add_results();
  r->set_key(first.items(0).key());
  r->set_outcome(v1::ITEM_OUTCOME_OK);
  ASSERT_OK(table_->Seal(seal));
  v1::SealSegmentRequest bad = seal;
  bad.mutable_segment()->mutable_results(0)->set_key("not-an-item");
  EXPECT_THAT(table_->Seal(bad), StatusIs(absl::StatusCode::kInvalidArgument));

  table_.reset();                      // the coordinator stops...
  clock_.Advance(absl::Seconds(31));   // ...a's lease ends meanwhile...
  ASSERT_OK_AND_ASSIGN(table_, ShardTable::Open(store_, clock_, Options()));  // ...and it restarts
  ASSERT_OK_AND_ASSIGN(auto second, table_->Lease(b));
  ASSERT_TRUE(second.has_shard());
  EXPECT_EQ(second.shard_id(), first.shard_id());
  ASSERT_EQ(second.segments_size(), 1);
  EXPECT_EQ(second.segments(0).path(), "shards/000000.seg-1-0.tar");
  EXPECT_EQ(second.segments(0).fencing_token(), first.fencing_token());
  ASSERT_EQ(second.segments(0).results_size(), 1);
  EXPECT_EQ(second.segments(0).results(0).key(), first.items(0).key());

  // a's seal now carries a stale token: refused, nothing recorded.
  seal.mutable_segment()->set_path("shards/000000.seg-1-1.tar");
  EXPECT_THAT(table_->Seal(seal), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_OK(table_->Complete(CompleteAll(b, second)));
  bool any = false;
  ASSERT_OK(store_.Scan("seal/", "", [&](absl::string_view, absl::string_view) { return any = true, false; }));
  EXPECT_FALSE(any) << "a done shard keeps no segment records";
}

}  // namespace
}  // namespace atelier::coordinator
