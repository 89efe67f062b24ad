// The RocksDB worker state in a temporary directory (and the same state on
// the in-memory KvStore, which must behave the same).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rocksdb/db.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "atelier/common/status_matchers.h"
#include "atelier/common/testing/fault_env.h"
#include "atelier/crawler/state_store.h"
#include "atelier/dataset/sample.h"
#include "atelier/kv/testing/memory_kv_store.h"
#include "atelier/testing/temp_dir.h"
#include "test_images.h"

namespace atelier::crawler {
namespace {

v1::ItemResult Item(const std::string& key, v1::ItemOutcome outcome, const std::string& reason = "") {
  v1::ItemResult r;
  r.set_key(key);
  r.set_outcome(outcome);
  r.set_reason(reason);
  r.set_attempts(2);
  return r;
}

dataset::Sample MakeSample(const std::string& key) {
  dataset::Sample s;
  s.meta.key = key;
  s.meta.source = "url";
  s.meta.url = "http://a.example/" + key;
  s.meta.labels["media"] = "comic";
  s.meta.image_format = "jpg";
  s.meta.width = 16;
  s.meta.height = 16;
  s.format = dataset::ImageFormat::kJpeg;
  s.image_bytes = testing::MakeJpeg(16, 16);
  return s;
}

void ExerciseStore(StateStore& store) {
  ASSERT_OK_AND_ASSIGN(auto missing, store.GetItem(1, "url-a"));
  EXPECT_FALSE(missing.has_value());
  ASSERT_OK(store.PutItem(1, Item("url-a", v1::ITEM_OUTCOME_OK), {MakeSample("url-a")}, {}));
  v1::DeadLink dead;
  dead.set_key("url-b");
  dead.set_url("http://a.example/b");
  dead.set_reason("http_404");
  dead.set_shard_id(1);
  ASSERT_OK(store.PutItem(1, Item("url-b", v1::ITEM_OUTCOME_DEAD, "http_404"), {}, {dead}));
  ASSERT_OK(store.PutItem(2, Item("url-c", v1::ITEM_OUTCOME_OK), {MakeSample("url-c")}, {}));

  ASSERT_OK_AND_ASSIGN(auto a, store.GetItem(1, "url-a"));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->attempts(), 2);
  ASSERT_OK_AND_ASSIGN(auto items, store.ListItems(1));
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].key(), "url-a");
  EXPECT_EQ(items[1].reason(), "http_404");
  ASSERT_OK_AND_ASSIGN(auto samples, store.LoadSamples(1));
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].meta, MakeSample("url-a").meta);
  EXPECT_EQ(samples[0].image_bytes, MakeSample("url-a").image_bytes);
  ASSERT_OK_AND_ASSIGN(auto deads, store.ListDeadLinks());
  ASSERT_EQ(deads.size(), 1u);
  EXPECT_EQ(deads[0].url(), "http://a.example/b");

  // Commit drops sample bytes and keeps the records.
  ASSERT_OK(store.MarkCommitted(1));
  ASSERT_OK_AND_ASSIGN(bool committed, store.IsCommitted(1));
  EXPECT_TRUE(committed);
  ASSERT_OK_AND_ASSIGN(samples, store.LoadSamples(1));
  EXPECT_TRUE(samples.empty());
  ASSERT_OK_AND_ASSIGN(items, store.ListItems(1));
  EXPECT_EQ(items.size(), 2u);

  // A lost lease drops OK records and samples; dead records stay.
  ASSERT_OK(store.PutItem(2, Item("url-d", v1::ITEM_OUTCOME_FAILED, "timeout"), {}, {}));
  ASSERT_OK(store.DiscardShard(2));
  ASSERT_OK_AND_ASSIGN(items, store.ListItems(2));
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].key(), "url-d");
  ASSERT_OK_AND_ASSIGN(samples, store.LoadSamples(2));
  EXPECT_TRUE(samples.empty());
  ASSERT_OK_AND_ASSIGN(committed, store.IsCommitted(2));
  EXPECT_FALSE(committed);

  // Several items at once (a sealed segment taken over) replace the records
  // of their keys; LoadSamples reads only the samples `want` accepts.
  ASSERT_OK(store.PutItems(3, {Item("url-e", v1::ITEM_OUTCOME_DEAD, "http_404"), Item("url-f", v1::ITEM_OUTCOME_OK)},
                           {MakeSample("url-f")}, {}));
  ASSERT_OK(store.PutItems(3, {Item("url-e", v1::ITEM_OUTCOME_OK), Item("url-g", v1::ITEM_OUTCOME_OK)},
                           {MakeSample("url-e"), MakeSample("url-g")}, {}));
  ASSERT_OK_AND_ASSIGN(items, store.ListItems(3));
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].outcome(), v1::ITEM_OUTCOME_OK);
  ASSERT_OK_AND_ASSIGN(samples, store.LoadSamples(3, [](const std::string& key) { return key != "url-f"; }));
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].meta.key, "url-e");
  EXPECT_EQ(samples[1].meta.key, "url-g");
  EXPECT_EQ(samples[1].image_bytes, MakeSample("url-g").image_bytes);

  ASSERT_OK(store.PutMeta("worker_name", "w-1"));
  ASSERT_OK_AND_ASSIGN(auto name, store.GetMeta("worker_name"));
  EXPECT_EQ(name, std::optional<std::string>("w-1"));
}

