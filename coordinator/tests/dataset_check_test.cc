#include "atelier/coordinator/dataset_check.h"

#include <filesystem>
#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"
#include "atelier/common/fake_clock.h"
#include "atelier/common/status_matchers.h"
#include "atelier/kv/testing/memory_kv_store.h"
#include "atelier/dataset/shard_writer.h"
#include "atelier/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_items.h"

namespace atelier::coordinator {
namespace {

namespace fs = std::filesystem;
using ::atelier::testing::TempDir;
using ::testing::AllOf;
using ::testing::HasSubstr;

ShardTableOptions Options() {
  ShardTableOptions o;
  o.lease_ttl = absl::Seconds(30);
  o.max_attempts = 1;
  return o;
}

// A coordinator state with `shards` shards of 2 items (url-0, url-1, ...)
// and a dataset root whose tars the tests write as a crawler would.
class DatasetCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(table_, ShardTable::Open(store_, clock_, Options()));
    testing::FillTable(*table_, 3, 2);
    v1::RegisterWorkerRequest reg;
    reg.set_worker_name("w");
    ASSERT_OK_AND_ASSIGN(worker_, table_->RegisterWorker(reg));
  }

  // Writes shard `id`'s tar with a sample for each of `keys`.
  dataset::CommittedShard WriteTar(uint64_t id, const std::vector<std::string>& keys) {
    auto writer = dataset::ShardWriter::Open(root_.path(), id);
    EXPECT_OK(writer.status());
    for (const auto& key : keys) {
      dataset::Sample sample;
      sample.meta.key = key;
      sample.meta.source = "url";
      sample.meta.url = absl::StrCat("http://127.0.0.1/", key);
      sample.format = dataset::ImageFormat::kJpeg;
      sample.image_bytes = absl::StrCat("\xFF\xD8\xFF\xE0", key, "\xFF\xD9");
      EXPECT_OK((*writer)->Add(sample));
    }
    dataset::ShardStats stats;
    auto committed = (*writer)->Commit(stats);
    EXPECT_OK(committed.status());
    return committed.value_or(dataset::CommittedShard());
  }

  // Leases the next shard and completes it as a crawler would: a tar with
  // the ok items, then CompleteShard with its path and sha256.
  void Crawl(const std::set<std::string>& failed = {}) {
    ASSERT_OK_AND_ASSIGN(auto lease, table_->Lease(worker_));
    ASSERT_TRUE(lease.has_shard());
    v1::CompleteShardRequest req = testing::CompleteAll(worker_, lease);
    std::vector<std::string> ok;
    for (auto& r : *req.mutable_results()) {
      if (failed.contains(r.key())) {
        r.set_outcome(v1::ITEM_OUTCOME_FAILED);
        r.set_reason("http_503");
      } else {
        ok.push_back(r.key());
      }
    }
    dataset::CommittedShard tar = WriteTar(lease.shard_id(), ok);
    req.set_shard_path(fs::relative(tar.tar_path, root_.path()).string());
    req.set_shard_sha256(tar.sha256);
    ASSERT_OK(table_->Complete(req));
  }

  FakeClock clock_;
  kv::MemoryKvStore store_;
  std::unique_ptr<ShardTable> table_;
  std::string worker_;
  TempDir root_{"dataset"};
};

TEST_F(DatasetCheckTest, CheckFindsMissingAndChangedTars) {
  Crawl();
  Crawl();
  ASSERT_OK_AND_ASSIGN(auto problems, CheckAgainstDataset(*table_, root_.path()));
  EXPECT_THAT(problems, ::testing::IsEmpty());

  {
    std::ofstream out(root_ / "shards/000001.tar", std::ios::app | std::ios::binary);
    out << "x";
  }
  fs::remove(root_ / "shards/000000.tar");
  ASSERT_OK_AND_ASSIGN(problems, CheckAgainstDataset(*table_, root_.path()));
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_THAT(problems[0], AllOf(HasSubstr("shard 0"), HasSubstr("missing")));
  EXPECT_THAT(problems[1], AllOf(HasSubstr("shard 1"), HasSubstr("sha256")));
}

