// The worker against an in-process fake coordinator (gRPC on 127.0.0.1) and a
// real HTTP origin: commits, lost leases, stale shard files, SIGKILL + restart
// of the real atelier-crawler binary, SIGTERM.
#include "atelier/crawler/worker.h"

#include <signal.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "atelier/common/clock.h"
#include "atelier/common/status_matchers.h"
#include "atelier/common/testing/fault_env.h"
#include "atelier/crawler/state_store.h"
#include "atelier/dataset/sha256.h"
#include "atelier/dataset/shard_paths.h"
#include "atelier/dataset/shard_reader.h"
#include "atelier/dataset/shard_stats.h"
#include "atelier/dataset/shard_writer.h"
#include "atelier/testing/subprocess.h"
#include "atelier/testing/temp_dir.h"
#include "fake_coordinator.h"
#include "test_images.h"
#include "test_origin.h"

namespace atelier::crawler {
namespace {

using ::atelier::crawler::testing::FakeCoordinator;
using ::atelier::crawler::testing::TestOrigin;
using ::atelier::testing::ChildProcess;
using ::atelier::testing::RunCommand;
using ::atelier::testing::TempDir;

v1::WorkItem UrlItem(const std::string& key, const std::string& url) {
  v1::WorkItem item;
  item.set_key(key);
  item.set_source(v1::SOURCE_KIND_URLS);
  item.set_url(url);
  (*item.mutable_labels())["media"] = "watercolor";
  return item;
}

v1::CrawlSettings Settings() {
  v1::CrawlSettings s;
  s.set_resize_mode(v1::RESIZE_MODE_CENTER_CROP);
  s.set_resize_size(48);
  s.set_jpeg_quality(85);
  s.set_per_host_concurrency(8);
  s.set_per_host_requests_per_second(0);
  s.set_retries(1);
  s.set_timeout_ms(5000);
  s.set_max_bytes(1'000'000);
  s.set_lease_ttl_ms(30000);
  s.set_heartbeat_interval_ms(200);
  return s;
}

std::vector<std::string> ReadKeys(const std::filesystem::path& shard) {
  std::vector<std::string> keys;
  auto reader = dataset::ShardReader::Open(shard);
  EXPECT_OK(reader.status());
  if (!reader.ok()) return keys;
  while (true) {
    auto sample = (*reader)->Next();
    EXPECT_OK(sample.status());
    if (!sample.ok() || !sample->has_value()) break;
    keys.push_back((*sample)->meta.key);
  }
  return keys;
}

// GNU tar and Python's tarfile both read the shard and list `entries` entries.
void ExpectToolsReadShard(const std::filesystem::path& shard, size_t entries) {
  auto tar = RunCommand({"tar", "-tf", shard.string()});
  EXPECT_EQ(tar.exit_code, 0) << tar.output;
  EXPECT_EQ(static_cast<size_t>(std::count(tar.output.begin(), tar.output.end(), '\n')), entries) << tar.output;
  auto py = RunCommand({"/usr/bin/python3", "-c",
                        "import sys, tarfile\n"
                        "t = tarfile.open(sys.argv[1])\n"
                        "n = 0\n"
                        "for m in t.getmembers():\n"
                        "    assert len(t.extractfile(m).read()) == m.size\n"
                        "    n += 1\n"
                        "print(n)\n",
                        shard.string()});
  EXPECT_EQ(py.exit_code, 0) << py.output;
  EXPECT_EQ(py.output, absl::StrCat(entries, "\n"));
}

class WorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 200; ++i) origin_.AddImage(absl::StrCat("k", i, ".jpg"), testing::MakeJpeg(80 + i % 7, 60));
  }
  std::vector<v1::WorkItem> Items(int from, int to) {
    std::vector<v1::WorkItem> items;
    for (int i = from; i < to; ++i) items.push_back(UrlItem(absl::StrCat("url-", i), origin_.Url(absl::StrCat("/img/k", i, ".jpg"))));
    return items;
  }
  WorkerOptions Options(const FakeCoordinator& coordinator) {
    WorkerOptions o;
    o.coordinator = coordinator.address();
    o.state_dir = (dir_ / "state").string();
    o.data_root = (dir_ / "data").string();
    o.concurrency = 4;
    o.progress_interval = absl::Milliseconds(100);
    o.idle_poll = absl::Milliseconds(50);
    o.allow_private_networks = true;  // the origin is on loopback
    return o;
  }

  TestOrigin origin_;
  TempDir dir_{"crawler-worker"};
};

