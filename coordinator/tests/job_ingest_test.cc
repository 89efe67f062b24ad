#include "atelier/coordinator/job_ingest.h"

#include <sqlite3.h>

#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "atelier/common/fake_clock.h"
#include "atelier/common/status_matchers.h"
#include "atelier/coordinator/crawl_settings.h"
#include "atelier/kv/testing/memory_kv_store.h"
#include "atelier/net/testing/fake_fetcher.h"
#include "atelier/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace atelier::coordinator {
namespace {

using ::atelier::testing::StatusIs;
using ::atelier::testing::TempDir;
using ::atelier::testing::WriteFileOrDie;
using ::testing::HasSubstr;

void MakeBam(const std::string& path) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  std::string sql =
      "CREATE TABLE modules (mid INTEGER PRIMARY KEY, project_id INTEGER, src TEXT, "
      "mature_content BOOLEAN, license TEXT);"
      "CREATE TABLE scores (mid INTEGER, media_oilpaint REAL, media_comic REAL);";
  for (int mid = 1; mid <= 5; ++mid) {
    absl::StrAppend(&sql, "INSERT INTO modules VALUES (", mid, ", 1, '",
                    mid == 5 ? "https://mir-cdn.behance.net/v1/rendition/x.jpg"
                             : absl::StrCat("http://127.0.0.1/bam/", mid, ".jpg"),
                    "', 0, 'cc'); INSERT INTO scores VALUES (", mid, ", -1, -2);");
  }
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

class JobIngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeBam((dir_ / "bam.sqlite").string());
    WriteFileOrDie(dir_ / "list.txt", "http://127.0.0.1/u/1.jpg\nhttp://127.0.0.1/u/2.jpg\n");
    WriteFileOrDie(dir_ / "job.yaml", R"(name: mixed
dataset: data
shard_size: 3
sources:
  - bam: {sqlite: bam.sqlite, labels: [media]}
  - met:
      api: http://met.invalid/v1
      derive: [decade]
      searches:
        - {q: dress, label: {country: UK}}
  - urls: {file: list.txt}
crawl:
  lease_ttl_s: 45
  max_attempts: 5
  throttle_pause_s: 2.5
  allow_private_networks: true
  allowed_networks: [10.1.0.0/16]
  memory_budget_bytes: 100000000
  max_image_pixels: 5000000
  seal_interval_s: 7.5
)");
    http_.set_immediate(true);
    clock_.SetAutoAdvance(true);
  }
  TempDir dir_{"job"};
  FakeClock clock_;
  net::testing::FakeFetcher http_{
      clock_, net::testing::AnswersByUrl({{"http://met.invalid/v1/search?q=dress",
                                           {net::testing::Typed(200, "application/json",
                                                                R"({"total":2,"objectIDs":[42,43]})")}}})};
  kv::MemoryKvStore store_;
};

TEST_F(JobIngestTest, IngestsEverySourceIntoShardsOnce) {
  ASSERT_OK_AND_ASSIGN(JobSpec spec, LoadJobSpec((dir_ / "job.yaml").string()));
  {
    ASSERT_OK_AND_ASSIGN(auto table, ShardTable::Open(store_, clock_, {}));
    ASSERT_OK_AND_ASSIGN(std::string summary, IngestJob(spec, *table, http_, clock_));
    auto j = nlohmann::json::parse(summary);
    EXPECT_EQ(j["items"], 8);  // 4 bam + 2 met + 2 urls
    EXPECT_EQ(j["dead_at_ingest"], 1);
    EXPECT_EQ(j["shards"], 3);
    v1::CrawlStatus st = table->Status();
    EXPECT_EQ(st.items_total(), 9);
    EXPECT_EQ(st.items_dead(), 1);
    EXPECT_EQ(st.items_pending(), 8);
    EXPECT_EQ(st.shards_total(), 3);
    std::map<std::string, int64_t> totals;
    for (const auto& s : st.sources()) totals[s.source_name()] = s.items_total();
    EXPECT_EQ(totals, (std::map<std::string, int64_t>{{"bam", 5}, {"met", 2}, {"urls:list.txt", 2}}));
    for (const auto& shard : table->Shards()) EXPECT_LE(shard.items, 3);
  }
  // Reopened (a restarted coordinator): nothing is ingested again.
  ASSERT_OK_AND_ASSIGN(auto table, ShardTable::Open(store_, clock_, {}));
  ASSERT_OK(IngestJob(spec, *table, http_, clock_).status());
  EXPECT_EQ(http_.total_requests(), 1);
  EXPECT_EQ(table->Status().items_total(), 9);
  EXPECT_EQ(table->Status().shards_total(), 3);
}

