#include "atelier/coordinator/job_ingest.h"

#include <sqlite3.h>

#include "absl/strings/str_cat.h"
#include "atelier/common/fake_clock.h"
#include "atelier/common/status_matchers.h"
#include "atelier/coordinator/crawl_settings.h"
#include "atelier/coordinator/memory_kv_store.h"
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
)");
    http_.Add("http://met.invalid/v1/search?q=dress",
              HttpResponse{200, "application/json", R"({"total":2,"objectIDs":[42,43]})"});
    clock_.SetAutoAdvance(true);
  }
  TempDir dir_{"job"};
  FakeHttpClient http_;
  FakeClock clock_;
  MemoryKvStore store_;
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
  EXPECT_EQ(http_.requests().size(), 1u);
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

TEST_F(JobIngestTest, SettingsComeFromTheSpec) {
  ASSERT_OK_AND_ASSIGN(JobSpec spec, LoadJobSpec((dir_ / "job.yaml").string()));
  v1::CrawlSettings s = CrawlSettingsFromSpec(spec);
  EXPECT_EQ(s.lease_ttl_ms(), 45000);
  EXPECT_EQ(s.throttle_pause_ms(), 2500);
  EXPECT_LT(s.heartbeat_interval_ms(), s.lease_ttl_ms());
  EXPECT_EQ(s.met_api(), "http://met.invalid/v1");
  ASSERT_EQ(s.met_label_fields_size(), 1);
  EXPECT_EQ(s.met_label_fields(0), "decade");
  EXPECT_EQ(s.resize_mode(), v1::RESIZE_MODE_CENTER_CROP);
  EXPECT_EQ(s.dataset_root(), (dir_ / "data").string());
}

}  // namespace
}  // namespace atelier::coordinator