TEST_F(DatasetCheckTest, RecoverRebuildsTheDoneSetFromTheTars) {
  Crawl();
  Crawl({"url-3"});  // shard 1: url-3 failed, not in the tar
  // Shard 2 was never crawled. A new state for the same job:
  kv::MemoryKvStore fresh_store;
  ASSERT_OK_AND_ASSIGN(auto fresh, ShardTable::Open(fresh_store, clock_, Options()));
  testing::FillTable(*fresh, 3, 2);
  ASSERT_OK_AND_ASSIGN(RecoverReport report, RecoverFromDataset(*fresh, root_.path()));
  EXPECT_EQ(report.shards, 2);
  EXPECT_EQ(report.items_ok, 3);
  EXPECT_EQ(report.items_missing, 1);
  auto shards = fresh->Shards();
  EXPECT_EQ(shards[0].state, ShardState::kDone);
  EXPECT_EQ(shards[1].state, ShardState::kDone);
  EXPECT_EQ(shards[2].state, ShardState::kPending);
  v1::CrawlStatus st = fresh->Status();
  EXPECT_EQ(st.items_ok(), 3);
  EXPECT_EQ(st.items_failed(), 1);
  EXPECT_EQ(st.errors_by_reason().at("not_in_recovered_shard"), 1);
  ASSERT_OK_AND_ASSIGN(auto failed, fresh->ListFailedItems({}));
  ASSERT_EQ(failed.items_size(), 1);
  EXPECT_EQ(failed.items(0).key(), "url-3");
  ASSERT_OK_AND_ASSIGN(auto problems, CheckAgainstDataset(*fresh, root_.path()));
  EXPECT_THAT(problems, ::testing::IsEmpty());
  // Again: nothing more to recover.
  ASSERT_OK_AND_ASSIGN(report, RecoverFromDataset(*fresh, root_.path()));
  EXPECT_EQ(report.shards, 0);
}

TEST_F(DatasetCheckTest, RetryFailedReturnsOnlyFailedItemsToThePool) {
  Crawl({"url-1"});
  ASSERT_OK_AND_ASSIGN(auto lease, table_->Lease(worker_));  // shard 1
  v1::CompleteShardRequest req = testing::CompleteAll(worker_, lease);
  req.mutable_results(0)->set_outcome(v1::ITEM_OUTCOME_FAILED);
  req.mutable_results(0)->set_reason("timeout");
  req.mutable_results(1)->set_outcome(v1::ITEM_OUTCOME_DEAD);
  req.mutable_results(1)->set_reason("http_404");
  ASSERT_OK(table_->Complete(req));
  ASSERT_OK_AND_ASSIGN(auto lost, table_->Lease(worker_));  // shard 2: attempts run out
  clock_.Advance(absl::Seconds(31));
  ASSERT_OK(table_->ExpireLeases());
  ASSERT_TRUE(table_->done());
  const v1::CrawlStatus before = table_->Status();
  EXPECT_EQ(before.shards_failed(), 1);

  ASSERT_OK_AND_ASSIGN(RetryReport only_503, table_->RetryFailed("http_503", 10));
  EXPECT_EQ(only_503.items, 1);
  EXPECT_EQ(only_503.new_shards, 1);
  EXPECT_EQ(only_503.shards_reopened, 0);
  v1::CrawlStatus st = table_->Status();
  EXPECT_FALSE(st.done());
  EXPECT_EQ(st.items_ok(), before.items_ok());
  EXPECT_EQ(st.items_dead(), before.items_dead());
  EXPECT_EQ(st.items_failed(), before.items_failed() - 1);
  EXPECT_EQ(st.items_total(), before.items_total());
  EXPECT_FALSE(st.errors_by_reason().contains("http_503"));
  ASSERT_OK_AND_ASSIGN(auto again, table_->Lease(worker_));
  ASSERT_EQ(again.items_size(), 1);
  EXPECT_EQ(again.items(0).key(), "url-1");
  EXPECT_EQ(again.shard_id(), 3u);
  ASSERT_OK(table_->Complete(testing::CompleteAll(worker_, again)));
  EXPECT_EQ(table_->Status().items_ok(), before.items_ok() + 1);

  ASSERT_OK_AND_ASSIGN(RetryReport all, table_->RetryFailed("", 10));
  EXPECT_EQ(all.items, 1);  // the timeout; the dead one stays dead
  EXPECT_EQ(all.shards_reopened, 1);
  st = table_->Status();
  EXPECT_EQ(st.items_failed(), 0);
  EXPECT_EQ(st.items_dead(), before.items_dead());
  EXPECT_EQ(st.shards_failed(), 0);
  EXPECT_EQ(st.shards_pending(), 2);
  ASSERT_OK_AND_ASSIGN(auto list, table_->ListFailedItems({}));
  EXPECT_EQ(list.total(), 0);
}

}  // namespace
}  // namespace atelier::coordinator