TEST(StateStoreTest, MemoryStore) {
  atelier::testing::TempDir dir("crawler-state");
  auto store = MakeKvStateStore(std::make_unique<kv::MemoryKvStore>(), (dir / "spool").string());
  ExerciseStore(*store);
}

TEST(StateStoreTest, RocksDbStoreSurvivesReopen) {
  atelier::testing::TempDir dir("crawler-state");
  {
    ASSERT_OK_AND_ASSIGN(auto store, OpenRocksDbStateStore((dir / "state").string()));
    ExerciseStore(*store);
    ASSERT_OK(store->PutItem(7, Item("url-x", v1::ITEM_OUTCOME_OK), {MakeSample("url-x")}, {}));
  }
  ASSERT_OK_AND_ASSIGN(auto store, OpenRocksDbStateStore((dir / "state").string()));
  ASSERT_OK_AND_ASSIGN(auto x, store->GetItem(7, "url-x"));
  ASSERT_TRUE(x.has_value());
  ASSERT_OK_AND_ASSIGN(auto samples, store->LoadSamples(7));
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].image_bytes, MakeSample("url-x").image_bytes);
  ASSERT_OK_AND_ASSIGN(auto name, store->GetMeta("worker_name"));
  EXPECT_EQ(name, std::optional<std::string>("w-1"));
}