TEST_F(WorkerTest, CrawlsCommitsAndCompletesShards) {
  auto shard1 = Items(10, 15);
  shard1.push_back(UrlItem("url-dead", origin_.Url("/status/404")));
  FakeCoordinator coordinator(Settings(), {Items(0, 10), shard1});
  // A file left by a stale worker at shard 1's final name is replaced.
  atelier::testing::WriteFileOrDie(dataset::ShardPath(dir_ / "data", 1), "stale garbage");
  {
    Worker worker(Options(coordinator), Clock::Real());
    ASSERT_OK_AND_ASSIGN(RunEnd end, worker.Run());
    EXPECT_EQ(end, RunEnd::kJobDone);
  }
  ASSERT_TRUE(coordinator.all_done());

  const auto completed = coordinator.completed();
  ASSERT_EQ(completed.size(), 2u);
  for (const auto& c : completed) {
    SCOPED_TRACE(c.shard_id());
    const auto path = dataset::ShardPath(dir_ / "data", c.shard_id());
    EXPECT_EQ(c.shard_path(), absl::StrCat("shards/", std::string(6 - std::to_string(c.shard_id()).size(), '0'), c.shard_id(), ".tar"));
    EXPECT_EQ(c.shard_sha256(), dataset::Sha256Hex(atelier::testing::ReadFileOrEmpty(path)));
    EXPECT_EQ(c.stats().bytes_written(), static_cast<int64_t>(std::filesystem::file_size(path)));
    const size_t ok = c.shard_id() == 0 ? 10 : 5;
    EXPECT_EQ(c.results_size(), c.shard_id() == 0 ? 10 : 6);
    EXPECT_EQ(c.stats().ok(), static_cast<int64_t>(ok));
    EXPECT_EQ(ReadKeys(path).size(), ok);
    ExpectToolsReadShard(path, 2 * ok);
    // stats.json: the accepted figures, samples, duration and real fetch time.
    ASSERT_OK_AND_ASSIGN(auto stats, dataset::ReadShardStats(dataset::ShardStatsPath(dir_ / "data", c.shard_id())));
    EXPECT_EQ(stats.ok, static_cast<int64_t>(ok));
    EXPECT_EQ(stats.samples, static_cast<int64_t>(ok));
    EXPECT_EQ(stats.samples, c.stats().samples());
    EXPECT_EQ(stats.duration_ms, c.stats().duration_ms());
    EXPECT_EQ(stats.bytes_written, c.stats().bytes_written());
    EXPECT_GT(stats.fetch_seconds, 0.0);
    EXPECT_EQ(stats.worker_id, c.worker_id());
  }
  const auto& c1 = completed[1].shard_id() == 1 ? completed[1] : completed[0];
  ASSERT_EQ(c1.dead_links_size(), 1);
  EXPECT_EQ(c1.dead_links(0).key(), "url-dead");
  EXPECT_EQ(c1.dead_links(0).http_status(), 404);
  EXPECT_EQ(c1.stats().dead(), 1);
  EXPECT_EQ(c1.stats().errors_by_reason().at("http_404"), 1);
  EXPECT_GT(coordinator.heartbeats(), 0);

  // Committed shards keep their records but not their sample bytes.
  ASSERT_OK_AND_ASSIGN(auto store, OpenRocksDbStateStore((dir_ / "state").string()));
  ASSERT_OK_AND_ASSIGN(auto samples, store->LoadSamples(0));
  EXPECT_TRUE(samples.empty());
  ASSERT_OK_AND_ASSIGN(auto items, store->ListItems(0));
  EXPECT_EQ(items.size(), 10u);
}