TEST_F(JobIngestTest, FailedSourceFailsTheIngestNamingIt) {
  ASSERT_OK_AND_ASSIGN(JobSpec spec, LoadJobSpec((dir_ / "job.yaml").string()));
  std::get<UrlsSourceSpec>(spec.sources[2].source).file = (dir_ / "missing.txt").string();
  ASSERT_OK_AND_ASSIGN(auto table, ShardTable::Open(store_, clock_, {}));
  EXPECT_THAT(IngestJob(spec, *table, http_, clock_).status(),
              StatusIs(absl::StatusCode::kNotFound,
                       ::testing::AllOf(HasSubstr("source 'urls:list.txt'"),
                                        HasSubstr("missing.txt"))));
  EXPECT_FALSE(table->ingested());
}

// A kv::KvStore whose writes fail from the `fail_at`-th on, as if the process
// had been killed after write fail_at-1; counts how often each key is put.
class KilledKvStore final : public kv::KvStore {
 public:
  KilledKvStore(kv::KvStore& inner, int fail_at) : inner_(inner), fail_at_(fail_at) {}
  absl::StatusOr<std::optional<std::string>> Get(absl::string_view key) override {
    return inner_.Get(key);
  }
  absl::Status Put(absl::string_view key, absl::string_view value) override {
    kv::WriteBatch b;
    b.Put(std::string(key), std::string(value));
    return Write(b);
  }
  absl::Status Delete(absl::string_view key) override {
    kv::WriteBatch b;
    b.Delete(std::string(key));
    return Write(b);
  }
  absl::Status Write(const kv::WriteBatch& batch) override {
    if (++writes_ >= fail_at_) return absl::UnavailableError("killed");
    for (const auto& op : batch.ops()) {
      if (op.is_delete) ++deletes;
      else ++puts[op.key];
    }
    return inner_.Write(batch);
  }
  absl::Status Scan(absl::string_view prefix, absl::string_view start,
                    const Visitor& visit) override {
    return inner_.Scan(prefix, start, visit);
  }
  absl::Status Sync() override { return absl::OkStatus(); }
  int writes() const { return writes_; }
  std::map<std::string, int> puts;
  int deletes = 0;

 private:
  kv::KvStore& inner_;
  const int fail_at_;
  int writes_ = 0;
};

// Every record of the store, without the times it holds.
std::map<std::string, std::string> Records(kv::KvStore& store) {
  std::map<std::string, std::string> out;
  EXPECT_OK(store.Scan("", "", [&](absl::string_view k, absl::string_view v) {
    if (k == "meta/job" || k == "meta/ingest_done") return true;
    if (absl::StartsWith(k, "dead/")) {
      v1::DeadLink link;
      EXPECT_TRUE(link.ParseFromArray(v.data(), static_cast<int>(v.size())));
      link.clear_recorded_at_ms();
      out.emplace(k, link.SerializeAsString());
      return true;
    }
    if (k == "meta/counters") {  // map order is not deterministic in the bytes
      v1::CrawlStatus counters;
      EXPECT_TRUE(counters.ParseFromArray(v.data(), static_cast<int>(v.size())));
      out.emplace(k, counters.DebugString());
      return true;
    }
    out.emplace(k, v);
    return true;
  }));
  return out;
}