std::vector<std::string> FilesUnder(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file()) out.push_back(std::filesystem::relative(e.path(), dir).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(StateStoreTest, RocksDbSpoolIsOneAppendOnlyFilePerShard) {
  atelier::testing::TempDir dir("crawler-state");
  ASSERT_OK_AND_ASSIGN(auto store, OpenRocksDbStateStore((dir / "state").string()));
  std::vector<dataset::Sample> expected;
  for (int i = 0; i < 50; ++i) {
    dataset::Sample sample = MakeSample(absl::StrCat("url-", i));
    sample.image_bytes += std::string(static_cast<size_t>(i), static_cast<char>(i));  // distinct lengths
    ASSERT_OK(store->PutItem(3, Item(sample.meta.key, v1::ITEM_OUTCOME_OK), {sample}, {}));
    expected.push_back(sample);
  }
  EXPECT_EQ(FilesUnder(dir / "state" / "spool"), std::vector<std::string>{"0000000000000003.spool"});
  ASSERT_OK_AND_ASSIGN(auto samples, store->LoadSamples(3));
  ASSERT_EQ(samples.size(), expected.size());
  std::map<std::string, std::string> bytes;
  for (const auto& s : samples) bytes[s.meta.key] = s.image_bytes;
  for (const auto& s : expected) EXPECT_EQ(bytes[s.meta.key], s.image_bytes) << s.meta.key;
  ASSERT_OK(store->MarkCommitted(3));
  EXPECT_TRUE(FilesUnder(dir / "state" / "spool").empty());
}

TEST(StateStoreTest, RocksDbSpoolIgnoresTheTailOfAKilledWrite) {
  atelier::testing::TempDir dir("crawler-state");
  const auto spool = dir / "state" / "spool" / "0000000000000004.spool";
  {
    ASSERT_OK_AND_ASSIGN(auto store, OpenRocksDbStateStore((dir / "state").string()));
    ASSERT_OK(store->PutItem(4, Item("url-a", v1::ITEM_OUTCOME_OK), {MakeSample("url-a")}, {}));
  }
  // A worker killed half way through appending the next sample's bytes.
  std::ofstream(spool, std::ios::binary | std::ios::app) << "half of an image";
  ASSERT_OK_AND_ASSIGN(auto store, OpenRocksDbStateStore((dir / "state").string()));
  ASSERT_OK(store->PutItem(4, Item("url-b", v1::ITEM_OUTCOME_OK), {MakeSample("url-b")}, {}));
  ASSERT_OK_AND_ASSIGN(auto samples, store->LoadSamples(4));
  ASSERT_EQ(samples.size(), 2u);
  for (const auto& s : samples) EXPECT_EQ(s.image_bytes, MakeSample(s.meta.key).image_bytes) << s.meta.key;
}

// The spool is written through the Env: a disk that fills up half way through
// a sample's bytes is ResourceExhausted naming the spool file (a disk fault
// for the worker), records nothing, and once there is space the next sample
// is appended after the partial bytes and read back intact.
TEST(StateStoreTest, AFullDiskWhileSpoolingRecordsNothingAndIsRecovered) {
  atelier::testing::TempDir dir("crawler-state");
  atelier::testing::FaultEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, OpenRocksDbStateStore((dir / "state").string(), &env));
  ASSERT_OK(store->PutItem(4, Item("url-a", v1::ITEM_OUTCOME_OK), {MakeSample("url-a")}, {}));
  env.FailAppendsAfter(10, ENOSPC, ".spool");
  EXPECT_THAT(store->PutItem(4, Item("url-b", v1::ITEM_OUTCOME_OK), {MakeSample("url-b")}, {}),
              ::atelier::testing::StatusIs(absl::StatusCode::kResourceExhausted,
                                           ::testing::HasSubstr("0000000000000004.spool")));
  ASSERT_OK_AND_ASSIGN(auto b, store->GetItem(4, "url-b"));
  EXPECT_FALSE(b.has_value());
  env.Heal();
  ASSERT_OK(store->PutItem(4, Item("url-c", v1::ITEM_OUTCOME_OK), {MakeSample("url-c")}, {}));
  ASSERT_OK_AND_ASSIGN(auto samples, store->LoadSamples(4));
  ASSERT_EQ(samples.size(), 2u);
  for (const auto& s : samples) EXPECT_EQ(s.image_bytes, MakeSample(s.meta.key).image_bytes) << s.meta.key;
  EXPECT_GE(env.calls(atelier::testing::FaultEnv::Op::kAppend), 3);
}

// The spool is read through the Env too: an I/O error while reading it back
// is Unavailable naming the spool file (a disk fault the worker waits out),
// not data loss, and the samples read back once the disk recovers.
TEST(StateStoreTest, AnIoErrorReadingTheSpoolIsADiskFaultNamingTheFile) {
  atelier::testing::TempDir dir("crawler-state");
  atelier::testing::FaultEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, OpenRocksDbStateStore((dir / "state").string(), &env));
  ASSERT_OK(store->PutItem(6, Item("url-a", v1::ITEM_OUTCOME_OK), {MakeSample("url-a")}, {}));
  env.Fail(atelier::testing::FaultEnv::Op::kRead, EIO, ".spool", 1);
  EXPECT_THAT(store->LoadSamples(6).status(),
              ::atelier::testing::StatusIs(absl::StatusCode::kUnavailable,
                                           ::testing::HasSubstr("0000000000000006.spool")));
  ASSERT_OK_AND_ASSIGN(auto samples, store->LoadSamples(6));
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].image_bytes, MakeSample("url-a").image_bytes);
  EXPECT_EQ(env.failures(atelier::testing::FaultEnv::Op::kRead), 1);
}