// The job's crawl.max_image_pixels reaches the decoder: a canvas above it
// fails image_too_large, a smaller one is stored.
TEST_F(WorkerTest, TheJobsPixelLimitReachesTheDecoder) {
  origin_.AddImage("tiny.jpg", testing::MakeJpeg(20, 20));
  v1::CrawlSettings settings = Settings();
  settings.set_max_image_pixels(1000);  // the k*.jpg images are 80..86 x 60
  settings.set_memory_budget_bytes(64 << 20);
  FakeCoordinator coordinator(settings, {{UrlItem("url-tiny", origin_.Url("/img/tiny.jpg")),
                                          UrlItem("url-big", origin_.Url("/img/k0.jpg"))}});
  {
    Worker worker(Options(coordinator), Clock::Real());
    ASSERT_OK(worker.Run());
  }
  const auto completed = coordinator.completed();
  ASSERT_EQ(completed.size(), 1u);
  std::map<std::string, v1::ItemResult> results;
  for (const auto& r : completed[0].results()) results[r.key()] = r;
  EXPECT_EQ(results["url-tiny"].outcome(), v1::ITEM_OUTCOME_OK);
  EXPECT_EQ(results["url-big"].outcome(), v1::ITEM_OUTCOME_FAILED);
  EXPECT_EQ(results["url-big"].reason(), "image_too_large");
}

TEST_F(WorkerTest, LostLeaseDiscardsTheOutput) {
  origin_.SetDelayMs(100);
  FakeCoordinator coordinator(Settings(), {Items(0, 40)});
  coordinator.set_steal_on_heartbeat(true);
  {
    Worker worker(Options(coordinator), Clock::Real());
    ASSERT_OK(worker.Run());
  }
  EXPECT_TRUE(coordinator.completed().empty());
  EXPECT_FALSE(std::filesystem::exists(dataset::ShardPath(dir_ / "data", 0)));
  ASSERT_OK_AND_ASSIGN(auto store, OpenRocksDbStateStore((dir_ / "state").string()));
  ASSERT_OK_AND_ASSIGN(auto samples, store->LoadSamples(0));
  EXPECT_TRUE(samples.empty());
  ASSERT_OK_AND_ASSIGN(auto items, store->ListItems(0));
  for (const auto& r : items) EXPECT_NE(r.outcome(), v1::ITEM_OUTCOME_OK) << r.key();
}

// Finding 3 of issue 13: a worker whose CompleteShard is refused (its tar was
// published, then another holder won) writes no stats.json, so it can never
// replace the accepted shard's, and leaves the published tar alone.
TEST_F(WorkerTest, RefusedCompletionWritesNoStats) {
  FakeCoordinator coordinator(Settings(), {Items(0, 10)});
  coordinator.set_steal_on_complete(true);
  {
    Worker worker(Options(coordinator), Clock::Real());
    ASSERT_OK(worker.Run());
  }
  EXPECT_TRUE(coordinator.completed().empty());
  EXPECT_TRUE(std::filesystem::exists(dataset::ShardPath(dir_ / "data", 0)));
  EXPECT_FALSE(std::filesystem::exists(dataset::ShardStatsPath(dir_ / "data", 0)));
}

// Runs a worker until it releases a lease (the disk fault), then calls
// `heal` and lets it finish the job (within 60 s in all); returns the
// releases seen before healing. The worker's result must be OK.
std::vector<v1::ReleaseShardRequest> RunUntilReleasedThenHeal(const WorkerOptions& options,
                                                             FakeCoordinator& coordinator,
                                                             const std::function<void()>& heal) {
  Worker worker(options, Clock::Real());
  absl::StatusOr<RunEnd> result = absl::UnknownError("Run() did not return");
  std::thread run([&] { result = worker.Run(); });
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  coordinator.AwaitReleased(deadline - absl::Now());
  auto released = coordinator.released();
  heal();
  if (!coordinator.AwaitAllDone(deadline - absl::Now())) worker.Stop();
  run.join();
  EXPECT_OK(result);
  return released;
}

