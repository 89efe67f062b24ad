// Damaged coordinator state on real RocksDB: a copy of a finished state is
// damaged the ways disks and operators damage it, and the coordinator
// refuses with DataLoss naming the damaged file, changing nothing. Never
// fewer done shards silently.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "atelier/common/fake_clock.h"
#include "atelier/common/status_matchers.h"
#include "atelier/coordinator/coordinator_state.h"
#include "atelier/kv/rocksdb_kv_store.h"
#include "atelier/coordinator/shard_table.h"
#include "atelier/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_items.h"

namespace atelier::coordinator {
namespace {

namespace fs = std::filesystem;
using ::atelier::testing::TempDir;

constexpr int kShards = 41;

// Writes a finished job (every shard done) into `db` and closes it.
void MakeFinishedState(const std::string& db) {
  FakeClock clock;
  ASSERT_OK_AND_ASSIGN(auto store, OpenCoordinatorDatabase(db));
  ASSERT_OK_AND_ASSIGN(auto table, ShardTable::Open(*store, clock, {}));
  testing::FillTable(*table, kShards, 20);
  v1::RegisterWorkerRequest reg;
  reg.set_worker_name("w");
  ASSERT_OK_AND_ASSIGN(std::string worker, table->RegisterWorker(reg));
  for (int i = 0; i < kShards; ++i) {
    ASSERT_OK_AND_ASSIGN(auto lease, table->Lease(worker));
    ASSERT_OK(table->Complete(testing::CompleteAll(worker, lease)));
  }
  ASSERT_TRUE(table->done());
}

// Done shards of the state in `db`, or the error opening it.
absl::StatusOr<std::set<uint64_t>> DoneSet(const std::string& db) {
  FakeClock clock;
  auto store = OpenCoordinatorDatabase(db);
  if (!store.ok()) return store.status();
  auto table = ShardTable::Open(**store, clock, {});
  if (!table.ok()) return table.status();
  std::set<uint64_t> done;
  auto shards = (*table)->Shards();
  for (size_t i = 0; i < shards.size(); ++i) {
    if (shards[i].state == ShardState::kDone) done.insert(i);
  }
  return done;
}

// File names and contents of `dir`.
std::map<std::string, std::string> Snapshot(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with("LOG")) continue;  // RocksDB's diagnostics log
    out[name] = atelier::testing::ReadFileOrEmpty(e.path());
  }
  return out;
}

fs::path NewestWal(const fs::path& db) {
  fs::path newest;
  uint64_t best = 0;
  for (const auto& e : fs::directory_iterator(db)) {
    const std::string name = e.path().filename().string();
    uint64_t n = 0;
    if (absl::EndsWith(name, ".log") && absl::SimpleAtoi(absl::StripSuffix(name, ".log"), &n) &&
        n >= best) {
      best = n;
      newest = e.path();
    }
  }
  return newest;
}

fs::path Manifest(const fs::path& db) {
  std::ifstream current(db / "CURRENT");
  std::string name;
  std::getline(current, name);
  return db / name;
}

void Truncate(const fs::path& file, uintmax_t size) { fs::resize_file(file, size); }

void ZeroAt(const fs::path& file, uintmax_t offset, size_t n) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(offset));
  std::string zeros(n, '\0');
  f.write(zeros.data(), static_cast<std::streamsize>(n));
}

struct Damage {
  std::string name;
  // Damages the state in `db`; returns the file an error must name.
  std::function<fs::path(const fs::path& db)> apply;
};

class StateDamageTest : public ::testing::TestWithParam<Damage> {};

TEST_P(StateDamageTest, RefusedNamingTheDamagedFile) {
  TempDir dir("damage");
  const fs::path db = dir / "rocksdb";
  MakeFinishedState(db.string());  // not reopened before the damage: all of it is in the WAL
  std::set<uint64_t> done;
  for (uint64_t i = 0; i < kShards; ++i) done.insert(i);

  const fs::path damaged = GetParam().apply(db);
  const auto before = Snapshot(db);
  auto after = DoneSet(db.string());
  // Every one of these loses committed writes, so every one is refused.
  ASSERT_FALSE(after.ok()) << "opened with " << after->size() << " of " << done.size()
                           << " done shards";
  EXPECT_EQ(after.status().code(), absl::StatusCode::kDataLoss) << after.status();
  EXPECT_THAT(std::string(after.status().message()), ::testing::HasSubstr(damaged.string()));
  // ... and says the way out.
  EXPECT_THAT(std::string(after.status().message()), ::testing::HasSubstr("--recover-from-dataset"));
  EXPECT_EQ(Snapshot(db), before) << "a refused open changed the state directory";
  // And it keeps refusing.
  EXPECT_EQ(DoneSet(db.string()).status().code(), absl::StatusCode::kDataLoss);
}

INSTANTIATE_TEST_SUITE_P(
    Damages, StateDamageTest,
    ::testing::Values(
        Damage{"WalCutInHalf",
               [](const fs::path& db) {
                 fs::path wal = NewestWal(db);
                 Truncate(wal, fs::file_size(wal) / 2);
                 return wal;
               }},
        Damage{"Wal4KiBZeroed",
               [](const fs::path& db) {
                 fs::path wal = NewestWal(db);
                 ZeroAt(wal, fs::file_size(wal) / 2, 4096);
                 return wal;
               }},
        Damage{"WalTail4KiBZeroed",
               [](const fs::path& db) {
                 fs::path wal = NewestWal(db);
                 ZeroAt(wal, fs::file_size(wal) - 4096, 4096);
                 return wal;
               }},
        Damage{"WalEmptied",
               [](const fs::path& db) {
                 fs::path wal = NewestWal(db);
                 Truncate(wal, 0);
                 return wal;
               }},
        Damage{"WalDeleted",
               [](const fs::path& db) {
                 fs::path wal = NewestWal(db);
                 fs::remove(wal);
                 return wal;
               }},
        Damage{"ManifestCutInHalf",
               [](const fs::path& db) {
                 fs::path manifest = Manifest(db);
                 Truncate(manifest, fs::file_size(manifest) / 2);
                 return manifest;
               }},
        Damage{"CurrentEmptied",
               [](const fs::path& db) {
                 Truncate(db / "CURRENT", 0);
                 return db / "CURRENT";
               }},
        Damage{"CurrentDeleted",
               [](const fs::path& db) {
                 fs::remove(db / "CURRENT");
                 return db / "CURRENT";
               }},
        Damage{"SealDeleted",
               [](const fs::path& db) {
                 fs::path seal = kv::RocksDbKvStore::SealPath(db.string());
                 fs::remove(seal);
                 return seal;
               }},
        Damage{"SealDamaged",
               [](const fs::path& db) {
                 fs::path seal = kv::RocksDbKvStore::SealPath(db.string());
                 ZeroAt(seal, 0, 4);
                 return seal;
               }}),
    [](const ::testing::TestParamInfo<Damage>& info) { return info.param.name; });

// The state of a crawl in progress survives a clean close and reopen with
// every record (the seal advances with every durable write).
TEST(StateSealTest, ReopenAfterCleanCloseKeepsEverything) {
  TempDir dir("seal");
  const std::string db = (dir / "rocksdb").string();
  MakeFinishedState(db);
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(std::set<uint64_t> done, DoneSet(db));
    EXPECT_EQ(done.size(), static_cast<size_t>(kShards));
  }
}

}  // namespace
}  // namespace atelier::coordinator
