#include <memory>

#include "atelier/common/status_matchers.h"
#include "atelier/kv/testing/memory_kv_store.h"
#include "atelier/kv/rocksdb_kv_store.h"
#include "atelier/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace atelier::kv {
namespace {

using ::atelier::testing::TempDir;

// Runs every test on the in-memory fake and on a real RocksDB in a temp dir.
class KvStoreTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam()) {
      dir_ = std::make_unique<TempDir>("kv");
      auto store = RocksDbKvStore::Open((dir_->path() / "db").string());
      ASSERT_OK(store.status());
      store_ = std::move(*store);
    } else {
      store_ = std::make_unique<MemoryKvStore>();
    }
  }
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<KvStore> store_;
};

std::vector<std::string> Keys(KvStore& store, absl::string_view prefix, absl::string_view start,
                              int limit = 100) {
  std::vector<std::string> keys;
  EXPECT_OK(store.Scan(prefix, start, [&](absl::string_view k, absl::string_view) {
    keys.emplace_back(k);
    return static_cast<int>(keys.size()) < limit;
  }));
  return keys;
}

TEST_P(KvStoreTest, PutGetDelete) {
  ASSERT_OK_AND_ASSIGN(auto missing, store_->Get("a"));
  EXPECT_FALSE(missing.has_value());
  ASSERT_OK(store_->Put("a", std::string("x\0y", 3)));
  ASSERT_OK_AND_ASSIGN(auto got, store_->Get("a"));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, std::string("x\0y", 3));
  ASSERT_OK(store_->Delete("a"));
  ASSERT_OK_AND_ASSIGN(auto gone, store_->Get("a"));
  EXPECT_FALSE(gone.has_value());
}

TEST_P(KvStoreTest, BatchAppliesPutsAndDeletesInOrder) {
  ASSERT_OK(store_->Put("k/1", "old"));
  WriteBatch batch;
  batch.Put("k/2", "two");
  batch.Delete("k/1");
  batch.Put("k/3", "three");
  batch.Put("k/3", "three again");
  ASSERT_OK(store_->Write(batch));
  EXPECT_EQ(Keys(*store_, "k/", ""), (std::vector<std::string>{"k/2", "k/3"}));
  ASSERT_OK_AND_ASSIGN(auto v, store_->Get("k/3"));
  EXPECT_EQ(*v, "three again");
}

TEST_P(KvStoreTest, ScanStaysInsidePrefixAndHonoursStartAndStop) {
  for (const char* k : {"a/1", "b/1", "b/2", "b/3", "c/1"}) ASSERT_OK(store_->Put(k, k));
  EXPECT_EQ(Keys(*store_, "b/", ""), (std::vector<std::string>{"b/1", "b/2", "b/3"}));
  EXPECT_EQ(Keys(*store_, "b/", "b/2"), (std::vector<std::string>{"b/2", "b/3"}));
  EXPECT_EQ(Keys(*store_, "b/", "", 2), (std::vector<std::string>{"b/1", "b/2"}));
  EXPECT_TRUE(Keys(*store_, "d/", "").empty());
  ASSERT_OK(DeletePrefix(*store_, "b/"));
  EXPECT_TRUE(Keys(*store_, "b/", "").empty());
  EXPECT_EQ(Keys(*store_, "", "").size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Stores, KvStoreTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "RocksDb" : "Memory"; });

TEST(RocksDbKvStoreTest, DataSurvivesReopen) {
  TempDir dir("kv");
  const std::string path = (dir.path() / "db").string();
  {
    ASSERT_OK_AND_ASSIGN(auto store, RocksDbKvStore::Open(path));
    ASSERT_OK(store->Put("persist", "me"));
  }
  ASSERT_OK_AND_ASSIGN(auto store, RocksDbKvStore::Open(path));
  ASSERT_OK_AND_ASSIGN(auto v, store->Get("persist"));
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(*v, "me");
}

TEST(RocksDbKvStoreTest, OpenErrorNamesTheDirectory) {
  TempDir dir("kv");
  ::atelier::testing::WriteFileOrDie(dir.path() / "file", "not a dir");
  auto store = RocksDbKvStore::Open((dir.path() / "file" / "db").string());
  EXPECT_THAT(store.status(), atelier::testing::StatusIs(absl::StatusCode::kFailedPrecondition,
                                                         ::testing::HasSubstr("file/db")));
}

}  // namespace
}  // namespace atelier::kv