// Finding 5 of issue 13: a full dataset disk (a small tmpfs, filled up)
// releases the lease and is waited out; once space is freed, the same worker
// commits the shard.
TEST_F(WorkerTest, FullDiskReleasesTheLeaseAndIsWaitedOut) {
  const std::filesystem::path data = dir_ / "data";
  std::filesystem::create_directories(data);
  if (RunCommand({"mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", data.string()}).exit_code != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
  }
  struct Unmount {
    std::filesystem::path path;
    ~Unmount() { RunCommand({"umount", path.string()}); }
  } unmount{data};
  {
    std::FILE* filler = std::fopen((data / "filler").c_str(), "wb");
    ASSERT_NE(filler, nullptr);
    const std::string block(4096, 'x');
    while (std::fwrite(block.data(), 1, block.size(), filler) == block.size() && std::fflush(filler) == 0) {
    }
    std::fclose(filler);
  }
  FakeCoordinator coordinator(Settings(), {Items(0, 10)});
  WorkerOptions options = Options(coordinator);
  options.disk_backoff = {absl::Milliseconds(50), absl::Milliseconds(200)};
  const auto released =
      RunUntilReleasedThenHeal(options, coordinator, [&] { std::filesystem::remove(data / "filler"); });
  ASSERT_FALSE(released.empty());
  EXPECT_EQ(released[0].shard_id(), 0u);
  ASSERT_TRUE(coordinator.all_done());
  ASSERT_EQ(coordinator.completed().size(), 1u);
  EXPECT_EQ(ReadKeys(dataset::ShardPath(data, 0)).size(), 10u);
}

// The same through the Env, where no tmpfs can be mounted: the shard's tar
// hits ENOSPC half way; the worker removes its temporary, releases the lease
// ("disk: ..."), backs off, and commits once the disk is healed.
TEST_F(WorkerTest, AFullDiskThroughTheEnvReleasesTheLeaseAndIsWaitedOut) {
  atelier::testing::FaultEnv env;
  env.FailAppendsAfter(2000, ENOSPC, ".tar.tmp-");
  FakeCoordinator coordinator(Settings(), {Items(0, 10)});
  WorkerOptions options = Options(coordinator);
  options.disk_backoff = {absl::Milliseconds(50), absl::Milliseconds(200)};
  options.env = &env;
  const auto released = RunUntilReleasedThenHeal(options, coordinator, [&] { env.Heal(); });
  ASSERT_FALSE(released.empty());
  EXPECT_EQ(released[0].shard_id(), 0u);
  EXPECT_THAT(released[0].reason(), ::testing::StartsWith("disk: "));
  EXPECT_GE(env.failures(atelier::testing::FaultEnv::Op::kAppend), 1);
  ASSERT_TRUE(coordinator.all_done());
  ASSERT_EQ(coordinator.completed().size(), 1u);
  EXPECT_EQ(ReadKeys(dataset::ShardPath(dir_ / "data", 0)).size(), 10u);
  EXPECT_EQ(atelier::testing::CountFilesUnder(dataset::ShardsDir(dir_ / "data")), 2u);  // the tar and its stats
}

// An I/O error (EIO) at the tar's fsync is a disk fault too (FileSystemError
// makes it UNAVAILABLE): the lease is released and the shard committed later.
TEST_F(WorkerTest, AnIoErrorAtTheFsyncIsWaitedOutLikeAFullDisk) {
  atelier::testing::FaultEnv env;
  env.Fail(atelier::testing::FaultEnv::Op::kSync, EIO, ".tar.tmp-", 1);
  FakeCoordinator coordinator(Settings(), {Items(0, 3)});
  WorkerOptions options = Options(coordinator);
  options.disk_backoff = {absl::Milliseconds(50), absl::Milliseconds(200)};
  options.env = &env;
  {
    Worker worker(options, Clock::Real());
    ASSERT_OK_AND_ASSIGN(RunEnd end, worker.Run());
    EXPECT_EQ(end, RunEnd::kJobDone);
  }
  const auto released = coordinator.released();
  ASSERT_EQ(released.size(), 1u);
  EXPECT_THAT(released[0].reason(), ::testing::StartsWith("disk: "));
  ASSERT_EQ(coordinator.completed().size(), 1u);
  EXPECT_EQ(atelier::testing::CountFilesUnder(dataset::ShardsDir(dir_ / "data")), 2u);
}

