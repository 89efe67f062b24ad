// End to end: the real atelier-coordinator and two atelier-crawler processes
// crawl a few thousand loopback URLs; one crawler is SIGKILLed mid-shard and
// restarted. Afterwards every URL is exactly once in the shards or in the
// coordinator's dead/failed records, and every shard reads back intact with
// GNU tar and Python's tarfile. Also: a coordinator restart under a running
// crawler, and the crawler's exit codes (75 on SIGTERM before the end, 0 when
// the job is done). The coordinators listen on port 0 and tell their port
// through --port-file.
#include <signal.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "atelier/common/status_matchers.h"
#include "atelier/dataset/shard_paths.h"
#include "atelier/dataset/shard_reader.h"
#include "atelier/testing/subprocess.h"
#include "atelier/testing/temp_dir.h"
#include "test_images.h"
#include "test_origin.h"

namespace atelier::crawler {
namespace {

using ::atelier::crawler::testing::TestOrigin;
using ::atelier::testing::BinaryPath;
using ::atelier::testing::ChildProcess;
using ::atelier::testing::RunCommand;
using ::atelier::testing::TempDir;

constexpr int kGood = 2400, kDead = 60, kFailing = 20;

std::vector<nlohmann::json> JsonLines(const std::string& text) {
  std::vector<nlohmann::json> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (line.empty() || line.front() != '{') continue;
    out.push_back(nlohmann::json::parse(line.begin(), line.end()));
  }
  return out;
}

// A URL-list job over urls.txt beside the spec.
std::string JobYaml(const std::string& name, const std::filesystem::path& data, int shard_size, int lease_ttl_s) {
  return absl::StrCat("name: ", name, "\ndataset: ", data.string(), "\nshard_size: ", shard_size, R"(
sources:
  - urls: {file: urls.txt}
crawl:
  resize: {mode: center_crop, size: 32, jpeg_quality: 85}
  per_host: {concurrency: 16, requests_per_second: 100000}
  retries: 1
  timeout_s: 10
  lease_ttl_s: )", lease_ttl_s, R"(
  max_attempts: 10
)");
}

// The argv of a coordinator for dir/job.yaml with state dir/coordinator on
// 127.0.0.1:`port` (0: any free port) that writes its port to `port_file`.
std::vector<std::string> CoordinatorArgv(const TempDir& dir, int port, const std::filesystem::path& port_file) {
  return {BinaryPath("atelier-coordinator").string(), "--spec", (dir / "job.yaml").string(), "--state",
          (dir / "coordinator").string(), "--listen", absl::StrCat("127.0.0.1:", port), "--port-file",
          port_file.string()};
}

// Waits (at most 60 s) until `coordinator` has written `port_file` (it then
// serves) and sets `address` to 127.0.0.1:PORT; fails the test if it exits
// first or never does. The coordinator is a real process: real time.
void WaitForCoordinator(ChildProcess& coordinator, const std::filesystem::path& port_file,
                        const std::filesystem::path& log, std::string* address) {
  auto port = atelier::testing::WaitForPort(coordinator, port_file, "grpc_port", log);
  ASSERT_TRUE(port.ok()) << port.status();
  *address = absl::StrCat("127.0.0.1:", *port);
}

TEST(CrawlerEndToEnd, TwoWorkersOneKilledEveryUrlOnce) {
  TestOrigin origin;
  origin.SetDelayMs(15);
  std::vector<std::string> bodies;
  for (int i = 0; i < 16; ++i) bodies.push_back(testing::MakeJpeg(60 + i, 50));
  std::set<std::string> good, dead, failing;
  std::vector<std::string> in_file_order;  // shard k holds lines [100k, 100k + 100)
  TempDir dir("crawler-e2e");
  {
    std::ofstream list(dir / "urls.txt");
    for (int i = 0; i < kGood; ++i) {
      origin.AddImage(absl::StrCat("e", i, ".jpg"), bodies[i % bodies.size()]);
      good.insert(origin.Url(absl::StrCat("/img/e", i, ".jpg")));
    }
    for (int i = 0; i < kDead; ++i) dead.insert(origin.Url(absl::StrCat("/status/404?i=", i)));
    for (int i = 0; i < kFailing; ++i) failing.insert(origin.Url(absl::StrCat("/status/500?i=", i)));
    for (const auto* set : {&good, &dead, &failing}) {
      for (const auto& url : *set) {
        list << url << "\n";
        in_file_order.push_back(url);
      }
    }
  }
  atelier::testing::WriteFileOrDie(dir / "job.yaml", JobYaml("e2e", dir / "data", 100, 3));
  ChildProcess coordinator(CoordinatorArgv(dir, 0, dir / "coordinator.port"), dir / "coordinator.log");
  std::string address;
  WaitForCoordinator(coordinator, dir / "coordinator.port", dir / "coordinator.log", &address);
  if (HasFatalFailure()) return;
  auto status = [&](const std::string& flag) {
    std::vector<std::string> argv = {BinaryPath("atelier-status").string(), "--coordinator", address};
    if (!flag.empty()) argv.push_back(flag);
    return RunCommand(argv);
  };
  auto crawler = [&](const std::string& name) {
    return std::vector<std::string>{BinaryPath("atelier-crawler").string(), "--coordinator", address, "--state",
                                    (dir / ("state-" + name)).string(), "--data", (dir / "data").string(),
                                    "--concurrency", "8", "--allow-private-networks"};
  };
  ChildProcess b(crawler("b"), dir / "b.log");
  {
    ChildProcess a(crawler("a"), dir / "a.log");
    // Kill `a` in the middle of a shard: it holds shard n (its log says so, and
    // it is not its first) and the origin has served 30..89 of that shard's URLs.
    const std::string prefix = origin.Url("");
    const std::regex leased("leased shard ([0-9]+)");
    while (true) {
      ASSERT_TRUE(a.running()) << atelier::testing::ReadFileOrEmpty(dir / "a.log");
      const std::string log = atelier::testing::ReadFileOrEmpty(dir / "a.log");
      std::vector<int> shards_of_a;
      for (std::sregex_iterator it(log.begin(), log.end(), leased), end; it != end; ++it) {
        shards_of_a.push_back(std::stoi((*it)[1]));
      }
      if (shards_of_a.size() >= 2 && shards_of_a.back() < kGood / 100) {
        const int n = shards_of_a.back();
        int served = 0;
        for (int i = 100 * n; i < 100 * n + 100; ++i) served += origin.Requests(in_file_order[i].substr(prefix.size())) > 0;
        if (served >= 30 && served < 90) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    a.Kill(SIGKILL);
  }
  ChildProcess a2(crawler("a"), dir / "a2.log");
  ASSERT_EQ(b.Wait(std::chrono::seconds(240)), 0) << atelier::testing::ReadFileOrEmpty(dir / "b.log");
  ASSERT_EQ(a2.Wait(std::chrono::seconds(60)), 0) << atelier::testing::ReadFileOrEmpty(dir / "a2.log");

  auto final_status = status("--json");
  ASSERT_EQ(final_status.exit_code, 0) << final_status.output;
  const auto lines = JsonLines(final_status.output);
  ASSERT_FALSE(lines.empty()) << final_status.output;
  const nlohmann::json& st = lines.back();
  EXPECT_TRUE(st["done"].get<bool>()) << st.dump();
  EXPECT_EQ(st["items_ok"].get<int64_t>(), kGood) << st.dump();
  EXPECT_EQ(st["items_dead"].get<int64_t>(), kDead) << st.dump();
  EXPECT_EQ(st["items_failed"].get<int64_t>(), kFailing) << st.dump();

  // Every good URL exactly once in the shards; shards intact for tar and Python.
  ASSERT_OK_AND_ASSIGN(auto shards, dataset::ListShards(dir / "data"));
  EXPECT_EQ(shards.size(), static_cast<size_t>((kGood + kDead + kFailing + 99) / 100));
  std::map<std::string, int> in_shards;
  for (const auto& shard : shards) {
    ASSERT_OK_AND_ASSIGN(auto reader, dataset::ShardReader::Open(shard));
    int samples = 0;
    while (true) {
      ASSERT_OK_AND_ASSIGN(auto sample, reader->Next());
      if (!sample.has_value()) break;
      ++in_shards[sample->meta.url];
      ++samples;
    }
    auto tar = RunCommand({"tar", "-tf", shard.string()});
    EXPECT_EQ(tar.exit_code, 0) << shard << tar.output;
    EXPECT_EQ(std::count(tar.output.begin(), tar.output.end(), '\n'), 2 * samples) << shard;
    auto py = RunCommand({"/usr/bin/python3", "-c",
                          "import sys, tarfile\n"
                          "t = tarfile.open(sys.argv[1])\n"
                          "print(sum(len(t.extractfile(m).read()) == m.size for m in t.getmembers()))\n",
                          shard.string()});
    EXPECT_EQ(py.output, absl::StrCat(2 * samples, "\n")) << shard;
  }
  EXPECT_EQ(in_shards.size(), good.size());
  for (const auto& [url, n] : in_shards) {
    EXPECT_EQ(n, 1) << url;
    EXPECT_EQ(good.count(url), 1u) << url;
  }

  // Dead and failed records: exactly the 404 and 500 URLs, once each.
  auto dead_out = status("--dead-links");
  ASSERT_EQ(dead_out.exit_code, 0) << dead_out.output;
  std::map<std::string, int> dead_seen;
  for (const auto& d : JsonLines(dead_out.output)) ++dead_seen[d["url"].get<std::string>()];
  EXPECT_EQ(dead_seen.size(), dead.size());
  for (const auto& [url, n] : dead_seen) {
    EXPECT_EQ(n, 1) << url;
    EXPECT_EQ(dead.count(url), 1u) << url;
  }
  auto failed_out = status("--failed-items");
  ASSERT_EQ(failed_out.exit_code, 0) << failed_out.output;
  std::map<std::string, int> failed_seen;
  for (const auto& f : JsonLines(failed_out.output)) ++failed_seen[f["url"].get<std::string>()];
  EXPECT_EQ(failed_seen.size(), failing.size());
  for (const auto& [url, n] : failed_seen) {
    EXPECT_EQ(n, 1) << url;
    EXPECT_EQ(failing.count(url), 1u) << url;
  }
}

// Finding 1 of issue 13: the coordinator is SIGKILLed while a crawler runs and
// restarted on the same --state and port a few seconds later. The crawler
// finishes the shard it holds during the outage, waits to commit it, does not
// exit, and the job finishes with every URL exactly once.
TEST(CrawlerEndToEnd, CrawlerRidesOutACoordinatorRestart) {
  constexpr int kUrls = 1000, kShard = 50;
  TestOrigin origin;
  origin.SetDelayMs(20);
  const std::string jpeg = testing::MakeJpeg(64, 48);
  TempDir dir("crawler-outage");
  std::vector<std::string> urls;
  {
    std::ofstream list(dir / "urls.txt");
    for (int i = 0; i < kUrls; ++i) {
      origin.AddImage(absl::StrCat("o", i, ".jpg"), jpeg);
      urls.push_back(origin.Url(absl::StrCat("/img/o", i, ".jpg")));
    }
    // The list is sorted the way the coordinator shards it (file order).
    for (const auto& url : urls) list << url << "\n";
  }
  atelier::testing::WriteFileOrDie(dir / "job.yaml", JobYaml("outage", dir / "data", 50, 60));
  std::string address;
  auto status_json = [&] {
    return RunCommand({BinaryPath("atelier-status").string(), "--coordinator", address, "--json"});
  };
  auto committed = [&] {
    std::set<int> out;
    for (int n = 0; n < kUrls / kShard; ++n) {
      if (std::filesystem::exists(dataset::ShardPath(dir / "data", n))) out.insert(n);
    }
    return out;
  };
  auto first = std::make_unique<ChildProcess>(CoordinatorArgv(dir, 0, dir / "coordinator1.port"),
                                              dir / "coordinator1.log");
  WaitForCoordinator(*first, dir / "coordinator1.port", dir / "coordinator1.log", &address);
  if (HasFatalFailure()) return;
  const int port = std::stoi(address.substr(address.rfind(':') + 1));
  ChildProcess crawler({BinaryPath("atelier-crawler").string(), "--coordinator", address, "--state",
                        (dir / "state").string(), "--data", (dir / "data").string(), "--concurrency", "4",
                        "--allow-private-networks"},
                       dir / "crawler.log");
  // Served URLs of the shards not committed yet (shard n holds lines [50n, 50n + 50)).
  auto served_of = [&](int n) {
    int served = 0;
    for (int i = n * kShard; i < (n + 1) * kShard; ++i) served += origin.Requests(absl::StrCat("/img/o", i, ".jpg")) > 0;
    return served;
  };
  auto mid_shard = [&] {
    const std::set<int> done = committed();
    if (done.size() < 2) return false;
    for (int n = 0; n < kUrls / kShard; ++n) {
      if (done.count(n) == 0 && served_of(n) >= 5 && served_of(n) < 40) return true;
    }
    return false;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!mid_shard()) {
    ASSERT_TRUE(crawler.running()) << atelier::testing::ReadFileOrEmpty(dir / "crawler.log");
    ASSERT_LT(std::chrono::steady_clock::now(), deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  first->Kill(SIGKILL);
  first.reset();
  const std::set<int> before_outage = committed();
  ASSERT_LT(before_outage.size(), static_cast<size_t>(kUrls / kShard - 2)) << "the crawl ran too fast";
  // Down long enough for the crawler to finish the shard it holds.
  std::this_thread::sleep_for(std::chrono::seconds(4));
  ASSERT_TRUE(crawler.running()) << atelier::testing::ReadFileOrEmpty(dir / "crawler.log");
  // Some shard that was not committed has all of its URLs fetched: it is
  // finished and waiting for the coordinator.
  int finished_waiting = 0;
  for (int n = 0; n < kUrls / kShard; ++n) finished_waiting += before_outage.count(n) == 0 && served_of(n) == kShard;
  EXPECT_GE(finished_waiting, 1);
  EXPECT_EQ(committed(), before_outage);

  // The restart listens on the port the first one reported, as a real
  // restart does (the crawler knows only that address). The killed
  // coordinator released it; gRPC binds with SO_REUSEADDR, so connections left
  // in TIME_WAIT do not stand in the way.
  ChildProcess second(CoordinatorArgv(dir, port, dir / "coordinator2.port"), dir / "coordinator2.log");
  std::string second_address;
  WaitForCoordinator(second, dir / "coordinator2.port", dir / "coordinator2.log", &second_address);
  if (HasFatalFailure()) return;
  EXPECT_EQ(second_address, address);
  ASSERT_EQ(crawler.Wait(std::chrono::seconds(120)), 0) << atelier::testing::ReadFileOrEmpty(dir / "crawler.log");

  auto final_status = status_json();
  ASSERT_EQ(final_status.exit_code, 0) << final_status.output;
  const auto lines = JsonLines(final_status.output);
  ASSERT_FALSE(lines.empty()) << final_status.output;
  EXPECT_TRUE(lines.back()["done"].get<bool>()) << lines.back().dump();
  EXPECT_EQ(lines.back()["items_ok"].get<int64_t>(), kUrls) << lines.back().dump();
  ASSERT_OK_AND_ASSIGN(auto shards, dataset::ListShards(dir / "data"));
  EXPECT_EQ(shards.size(), static_cast<size_t>(kUrls / kShard));
  std::map<std::string, int> in_shards;
  for (const auto& shard : shards) {
    ASSERT_OK_AND_ASSIGN(auto reader, dataset::ShardReader::Open(shard));
    while (true) {
      ASSERT_OK_AND_ASSIGN(auto sample, reader->Next());
      if (!sample.has_value()) break;
      ++in_shards[sample->meta.url];
    }
  }
  EXPECT_EQ(in_shards.size(), urls.size());
  for (const auto& url : urls) EXPECT_EQ(in_shards[url], 1) << url;
}

// Issue 17: a crawler stopped by SIGTERM before the crawl is done exits 75
// (EX_TEMPFAIL: run again to continue) after releasing its lease, so that a
// Kubernetes Indexed Job does not count an evicted crawler's index as
// completed; it exits 0 only when the coordinator says the job is done, also
// when it starts after the crawl is over.
// Issue 13, "moved work is not refetched", with the real coordinator: a
// crawler seals every half second and is SIGKILLed mid-shard for good; when
// its lease has expired another crawler leases the shard with the sealed
// segments and fetches again at most what the killed one fetched after its
// last accepted seal (the sealed items it logs). Every URL is once in the
// shard, and no segment file is left.
TEST(CrawlerEndToEnd, AShardThatMovesIsNotFetchedAgain) {
  constexpr int kUrls = 300;
  TestOrigin origin;
  origin.SetDelayMs(40);
  const std::string jpeg = testing::MakeJpeg(64, 48);
  TempDir dir("crawler-sealed");
  {
    std::ofstream list(dir / "urls.txt");
    for (int i = 0; i < kUrls; ++i) {
      origin.AddImage(absl::StrCat("s", i, ".jpg"), jpeg);
      list << origin.Url(absl::StrCat("/img/s", i, ".jpg")) << "\n";
    }
  }
  std::string yaml = JobYaml("sealed", dir / "data", kUrls, 2);
  yaml += "  seal_interval_s: 0.5\n";
  atelier::testing::WriteFileOrDie(dir / "job.yaml", yaml);
  ChildProcess coordinator(CoordinatorArgv(dir, 0, dir / "coordinator.port"), dir / "coordinator.log");
  std::string address;
  WaitForCoordinator(coordinator, dir / "coordinator.port", dir / "coordinator.log", &address);
  if (HasFatalFailure()) return;
  auto crawler = [&](const std::string& name) {
    return std::vector<std::string>{BinaryPath("atelier-crawler").string(), "--coordinator", address, "--state",
                                    (dir / ("state-" + name)).string(), "--data", (dir / "data").string(),
                                    "--concurrency", "4", "--name", name, "--allow-private-networks"};
  };
  const std::regex sealed_line("sealed ([0-9]+) items \\(seal ([0-9]+)\\)");
  int fetched_at_kill = 0, sealed = 0;
  {
    ChildProcess a(crawler("a"), dir / "a.log");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (true) {
      ASSERT_TRUE(a.running()) << atelier::testing::ReadFileOrEmpty(dir / "a.log");
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << atelier::testing::ReadFileOrEmpty(dir / "a.log");
      const std::string log = atelier::testing::ReadFileOrEmpty(dir / "a.log");
      int seals = 0;
      for (std::sregex_iterator it(log.begin(), log.end(), sealed_line), end; it != end; ++it) ++seals;
      if (seals >= 2) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    a.Kill(SIGKILL);
    a.Wait(std::chrono::seconds(10));
    fetched_at_kill = static_cast<int>(origin.RequestCounts().size());
    const std::string log = atelier::testing::ReadFileOrEmpty(dir / "a.log");
    for (std::sregex_iterator it(log.begin(), log.end(), sealed_line), end; it != end; ++it) {
      sealed += std::stoi((*it)[1]);
    }
  }
  ASSERT_GT(sealed, 0);
  ASSERT_LT(fetched_at_kill, kUrls) << "the crawler finished before it was killed";
  ChildProcess b(crawler("b"), dir / "b.log");
  ASSERT_EQ(b.Wait(std::chrono::seconds(120)), 0) << atelier::testing::ReadFileOrEmpty(dir / "b.log");
  int refetched = 0;
  for (const auto& [path, n] : origin.RequestCounts()) refetched += n - 1;
  EXPECT_LE(refetched, fetched_at_kill - sealed) << atelier::testing::ReadFileOrEmpty(dir / "b.log");
  ASSERT_OK_AND_ASSIGN(auto shards, dataset::ListShards(dir / "data"));
  ASSERT_EQ(shards.size(), 1u);
  ASSERT_OK_AND_ASSIGN(auto reader, dataset::ShardReader::Open(shards[0]));
  std::map<std::string, int> urls;
  while (true) {
    ASSERT_OK_AND_ASSIGN(auto sample, reader->Next());
    if (!sample.has_value()) break;
    ++urls[sample->meta.url];
  }
  EXPECT_EQ(urls.size(), static_cast<size_t>(kUrls));
  for (const auto& [url, n] : urls) EXPECT_EQ(n, 1) << url;
  EXPECT_EQ(atelier::testing::CountFilesUnder(dir / "data" / "segments"), 0u);
}

TEST(CrawlerEndToEnd, SigtermBeforeTheEndExits75DoneCrawlExits0) {
  constexpr int kUrls = 600;
  TestOrigin origin;
  origin.SetDelayMs(20);
  const std::string jpeg = testing::MakeJpeg(64, 48);
  TempDir dir("crawler-exit-codes");
  {
    std::ofstream list(dir / "urls.txt");
    for (int i = 0; i < kUrls; ++i) {
      origin.AddImage(absl::StrCat("x", i, ".jpg"), jpeg);
      list << origin.Url(absl::StrCat("/img/x", i, ".jpg")) << "\n";
    }
  }
  // A lease TTL far beyond the test's waits: only a release frees the shard.
  atelier::testing::WriteFileOrDie(dir / "job.yaml", JobYaml("exit-codes", dir / "data", 50, 300));
  ChildProcess coordinator(CoordinatorArgv(dir, 0, dir / "coordinator.port"), dir / "coordinator.log");
  std::string address;
  WaitForCoordinator(coordinator, dir / "coordinator.port", dir / "coordinator.log", &address);
  if (HasFatalFailure()) return;
  auto status_json = [&]() -> nlohmann::json {
    auto r = RunCommand({BinaryPath("atelier-status").string(), "--coordinator", address, "--json"});
    const auto lines = JsonLines(r.output);
    if (r.exit_code != 0 || lines.empty()) return nullptr;
    return lines.back();
  };
  auto crawler = [&](const std::string& name) {
    return std::vector<std::string>{BinaryPath("atelier-crawler").string(), "--coordinator", address, "--state",
                                    (dir / ("state-" + name)).string(), "--data", (dir / "data").string(),
                                    "--concurrency", "4", "--name", name, "--allow-private-networks"};
  };

  {
    ChildProcess a(crawler("a"), dir / "a.log");
    // Mid-crawl: the origin has served some URLs and the coordinator shows a lease.
    auto leased = [&] {
      nlohmann::json st = status_json();
      return !st.is_null() && st["shards_leased"].get<int64_t>() >= 1;
    };
    const auto lease_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (origin.TotalRequests() < 20 || !leased()) {
      ASSERT_TRUE(a.running()) << atelier::testing::ReadFileOrEmpty(dir / "a.log");
      ASSERT_LT(std::chrono::steady_clock::now(), lease_deadline) << "no lease in 60 s";
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_EQ(kill(a.pid(), SIGTERM), 0);
    ASSERT_EQ(a.Wait(std::chrono::seconds(30)), 75) << atelier::testing::ReadFileOrEmpty(dir / "a.log");
  }
  nlohmann::json after_term = status_json();
  ASSERT_FALSE(after_term.is_null());
  EXPECT_FALSE(after_term["done"].get<bool>()) << after_term.dump();
  EXPECT_LT(after_term["items_ok"].get<int64_t>(), kUrls) << after_term.dump();
  // Released, not left to expire (the TTL is 300 s).
  EXPECT_EQ(after_term["shards_leased"].get<int64_t>(), 0) << after_term.dump();
  for (const auto& w : after_term["workers"]) EXPECT_TRUE(w["leased_shards"].empty()) << w.dump();

  // The same worker started again finishes the crawl: exit 0.
  ChildProcess again(crawler("a"), dir / "a2.log");
  ASSERT_EQ(again.Wait(std::chrono::seconds(120)), 0) << atelier::testing::ReadFileOrEmpty(dir / "a2.log");
  nlohmann::json done = status_json();
  ASSERT_FALSE(done.is_null());
  EXPECT_TRUE(done["done"].get<bool>()) << done.dump();
  EXPECT_EQ(done["items_ok"].get<int64_t>(), kUrls) << done.dump();

  // A crawler started after the crawl is done exits 0 at once.
  ChildProcess late(crawler("late"), dir / "late.log");
  EXPECT_EQ(late.Wait(std::chrono::seconds(30)), 0) << atelier::testing::ReadFileOrEmpty(dir / "late.log");
}

}  // namespace
}  // namespace atelier::crawler