// An ingest killed after any of its writes resumes on the next start: what it
// stored is kept (no record is deleted or written twice) and the result is the
// same state as an ingest that was never interrupted.
TEST_F(JobIngestTest, IngestKilledAfterAnyWriteResumesWithoutRewriting) {
  ASSERT_OK_AND_ASSIGN(JobSpec spec, LoadJobSpec((dir_ / "job.yaml").string()));
  // Dead items from the URL list too, so both streams resume.
  WriteFileOrDie(dir_ / "list.txt",
                 "http://127.0.0.1/u/1.jpg\nftp://x\nhttp://127.0.0.1/u/2.jpg\nnope\n");
  kv::MemoryKvStore clean;
  int clean_writes = 0;
  {
    KilledKvStore counting(clean, 1 << 30);
    ASSERT_OK_AND_ASSIGN(auto table, ShardTable::Open(counting, clock_, {}));
    ASSERT_OK(IngestJob(spec, *table, http_, clock_).status());
    clean_writes = counting.writes();
  }
  const auto expected = Records(clean);
  ASSERT_GT(clean_writes, 5);
  for (int kill_at = 2; kill_at <= clean_writes; ++kill_at) {
    SCOPED_TRACE(absl::StrCat("killed at write ", kill_at));
    kv::MemoryKvStore store;
    std::map<std::string, int> puts;
    {
      KilledKvStore killed(store, kill_at);
      auto table = ShardTable::Open(killed, clock_, {});
      if (table.ok()) {
        EXPECT_FALSE(IngestJob(spec, **table, http_, clock_).ok());
      }
      puts = killed.puts;
      EXPECT_EQ(killed.deletes, 0);
    }
    KilledKvStore restarted(store, 1 << 30);
    ASSERT_OK_AND_ASSIGN(auto table, ShardTable::Open(restarted, clock_, {}));
    ASSERT_OK_AND_ASSIGN(std::string summary, IngestJob(spec, *table, http_, clock_));
    EXPECT_EQ(nlohmann::json::parse(summary)["items"], 8);
    EXPECT_TRUE(table->ingested());
    EXPECT_EQ(Records(store), expected);
    EXPECT_EQ(restarted.deletes, 0);
    for (const auto& [key, n] : restarted.puts) {
      if (key.starts_with("items/") || key.starts_with("dead/")) {
        EXPECT_EQ(puts.count(key), 0u) << key << " was written again";
      }
    }
  }
}

TEST_F(JobIngestTest, ResumeRefusesChangedSources) {
  ASSERT_OK_AND_ASSIGN(JobSpec spec, LoadJobSpec((dir_ / "job.yaml").string()));
  kv::MemoryKvStore store;
  {
    KilledKvStore killed(store, 4);  // after the first shard
    ASSERT_OK_AND_ASSIGN(auto table, ShardTable::Open(killed, clock_, {}));
    EXPECT_FALSE(IngestJob(spec, *table, http_, clock_).ok());
  }
  ASSERT_OK_AND_ASSIGN(auto table, ShardTable::Open(store, clock_, {}));
  ASSERT_GT(table->Shards().size(), 0u);
  spec.sources.erase(spec.sources.begin());  // the BAM source is gone
  EXPECT_THAT(IngestJob(spec, *table, http_, clock_).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("sources changed")));
  EXPECT_FALSE(table->ingested());
}

TEST_F(JobIngestTest, SettingsComeFromTheSpec) {
  ASSERT_OK_AND_ASSIGN(JobSpec spec, LoadJobSpec((dir_ / "job.yaml").string()));
  v1::CrawlSettings s = CrawlSettingsFromSpec(spec);
  EXPECT_EQ(s.lease_ttl_ms(), 45000);
  EXPECT_EQ(s.throttle_pause_ms(), 2500);
  EXPECT_TRUE(s.allow_private_networks());
  ASSERT_EQ(s.allowed_networks_size(), 1);
  EXPECT_EQ(s.allowed_networks(0), "10.1.0.0/16");
  EXPECT_EQ(s.memory_budget_bytes(), 100000000);
  EXPECT_EQ(s.max_image_pixels(), 5000000);
  EXPECT_EQ(s.seal_interval_ms(), 7500);
  EXPECT_LT(s.heartbeat_interval_ms(), s.lease_ttl_ms());
  EXPECT_EQ(s.met_api(), "http://met.invalid/v1");
  ASSERT_EQ(s.met_label_fields_size(), 1);
  EXPECT_EQ(s.met_label_fields(0), "decade");
  EXPECT_EQ(s.resize_mode(), v1::RESIZE_MODE_CENTER_CROP);
  EXPECT_EQ(s.dataset_root(), (dir_ / "data").string());
}

}  // namespace
}  // namespace atelier::coordinator