// Temporaries of shard 0 left by an earlier attempt (however fresh) are
// removed when shard 0 is leased again; another shard's temporary is not.
TEST_F(WorkerTest, LeasingAShardRemovesItsEarlierTemporaries) {
  const std::filesystem::path shards = dataset::ShardsDir(dir_ / "data");
  const auto tar_tmp = shards / "000000.tar.tmp-4242-00000000deadbeef";
  const auto stats_tmp = shards / "000000.stats.json.tmp-4242-0000000000000001";
  const auto other_tmp = shards / "000001.tar.tmp-4242-0000000000000002";
  for (const auto& path : {tar_tmp, stats_tmp, other_tmp}) atelier::testing::WriteFileOrDie(path, "partial");
  FakeCoordinator coordinator(Settings(), {Items(0, 3)});
  {
    Worker worker(Options(coordinator), Clock::Real());
    ASSERT_OK_AND_ASSIGN(RunEnd end, worker.Run());
    EXPECT_EQ(end, RunEnd::kJobDone);
  }
  ASSERT_EQ(coordinator.completed().size(), 1u);
  EXPECT_FALSE(std::filesystem::exists(tar_tmp));
  EXPECT_FALSE(std::filesystem::exists(stats_tmp));
  EXPECT_TRUE(std::filesystem::exists(other_tmp));
  EXPECT_TRUE(std::filesystem::exists(dataset::ShardPath(dir_ / "data", 0)));
}

// A temporary that vanished before the rename (a newer lease holder removed
// it) is not a failure: the worker checks its lease again and, still holding
// it, writes the shard again.
TEST_F(WorkerTest, AVanishedTemporarySendsTheCommitBackToTheLeaseCheck) {
  atelier::testing::FaultEnv env;
  env.Fail(atelier::testing::FaultEnv::Op::kRename, ENOENT, "000000.tar", 1);
  FakeCoordinator coordinator(Settings(), {Items(0, 3)});
  WorkerOptions options = Options(coordinator);
  options.env = &env;
  {
    Worker worker(options, Clock::Real());
    ASSERT_OK_AND_ASSIGN(RunEnd end, worker.Run());
    EXPECT_EQ(end, RunEnd::kJobDone);
  }
  EXPECT_TRUE(coordinator.released().empty());
  ASSERT_EQ(coordinator.completed().size(), 1u);
  EXPECT_EQ(env.failures(atelier::testing::FaultEnv::Op::kRename), 1);
  EXPECT_EQ(ReadKeys(dataset::ShardPath(dir_ / "data", 0)).size(), 3u);
  EXPECT_EQ(atelier::testing::CountFilesUnder(dataset::ShardsDir(dir_ / "data")), 2u);
}

// Sealed segments (issue 13, "moved work is not refetched"): every seal
// interval the worker writes what it made final to segments/ and seals it;
// each sealed file has the sealed sha256, no item is sealed twice, and after
// the accepted commit the segments are gone and the shard holds every item.
TEST_F(WorkerTest, SealsWhatItFetchedAsItGoesAndRemovesTheSegmentsAfterTheCommit) {
  origin_.SetDelayMs(30);
  auto items = Items(0, 60);
  items.push_back(UrlItem("url-dead", origin_.Url("/status/404")));
  v1::CrawlSettings settings = Settings();
  settings.set_seal_interval_ms(100);
  FakeCoordinator coordinator(settings, {items});
  coordinator.set_dataset_root((dir_ / "data").string());
  {
    Worker worker(Options(coordinator), Clock::Real());
    ASSERT_OK_AND_ASSIGN(RunEnd end, worker.Run());
    EXPECT_EQ(end, RunEnd::kJobDone);
  }
  const auto seals = coordinator.seals();
  ASSERT_GE(seals.size(), 2u);
  std::set<std::string> sealed;
  bool dead_link_sealed = false;
  for (const auto& seal : seals) {
    EXPECT_TRUE(seal.accepted);
    const v1::SealedSegment& segment = seal.request.segment();
    int ok = 0;
    for (const auto& r : segment.results()) {
      EXPECT_TRUE(sealed.insert(r.key()).second) << r.key() << " sealed twice";
      ok += r.outcome() == v1::ITEM_OUTCOME_OK;
    }
    for (const auto& d : segment.dead_links()) dead_link_sealed = dead_link_sealed || d.key() == "url-dead";
    if (ok > 0) {
      EXPECT_THAT(segment.path(), ::testing::StartsWith("segments/000000-"));
      EXPECT_EQ(seal.file_sha256, segment.sha256()) << segment.path();
    }
  }
  if (sealed.contains("url-dead")) {
    EXPECT_TRUE(dead_link_sealed);
  }
  ASSERT_EQ(coordinator.completed().size(), 1u);
  EXPECT_EQ(coordinator.completed()[0].results_size(), 61);
  EXPECT_EQ(atelier::testing::CountFilesUnder(dataset::SegmentsDir(dir_ / "data")), 0u);
  const auto keys = ReadKeys(dataset::ShardPath(dir_ / "data", 0));
  EXPECT_EQ(keys.size(), 60u);
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), 60u);
}