TEST(StateStoreTest, RocksDbCutSpoolIsDataLossNamingTheFile) {
  atelier::testing::TempDir dir("crawler-state");
  ASSERT_OK_AND_ASSIGN(auto store, OpenRocksDbStateStore((dir / "state").string()));
  ASSERT_OK(store->PutItem(5, Item("url-a", v1::ITEM_OUTCOME_OK), {MakeSample("url-a")}, {}));
  const auto spool = dir / "state" / "spool" / "0000000000000005.spool";
  std::filesystem::resize_file(spool, std::filesystem::file_size(spool) / 2);
  EXPECT_THAT(store->LoadSamples(5).status(),
              ::atelier::testing::StatusIs(absl::StatusCode::kDataLoss, ::testing::HasSubstr(spool.string())));
}

TEST(StateStoreTest, RocksDbReadsSamplesOfTheEarlierOneFilePerSampleLayout) {
  atelier::testing::TempDir dir("crawler-state");
  const dataset::Sample sample = MakeSample("url-old");
  {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, (dir / "state").string(), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "s/0000000000000006/url-old", dataset::SampleMetaToJson(sample.meta))
                    .ok());
  }
  std::filesystem::create_directories(dir / "state" / "spool" / "0000000000000006");
  std::ofstream(dir / "state" / "spool" / "0000000000000006" / "url-old.jpg", std::ios::binary) << sample.image_bytes;
  ASSERT_OK_AND_ASSIGN(auto store, OpenRocksDbStateStore((dir / "state").string()));
  ASSERT_OK_AND_ASSIGN(auto samples, store->LoadSamples(6));
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].meta, sample.meta);
  EXPECT_EQ(samples[0].image_bytes, sample.image_bytes);
  ASSERT_OK(store->MarkCommitted(6));
  EXPECT_TRUE(FilesUnder(dir / "state" / "spool").empty());
}

TEST(StateStoreTest, AStateMadeBeforeSealsIsOpenedAndSealed) {
  atelier::testing::TempDir dir("crawler-state");
  {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, (dir / "state").string(), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "m/worker_name", "w-old").ok());
  }
  ASSERT_FALSE(std::filesystem::exists(dir / "state" / "ATELIER_SEAL"));
  ASSERT_OK_AND_ASSIGN(auto store, OpenRocksDbStateStore((dir / "state").string()));
  ASSERT_OK_AND_ASSIGN(auto name, store->GetMeta("worker_name"));
  EXPECT_EQ(name, std::optional<std::string>("w-old"));
  EXPECT_TRUE(std::filesystem::exists(dir / "state" / "ATELIER_SEAL"));
}

TEST(StateStoreTest, ADamagedWriteAheadLogIsDataLossNamingTheFile) {
  atelier::testing::TempDir dir("crawler-state");
  {
    ASSERT_OK_AND_ASSIGN(auto store, OpenRocksDbStateStore((dir / "state").string()));
    for (int i = 0; i < 20; ++i) {
      const std::string key = absl::StrCat("url-", i);
      ASSERT_OK(store->PutItem(3, Item(key, v1::ITEM_OUTCOME_OK), {MakeSample(key)}, {}));
    }
  }  // a clean close seals every write
  std::filesystem::path wal;
  for (const auto& e : std::filesystem::directory_iterator(dir / "state")) {
    if (e.path().extension() == ".log" && std::filesystem::file_size(e.path()) > 0) wal = e.path();
  }
  ASSERT_FALSE(wal.empty()) << "no write-ahead log with records";
  std::filesystem::resize_file(wal, 0);
  auto store = OpenRocksDbStateStore((dir / "state").string());
  EXPECT_THAT(store.status(), ::atelier::testing::StatusIs(absl::StatusCode::kDataLoss,
                                                           ::testing::AllOf(::testing::HasSubstr(wal.string()),
                                                                            ::testing::HasSubstr("worker state"))));
  // Nothing was changed: the same refusal again.
  EXPECT_TRUE(absl::IsDataLoss(OpenRocksDbStateStore((dir / "state").string()).status()));
}

TEST(StateStoreTest, UnusableDirectoryIsAClearError) {
  atelier::testing::TempDir dir("crawler-state");
  atelier::testing::WriteFileOrDie(dir / "file", "x");
  auto store = OpenRocksDbStateStore((dir / "file").string());
  EXPECT_THAT(store, ::atelier::testing::StatusIs(absl::StatusCode::kFailedPrecondition,
                                                  ::testing::HasSubstr((dir / "file").string())));
}

}  // namespace
}  // namespace atelier::crawler
