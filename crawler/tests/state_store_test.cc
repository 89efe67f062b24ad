// The RocksDB worker state in a temporary directory (and the in-memory fake,
// which must behave the same).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "atelier/common/status_matchers.h"
#include "atelier/crawler/state_store.h"
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

  ASSERT_OK(store.PutMeta("worker_name", "w-1"));
  ASSERT_OK_AND_ASSIGN(auto name, store.GetMeta("worker_name"));
  EXPECT_EQ(name, std::optional<std::string>("w-1"));
}

TEST(StateStoreTest, MemoryStore) {
  MemoryStateStore store;
  ExerciseStore(store);
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

TEST(StateStoreTest, UnusableDirectoryIsAClearError) {
  atelier::testing::TempDir dir("crawler-state");
  atelier::testing::WriteFileOrDie(dir / "file", "x");
  auto store = OpenRocksDbStateStore((dir / "file").string());
  EXPECT_THAT(store, ::atelier::testing::StatusIs(absl::StatusCode::kFailedPrecondition,
                                                  ::testing::HasSubstr((dir / "file").string())));
}

}  // namespace
}  // namespace atelier::crawler