// A sealed segment of `keys` (OK, one 33x33 sample each) written to
// `relative` under `root`, as an earlier holder of shard 0 with token 1 would
// have sealed it.
v1::SealedSegment WriteSegment(const std::filesystem::path& root, const std::string& relative,
                               const std::vector<v1::WorkItem>& items) {
  v1::SealedSegment segment;
  segment.set_path(relative);
  segment.set_fencing_token(1);
  auto writer = dataset::ShardWriter::OpenFile(root / relative);
  EXPECT_OK(writer.status());
  if (!writer.ok()) return segment;
  for (const auto& item : items) {
    dataset::Sample sample;
    sample.meta.key = item.key();
    sample.meta.url = item.url();
    sample.meta.source = "url";
    sample.meta.width = sample.meta.height = 33;
    sample.image_bytes = testing::MakeJpeg(33, 33);
    EXPECT_OK((*writer)->Add(sample));
    v1::ItemResult* r = segment.add_results();
    r->set_key(item.key());
    r->set_outcome(v1::ITEM_OUTCOME_OK);
    r->set_attempts(1);
    r->set_samples_written(1);
    r->set_url(item.url());
  }
  auto committed = (*writer)->Commit();
  EXPECT_OK(committed.status());
  if (committed.ok()) segment.set_sha256(committed->sha256);
  return segment;
}

// The next holder of a shard takes over what earlier holders sealed: those
// items are not fetched again and their samples (not new ones) are in the
// shard; a segment whose tar is damaged gives up only its OK items, which are
// fetched again; its dead items stay dead. Segment files no seal names are
// removed at the lease, the taken-over ones after the commit.
TEST_F(WorkerTest, TakesOverSealedSegmentsAndFetchesOnlyTheRest) {
  const std::filesystem::path data = dir_ / "data";
  auto items = Items(0, 20);
  items.push_back(UrlItem("url-dead", origin_.Url("/status/404")));
  FakeCoordinator coordinator(Settings(), {items});
  v1::SealedSegment intact = WriteSegment(data, "segments/000000-1-0.tar", {items.begin(), items.begin() + 10});
  v1::SealedSegment damaged = WriteSegment(data, "segments/000000-1-1.tar", {items.begin() + 10, items.begin() + 15});
  v1::ItemResult* dead = damaged.add_results();
  dead->set_key("url-dead");
  dead->set_outcome(v1::ITEM_OUTCOME_DEAD);
  dead->set_reason("http_404");
  dead->set_http_status(404);
  dead->set_attempts(1);
  v1::DeadLink* link = damaged.add_dead_links();
  link->set_key("url-dead");
  link->set_url(items.back().url());
  link->set_reason("http_404");
  link->set_http_status(404);
  link->set_shard_id(0);
  {
    std::string bytes = atelier::testing::ReadFileOrEmpty(data / damaged.path());
    bytes[bytes.size() / 2] ^= 0x5a;
    atelier::testing::WriteFileOrDie(data / damaged.path(), bytes);
  }
  const auto unsealed = data / "segments/000000-1-2.tar";  // written, never accepted
  atelier::testing::WriteFileOrDie(unsealed, "an unaccepted segment");
  coordinator.AddSegment(0, intact);
  coordinator.AddSegment(0, damaged);
  {
    Worker worker(Options(coordinator), Clock::Real());
    ASSERT_OK_AND_ASSIGN(RunEnd end, worker.Run());
    EXPECT_EQ(end, RunEnd::kJobDone);
  }
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(origin_.Requests(absl::StrCat("/img/k", i, ".jpg")), i < 10 ? 0 : 1) << i;
  }
  EXPECT_EQ(origin_.Requests("/status/404"), 0);
  ASSERT_EQ(coordinator.completed().size(), 1u);
  const v1::CompleteShardRequest completed = coordinator.completed()[0];
  EXPECT_EQ(completed.results_size(), 21);
  EXPECT_EQ(completed.stats().ok(), 20);
  EXPECT_EQ(completed.stats().dead(), 1);
  ASSERT_EQ(completed.dead_links_size(), 1);
  EXPECT_EQ(completed.dead_links(0).key(), "url-dead");
  ASSERT_OK_AND_ASSIGN(auto reader, dataset::ShardReader::Open(dataset::ShardPath(data, 0)));
  std::map<std::string, int> widths;
  while (true) {
    ASSERT_OK_AND_ASSIGN(auto sample, reader->Next());
    if (!sample.has_value()) break;
    widths[sample->meta.key] = sample->meta.width;
  }
  ASSERT_EQ(widths.size(), 20u);
  for (int i = 0; i < 20; ++i) {
    // Taken over: the sealed 33x33 sample; fetched: resized to 48.
    EXPECT_EQ(widths[absl::StrCat("url-", i)], i < 10 ? 33 : 48) << i;
  }
  EXPECT_EQ(atelier::testing::CountFilesUnder(dataset::SegmentsDir(data)), 0u);
}

std::vector<std::string> CrawlerArgs(const FakeCoordinator& coordinator, const TempDir& dir) {
  return {atelier::testing::BinaryPath("atelier-crawler").string(), "--coordinator", coordinator.address(),
          "--state", (dir / "state").string(), "--data", (dir / "data").string(), "--concurrency", "4",
          "--allow-private-networks"};
}

// True once the origin has served `n` requests; false after `deadline`.

TEST_F(WorkerTest, KilledWorkerResumesWithoutRefetching) {
  origin_.SetDelayMs(20);
  FakeCoordinator coordinator(Settings(), {Items(0, 150)});
  {
    ChildProcess first(CrawlerArgs(coordinator, dir_), dir_ / "first.log");
    ASSERT_TRUE(origin_.AwaitTotalRequests(40, absl::Seconds(60))) << "the crawler made " << origin_.TotalRequests() << " requests in 60 s: "
                                              << atelier::testing::ReadFileOrEmpty(dir_ / "first.log");
    first.Kill(SIGKILL);
  }
  const auto before = origin_.RequestCounts();
  ChildProcess second(CrawlerArgs(coordinator, dir_), dir_ / "second.log");
  ASSERT_EQ(second.Wait(std::chrono::seconds(120)), 0) << atelier::testing::ReadFileOrEmpty(dir_ / "second.log");
  EXPECT_EQ(coordinator.registrations(), 2);
  ASSERT_EQ(coordinator.completed().size(), 1u);
  EXPECT_EQ(coordinator.completed()[0].results_size(), 150);
  EXPECT_EQ(coordinator.completed()[0].stats().ok(), 150);

  const auto after = origin_.RequestCounts();
  EXPECT_EQ(after.size(), 150u);
  int refetched = 0;
  for (const auto& [path, n] : after) {
    EXPECT_LE(n, 2) << path;
    if (n == 2) ++refetched;
  }
  // Only requests in flight at the kill (at most --concurrency) may be repeated.
  EXPECT_LE(refetched, 4);
  EXPECT_GE(before.size(), 40u);
  const auto keys = ReadKeys(dataset::ShardPath(dir_ / "data", 0));
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), 150u);
  EXPECT_EQ(keys.size(), 150u);
}

// The goal of issue 13's "moved work is not refetched": a worker SIGKILLed
// mid-shard that never comes back costs at most what it fetched after its
// last accepted seal. Another worker (its own state) takes the shard over
// once the lease is presumed dead.
TEST_F(WorkerTest, AKilledWorkerThatNeverReturnsCostsOnlyWhatItFetchedSinceItsLastSeal) {
  origin_.SetDelayMs(50);
  v1::CrawlSettings settings = Settings();
  settings.set_seal_interval_ms(300);
  FakeCoordinator coordinator(settings, {Items(0, 150)});
  int fetched_at_kill = 0, sealed_ok = 0;
  {
    ChildProcess first(CrawlerArgs(coordinator, dir_), dir_ / "first.log");
    ASSERT_TRUE(coordinator.AwaitAcceptedSeals(2, absl::Seconds(60)))
        << atelier::testing::ReadFileOrEmpty(dir_ / "first.log");
    first.Kill(SIGKILL);
    first.Wait(std::chrono::seconds(10));
    fetched_at_kill = static_cast<int>(origin_.RequestCounts().size());
    for (const auto& seal : coordinator.seals()) {
      if (!seal.accepted) continue;
      for (const auto& r : seal.request.segment().results()) sealed_ok += r.outcome() == v1::ITEM_OUTCOME_OK;
    }
  }
  ASSERT_GT(sealed_ok, 0);
  ASSERT_LT(fetched_at_kill, 150) << "the first crawler finished before it was killed";
  coordinator.ExpireLeases();
  std::vector<std::string> args = CrawlerArgs(coordinator, dir_);
  args[4] = (dir_ / "state-second").string();  // another worker: not the killed one back
  ChildProcess second(args, dir_ / "second.log");
  ASSERT_EQ(second.Wait(std::chrono::seconds(120)), 0) << atelier::testing::ReadFileOrEmpty(dir_ / "second.log");
  ASSERT_EQ(coordinator.completed().size(), 1u);
  EXPECT_EQ(coordinator.completed()[0].stats().ok(), 150);
  int refetched = 0;
  for (const auto& [path, n] : origin_.RequestCounts()) {
    EXPECT_LE(n, 2) << path;
    refetched += n - 1;
  }
  EXPECT_LE(refetched, fetched_at_kill - sealed_ok);
  const auto keys = ReadKeys(dataset::ShardPath(dir_ / "data", 0));
  EXPECT_EQ(keys.size(), 150u);
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), 150u);
}

// Stopped before the job is done: exit 75 (EX_TEMPFAIL, "run again to
// continue"), not 0, so that a Kubernetes Job does not count the index done.
TEST_F(WorkerTest, SigtermReleasesTheLeaseAndExits75) {
  origin_.SetDelayMs(50);
  FakeCoordinator coordinator(Settings(), {Items(0, 200)});
  ChildProcess child(CrawlerArgs(coordinator, dir_), dir_ / "crawler.log");
  ASSERT_TRUE(origin_.AwaitTotalRequests(10, absl::Seconds(60))) << "the crawler made " << origin_.TotalRequests() << " requests in 60 s: "
                                            << atelier::testing::ReadFileOrEmpty(dir_ / "crawler.log");
  ASSERT_EQ(kill(child.pid(), SIGTERM), 0);
  ASSERT_EQ(child.Wait(std::chrono::seconds(30)), 75) << atelier::testing::ReadFileOrEmpty(dir_ / "crawler.log");
  const auto released = coordinator.released();
  ASSERT_EQ(released.size(), 1u);
  EXPECT_EQ(released[0].reason(), "sigterm");
  EXPECT_TRUE(coordinator.completed().empty());
  EXPECT_FALSE(std::filesystem::exists(dataset::ShardPath(dir_ / "data", 0)));
  // What it had fetched was sealed before the release: the next holder skips it.
  const auto seals = coordinator.seals();
  ASSERT_FALSE(seals.empty());
  EXPECT_TRUE(seals.back().accepted);
  EXPECT_GT(seals.back().request.segment().results_size(), 0);
  EXPECT_TRUE(std::filesystem::exists(dir_ / "data" / seals.back().request.segment().path()));
}

TEST_F(WorkerTest, BadFlagsAreRefused) {
  auto r = RunCommand({atelier::testing::BinaryPath("atelier-crawler").string(), "--state", "/tmp/x"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.output, ::testing::HasSubstr("--coordinator"));
}

}  // namespace
}  // namespace atelier::crawler
