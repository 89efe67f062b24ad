// Multi-process test: the real atelier-coordinator process, three fake
// workers (gRPC clients on threads) that lease, heartbeat, report progress,
// complete, and one that crashes (stops heartbeating); the coordinator is
// SIGKILLed and restarted on the same state in the middle. At the end every
// item is in exactly one final state, and `atelier-status --json` prints the
// same counts. Also checks grpc.health.v1 and server reflection on the port.
// The coordinator listens on port 0 and tells its port through --port-file.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "atelier/common/fake_clock.h"
#include "atelier/common/status_matchers.h"
#include "atelier/kv/rocksdb_kv_store.h"
#include "atelier/coordinator/shard_table.h"
#include "atelier/dataset/shard_writer.h"
#include "test_items.h"
#include "atelier/testing/subprocess.h"
#include "atelier/testing/temp_dir.h"
#include "atelier/v1/crawl.grpc.pb.h"
#include "atelier/v1/status.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace atelier::coordinator {
namespace {

using ::atelier::testing::BinaryPath;
using ::atelier::testing::ChildProcess;
using ::atelier::testing::RunCommand;
using ::atelier::testing::TempDir;
using ::atelier::testing::WriteFileOrDie;
using ::testing::HasSubstr;

constexpr int kItems = 60;
constexpr int kShardSize = 4;

// The outcome a fake worker reports for URL number n.
v1::ItemOutcome OutcomeFor(int n) {
  if (n % 10 == 3) return v1::ITEM_OUTCOME_DEAD;
  if (n % 7 == 5) return v1::ITEM_OUTCOME_FAILED;
  return v1::ITEM_OUTCOME_OK;
}

void Pause() { std::this_thread::sleep_for(std::chrono::milliseconds(50)); }

class Coordinator {
 public:
  explicit Coordinator(const TempDir& dir) : dir_(dir) {}
  // Starts the coordinator and waits until it serves; false (with a test
  // failure) when it does not. The first start listens on port 0 and reads
  // the port it bound from --port-file. A restart listens on that same port
  // again, as a real restart does (the workers' channels point at it): the
  // killed coordinator just released it, and gRPC binds with SO_REUSEADDR, so
  // connections it left in TIME_WAIT do not stand in the way.
  bool Start() {
    ++starts_;
    const std::filesystem::path port_file = dir_ / absl::StrCat("coordinator-", starts_, ".port");
    const std::filesystem::path log = dir_ / absl::StrCat("coordinator-", starts_, ".log");
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{BinaryPath("atelier-coordinator").string(), "--spec",
                                 (dir_ / "job.yaml").string(), "--state", (dir_ / "state").string(),
                                 "--listen", address(), "--port-file", port_file.string()},
        log);
    auto port = atelier::testing::WaitForPort(*process_, port_file, "grpc_port", log);
    if (!port.ok()) {
      ADD_FAILURE() << "start " << starts_ << ": " << port.status();
      return false;
    }
    if (port_ != 0) {
      EXPECT_EQ(*port, port_);
    }
    port_ = *port;
    return true;
  }
  int Kill(int sig) { return process_->Kill(sig); }
  // 127.0.0.1:0 before the first start.
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

 private:
  const TempDir& dir_;
  int port_ = 0;
  int starts_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

// Calls `rpc` until it does not fail with UNAVAILABLE (coordinator restarting).
template <typename Rpc>
grpc::Status Retry(Rpc rpc) {
  for (int i = 0;; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Status s = rpc(ctx);
    if (s.error_code() != grpc::StatusCode::UNAVAILABLE || i > 1200) return s;
    Pause();
  }
}

struct Ledger {  // what the coordinator accepted, by item key
  absl::Mutex mu;
  std::map<std::string, v1::ItemOutcome> final_state ABSL_GUARDED_BY(mu);
  std::map<std::string, int> accepted_times ABSL_GUARDED_BY(mu);
  int stale_refused ABSL_GUARDED_BY(mu) = 0;
};

class FakeWorker {
 public:
  FakeWorker(const std::string& address, std::string name, Ledger& ledger)
      : stub_(v1::CrawlService::NewStub(
            grpc::CreateChannel(address, grpc::InsecureChannelCredentials()))),
        name_(std::move(name)), ledger_(ledger) {}

  void Register() {
    v1::RegisterWorkerRequest req;
    req.set_hostname("localhost");
    req.set_worker_name(name_);
    req.set_concurrency(4);
    v1::RegisterWorkerResponse resp;
    ASSERT_TRUE(Retry([&](auto& ctx) { return stub_->RegisterWorker(&ctx, req, &resp); }).ok());
    id_ = resp.worker_id();
    EXPECT_EQ(resp.settings().lease_ttl_ms(), 2000);
    EXPECT_EQ(resp.job_name(), "process-test");
  }

  // Leases one shard and then "crashes": never heartbeats or completes it.
  v1::LeaseShardResponse LeaseAndCrash() {
    v1::LeaseShardResponse lease;
    v1::LeaseShardRequest req;
    req.set_worker_id(id_);
    EXPECT_TRUE(Retry([&](auto& ctx) { return stub_->LeaseShard(&ctx, req, &lease); }).ok());
    EXPECT_TRUE(lease.has_shard());
    return lease;
  }

  // After coming back from the "crash", completing with the old token is refused.
  void CompleteStale(const v1::LeaseShardResponse& lease) {
    v1::CompleteShardRequest req = Completion(lease);
    v1::CompleteShardResponse resp;
    grpc::Status s = Retry([&](auto& ctx) { return stub_->CompleteShard(&ctx, req, &resp); });
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
    absl::MutexLock lock(&ledger_.mu);
    ++ledger_.stale_refused;
  }

  // Works until the coordinator says the job is done, at most 5 minutes.
  // Runs on a helper thread: failures are reported with ADD_FAILURE only.
  void Run() {
    const auto until = std::chrono::steady_clock::now() + std::chrono::minutes(5);
    while (true) {
      if (std::chrono::steady_clock::now() >= until) {
        ADD_FAILURE() << name_ << ": the job did not end within 5 minutes";
        return;
      }
      v1::LeaseShardRequest req;
      req.set_worker_id(id_);
      v1::LeaseShardResponse lease;
      grpc::Status s = Retry([&](auto& ctx) { return stub_->LeaseShard(&ctx, req, &lease); });
      if (!s.ok()) {
        ADD_FAILURE() << name_ << ": LeaseShard: " << s.error_message();
        return;
      }
      if (!lease.has_shard()) {
        if (lease.job_done()) return;
        Pause();
        continue;
      }
      v1::HeartbeatRequest hb;
      hb.set_worker_id(id_);
      hb.set_shard_id(lease.shard_id());
      hb.set_fencing_token(lease.fencing_token());
      v1::HeartbeatResponse beat;
      if (!Retry([&](auto& ctx) { return stub_->Heartbeat(&ctx, hb, &beat); }).ok()) {
        ADD_FAILURE() << name_ << ": Heartbeat failed";
        return;
      }
      if (!beat.ok()) continue;  // lost it already (a restart took too long)
      v1::ReportProgressRequest progress;
      progress.set_worker_id(id_);
      progress.set_shard_id(lease.shard_id());
      progress.set_fencing_token(lease.fencing_token());
      *progress.add_results() = Completion(lease).results(0);
      progress.set_bytes_downloaded(10);
      v1::ReportProgressResponse pr;
      if (!Retry([&](auto& ctx) { return stub_->ReportProgress(&ctx, progress, &pr); }).ok()) {
        ADD_FAILURE() << name_ << ": ReportProgress failed";
        return;
      }
      v1::CompleteShardRequest done = Completion(lease);
      v1::CompleteShardResponse resp;
      s = Retry([&](auto& ctx) { return stub_->CompleteShard(&ctx, done, &resp); });
      if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION) continue;  // lease lost
      if (!s.ok() || !resp.accepted()) {
        ADD_FAILURE() << name_ << ": CompleteShard: " << s.error_message() << " accepted=" << resp.accepted();
        return;
      }
      absl::MutexLock lock(&ledger_.mu);
      for (const auto& r : done.results()) {
        ledger_.final_state[r.key()] = r.outcome();
        ++ledger_.accepted_times[r.key()];
      }
    }
  }

 private:
  v1::CompleteShardRequest Completion(const v1::LeaseShardResponse& lease) {
    v1::CompleteShardRequest req;
    req.set_worker_id(id_);
    req.set_shard_id(lease.shard_id());
    req.set_fencing_token(lease.fencing_token());
    for (const auto& item : lease.items()) {
      const int n = std::stoi(item.url().substr(item.url().rfind('/') + 1));
      auto* r = req.add_results();
      r->set_key(item.key());
      r->set_outcome(OutcomeFor(n));
      r->set_reason(OutcomeFor(n) == v1::ITEM_OUTCOME_DEAD     ? "http_404"
                    : OutcomeFor(n) == v1::ITEM_OUTCOME_FAILED ? "timeout"
                                                               : "");
      r->set_attempts(1);
      r->set_url(item.url());
      req.mutable_stats()->set_items(req.stats().items() + 1);
      req.mutable_stats()->set_bytes_downloaded(req.stats().bytes_downloaded() + 100);
    }
    req.set_shard_path(absl::StrCat("shards/", lease.shard_id(), ".tar"));
    return req;
  }

  std::unique_ptr<v1::CrawlService::Stub> stub_;
  std::string name_;
  std::string id_;
  Ledger& ledger_;
};

std::string ToString(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

grpc::ByteBuffer ToBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

// One raw gRPC call through the generic stub (the health and reflection
// protos are not generated in this project): writes `request` (serialized
// proto bytes), returns the first response message's bytes.
std::string RawCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                    const std::string& request) {
  grpc::CompletionQueue cq;
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto call = stub.PrepareCall(&ctx, method, &cq);
  void* tag = nullptr;
  bool ok = false;
  auto step = [&](intptr_t id) {
    EXPECT_TRUE(cq.Next(&tag, &ok));
    EXPECT_EQ(reinterpret_cast<intptr_t>(tag), id);
    return ok;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  step(1);
  call->Write(ToBuffer(request), reinterpret_cast<void*>(2));
  step(2);
  call->WritesDone(reinterpret_cast<void*>(3));
  step(3);
  grpc::ByteBuffer response;
  call->Read(&response, reinterpret_cast<void*>(4));
  const bool got = step(4);
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  step(5);
  EXPECT_TRUE(status.ok()) << method << ": " << status.error_message();
  return got ? ToString(response) : std::string();
}

v1::JobStatus GetStatus(v1::StatusService::Stub& stub) {
  v1::JobStatus st;
  Retry([&](auto& ctx) { return stub.GetStatus(&ctx, v1::GetStatusRequest(), &st); });
  return st;
}

TEST(CoordinatorProcessTest, WorkersCrashCoordinatorRestartsEveryItemEndsOnce) {
  TempDir dir("coordproc");
  std::string list;
  for (int n = 0; n < kItems; ++n) absl::StrAppend(&list, "http://127.0.0.1:9/img/", n, "\n");
  WriteFileOrDie(dir / "list.txt", list);
  WriteFileOrDie(dir / "job.yaml", absl::StrCat("name: process-test\ndataset: data\nshard_size: ",
                                                kShardSize,
                                                "\nsources:\n  - urls: {file: list.txt}\n"
                                                "crawl:\n  lease_ttl_s: 2\n  max_attempts: 4\n"));
  Coordinator coordinator(dir);
  ASSERT_TRUE(coordinator.Start());
  auto channel = grpc::CreateChannel(coordinator.address(), grpc::InsecureChannelCredentials());
  auto status = v1::StatusService::NewStub(channel);
  EXPECT_EQ(GetStatus(*status).crawl().items_total(), kItems);
  // grpc.health.v1: Check("") answers SERVING (field 1 = 1).
  EXPECT_EQ(RawCall(channel, "/grpc.health.v1.Health/Check", ""), std::string("\x08\x01", 2));
  // Reflection: list_services (field 7, empty string) names our services.
  const std::string services = RawCall(
      channel, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
      std::string("\x3a\x00", 2));
  EXPECT_THAT(services, HasSubstr("atelier.v1.CrawlService"));
  EXPECT_THAT(services, HasSubstr("atelier.v1.StatusService"));

  Ledger ledger;
  FakeWorker crasher(coordinator.address(), "crasher", ledger);
  FakeWorker w1(coordinator.address(), "w1", ledger), w2(coordinator.address(), "w2", ledger);
  crasher.Register();
  w1.Register();
  w2.Register();
  const v1::LeaseShardResponse abandoned = crasher.LeaseAndCrash();

  std::thread t1([&] { w1.Run(); });
  std::thread t2([&] { w2.Run(); });
  // Kill the coordinator (no goodbye) once some shards are done; restart it.
  const auto some_done_by = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  while (GetStatus(*status).crawl().shards_done() < 4 && std::chrono::steady_clock::now() < some_done_by) Pause();
  EXPECT_GE(GetStatus(*status).crawl().shards_done(), 4) << "4 shards were not done within 2 minutes";
  EXPECT_EQ(coordinator.Kill(SIGKILL), 128 + SIGKILL);
  // No ASSERT: the worker threads must be joined (they give up on their own).
  EXPECT_TRUE(coordinator.Start());

  // Watch the crawl to its end over the stream (it closes when done).
  {
    v1::WatchStatusRequest req;
    req.set_interval_ms(100);
    v1::JobStatus update;
    int updates = 0;
    const auto watch_until = std::chrono::system_clock::now() + std::chrono::minutes(5);
    while (true) {
      grpc::ClientContext watch_ctx;
      watch_ctx.set_deadline(watch_until);
      auto r = status->WatchStatus(&watch_ctx, req);
      while (r->Read(&update)) ++updates;
      grpc::Status s = r->Finish();
      if (s.ok()) break;
      // The worker threads below must still be joined: no ASSERT here.
      if (s.error_code() != grpc::StatusCode::UNAVAILABLE || std::chrono::system_clock::now() >= watch_until) {
        ADD_FAILURE() << "WatchStatus: " << s.error_message();
        break;
      }
      Pause();
    }
    EXPECT_TRUE(update.crawl().done());
    EXPECT_GE(updates, 1);
  }
  t1.join();
  t2.join();
  crasher.CompleteStale(abandoned);

  // Every item is in exactly one final state.
  int ok = 0, dead = 0, failed = 0;
  for (int n = 0; n < kItems; ++n) {
    switch (OutcomeFor(n)) {
      case v1::ITEM_OUTCOME_OK: ++ok; break;
      case v1::ITEM_OUTCOME_DEAD: ++dead; break;
      default: ++failed; break;
    }
  }
  {
    absl::MutexLock lock(&ledger.mu);  // the workers' threads are joined; the analysis needs the lock
    EXPECT_EQ(ledger.final_state.size(), static_cast<size_t>(kItems));
    for (const auto& [key, times] : ledger.accepted_times) EXPECT_EQ(times, 1) << key;
    EXPECT_EQ(ledger.stale_refused, 1);
  }

  v1::CrawlStatus st = GetStatus(*status).crawl();
  EXPECT_EQ(st.items_total(), kItems);
  EXPECT_EQ(st.items_ok(), ok);
  EXPECT_EQ(st.items_dead(), dead);
  EXPECT_EQ(st.items_failed(), failed);
  EXPECT_EQ(st.items_pending(), 0);
  EXPECT_EQ(st.shards_total(), kItems / kShardSize);
  EXPECT_EQ(st.shards_done(), kItems / kShardSize);
  EXPECT_EQ(st.shards_failed(), 0);
  EXPECT_EQ(st.errors_by_reason().at("http_404"), dead);
  EXPECT_EQ(st.errors_by_reason().at("timeout"), failed);

  // Dead links and failed items page through every record.
  int64_t listed_dead = 0;
  v1::ListDeadLinksRequest dreq;
  dreq.mutable_page()->set_page_size(2);
  do {
    v1::ListDeadLinksResponse resp;
    ASSERT_TRUE(Retry([&](auto& ctx) { return status->ListDeadLinks(&ctx, dreq, &resp); }).ok());
    EXPECT_EQ(resp.total(), dead);
    listed_dead += resp.dead_links_size();
    dreq.mutable_page()->set_page_token(resp.next_page_token());
  } while (!dreq.page().page_token().empty());
  EXPECT_EQ(listed_dead, dead);

  // atelier-status --json against the live coordinator.
  auto json_out = RunCommand({BinaryPath("atelier-status").string(), "--coordinator",
                              coordinator.address(), "--json"});
  ASSERT_EQ(json_out.exit_code, 0) << json_out.output;
  nlohmann::json j = nlohmann::json::parse(json_out.output);
  EXPECT_EQ(j["items_total"], kItems);
  EXPECT_EQ(j["items_ok"], ok);
  EXPECT_EQ(j["items_dead"], dead);
  EXPECT_EQ(j["items_failed"], failed);
  EXPECT_EQ(j["items_pending"], 0);
  EXPECT_EQ(j["shards_total"], kItems / kShardSize);
  EXPECT_EQ(j["shards_done"], kItems / kShardSize);
  EXPECT_EQ(j["shards_leased"], 0);
  EXPECT_EQ(j["shards_failed"], 0);
  EXPECT_TRUE(j.contains("workers_alive"));
  EXPECT_TRUE(j.contains("items_per_second"));
  EXPECT_EQ(j["done"], true);

  auto human = RunCommand({BinaryPath("atelier-status").string(), "--coordinator",
                           coordinator.address()});
  EXPECT_EQ(human.exit_code, 0) << human.output;
  EXPECT_THAT(human.output, HasSubstr("crawl done"));
  EXPECT_THAT(human.output, HasSubstr(absl::StrCat(kItems, "/", kItems)));
  auto watch = RunCommand({BinaryPath("atelier-status").string(), "--coordinator",
                           coordinator.address(), "--watch", "--json"});
  EXPECT_EQ(watch.exit_code, 0) << watch.output;
  EXPECT_THAT(watch.output, HasSubstr("\"done\":true"));
  auto dead_list = RunCommand({BinaryPath("atelier-status").string(), "--coordinator",
                               coordinator.address(), "--dead-links"});
  EXPECT_EQ(dead_list.exit_code, 0);
  EXPECT_EQ(std::count(dead_list.output.begin(), dead_list.output.end(), '\n'), dead);

  // SIGTERM: graceful shutdown, exit status 0.
  EXPECT_EQ(coordinator.Kill(SIGTERM), 0);
  const std::string log = atelier::testing::ReadFileOrEmpty(dir / "coordinator-2.log");
  EXPECT_THAT(log, HasSubstr("continuing it"));  // no re-ingest after the restart
  EXPECT_THAT(log, HasSubstr("coordinator stopped"));
  EXPECT_FALSE(std::filesystem::exists(dir / "coordinator-2.port"));  // removed on the graceful stop
}

TEST(CoordinatorProcessTest, BadSpecFailsWithFileAndLine) {
  TempDir dir("coordspec");
  WriteFileOrDie(dir / "job.yaml",
                 "dataset: data\nsources:\n  - urls: {file: list.txt}\ncrawl:\n  retries: four\n");
  auto out = RunCommand({BinaryPath("atelier-coordinator").string(), "--spec",
                         (dir / "job.yaml").string(), "--state", (dir / "state").string(),
                         "--listen", "127.0.0.1:0"});
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_THAT(out.output, HasSubstr("job.yaml:5"));
  EXPECT_THAT(out.output, HasSubstr("crawl.retries"));
}

// The operator modes on a real state: --check against the dataset's tars,
// --retry-failed REASON, and a damaged write-ahead log refused by name.
TEST(CoordinatorProcessTest, CheckRetryFailedAndDamagedStateThroughTheBinary) {
  TempDir dir("coordops");
  WriteFileOrDie(dir / "list.txt", "http://127.0.0.1/a.jpg\n");
  WriteFileOrDie(dir / "job.yaml",
                 "name: ops\ndataset: data\nshard_size: 2\nsources:\n  - urls: {file: list.txt}\n");
  const std::filesystem::path db = dir / "state" / "rocksdb";
  std::filesystem::create_directories(db.parent_path());
  {
    FakeClock clock;
    ASSERT_OK_AND_ASSIGN(auto store, kv::RocksDbKvStore::Open(db.string()));
    ASSERT_OK_AND_ASSIGN(auto table, ShardTable::Open(*store, clock, {}));
    testing::FillTable(*table, 2, 2);
    v1::RegisterWorkerRequest reg;
    reg.set_worker_name("w");
    ASSERT_OK_AND_ASSIGN(std::string worker, table->RegisterWorker(reg));
    for (int i = 0; i < 2; ++i) {
      ASSERT_OK_AND_ASSIGN(auto lease, table->Lease(worker));
      v1::CompleteShardRequest req = testing::CompleteAll(worker, lease);
      if (i == 0) {
        req.mutable_results(1)->set_outcome(v1::ITEM_OUTCOME_FAILED);
        req.mutable_results(1)->set_reason("http_503");
      }
      ASSERT_OK_AND_ASSIGN(auto writer, dataset::ShardWriter::Open(dir / "data", lease.shard_id()));
      dataset::Sample sample;
      sample.meta.key = lease.items(0).key();
      sample.meta.source = "url";
      sample.image_bytes = "\xFF\xD8\xFF\xE0 image \xFF\xD9";
      ASSERT_OK(writer->Add(sample));
      ASSERT_OK_AND_ASSIGN(auto committed, writer->Commit({}));
      req.set_shard_path(std::filesystem::relative(committed.tar_path, dir / "data").string());
      req.set_shard_sha256(committed.sha256);
      ASSERT_OK(table->Complete(req));
    }
  }
  auto run = [&](const std::vector<std::string>& args, const std::string& state = "state") {
    std::vector<std::string> argv = {BinaryPath("atelier-coordinator").string(), "--spec",
                                     (dir / "job.yaml").string(), "--state",
                                     (dir / state).string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv);
  };
  // A damaged copy of the state is refused, naming its write-ahead log (the
  // copy is taken before any reopen, so the whole state is in that log).
  std::filesystem::copy(dir / "state", dir / "copy", std::filesystem::copy_options::recursive);
  auto ok = run({"--check"});
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_THAT(ok.output, HasSubstr("0 problems in 2 done shards"));

  std::filesystem::path wal;
  for (const auto& e : std::filesystem::directory_iterator(dir / "copy" / "rocksdb")) {
    if (e.path().extension() == ".log") wal = e.path();
  }
  ASSERT_FALSE(wal.empty());
  std::filesystem::resize_file(wal, std::filesystem::file_size(wal) / 2);
  auto damaged = run({"--check"}, "copy");
  EXPECT_EQ(damaged.exit_code, 1);
  EXPECT_THAT(damaged.output, HasSubstr(wal.string()));

  {
    std::ofstream tar(dir / "data" / "shards" / "000001.tar", std::ios::app | std::ios::binary);
    tar << "x";
  }
  auto mismatch = run({"--check"});
  EXPECT_EQ(mismatch.exit_code, 1);
  EXPECT_THAT(mismatch.output, HasSubstr("shard 1"));

  auto retried = run({"--retry-failed", "http_503"});
  EXPECT_EQ(retried.exit_code, 0) << retried.output;
  EXPECT_THAT(retried.output, HasSubstr("1 failed items back in the pool in 1 new shards"));
  FakeClock clock;
  ASSERT_OK_AND_ASSIGN(auto store, kv::RocksDbKvStore::Open(db.string()));
  ASSERT_OK_AND_ASSIGN(auto table, ShardTable::Open(*store, clock, {}));
  v1::CrawlStatus st = table->Status();
  EXPECT_EQ(st.items_failed(), 0);
  EXPECT_EQ(st.items_ok(), 3);
  EXPECT_EQ(st.shards_pending(), 1);
}

// The port stays bound, not listening, while the test holds it: connecting
// to it is refused, and no other process can start listening on it.
TEST(CoordinatorProcessTest, StatusCommandReportsAnUnreachableCoordinator) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  auto out = RunCommand({BinaryPath("atelier-status").string(), "--coordinator",
                         absl::StrCat("127.0.0.1:", ntohs(addr.sin_port)), "--timeout-s", "1"});
  close(fd);
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_THAT(out.output, HasSubstr("cannot connect"));
}

// --port-file names the gRPC and the metrics port, both bound to port 0; a
// --port-file in a directory that does not exist is a usage error before the
// ingest.
TEST(CoordinatorProcessTest, PortFileReportsBothPortsAndNeedsAnExistingDirectory) {
  TempDir dir("coordports");
  WriteFileOrDie(dir / "list.txt", "http://127.0.0.1:9/a.jpg\n");
  WriteFileOrDie(dir / "job.yaml", "name: ports\ndataset: data\nsources:\n  - urls: {file: list.txt}\n");
  const std::vector<std::string> base = {BinaryPath("atelier-coordinator").string(), "--spec",
                                         (dir / "job.yaml").string(), "--state", (dir / "state").string(),
                                         "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"};
  std::vector<std::string> bad = base;
  bad.insert(bad.end(), {"--port-file", (dir / "none" / "ports").string()});
  auto refused = RunCommand(bad);
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_THAT(refused.output, HasSubstr("--port-file"));
  EXPECT_FALSE(std::filesystem::exists(dir / "state"));

  std::vector<std::string> argv = base;
  argv.insert(argv.end(), {"--port-file", (dir / "ports").string()});
  ChildProcess coordinator(argv, dir / "coordinator.log");
  ASSERT_OK_AND_ASSIGN(int grpc_port,
                       atelier::testing::WaitForPort(coordinator, dir / "ports", "grpc_port", dir / "coordinator.log"));
  ASSERT_OK_AND_ASSIGN(int metrics_port, atelier::testing::WaitForPort(coordinator, dir / "ports", "metrics_port"));
  EXPECT_NE(grpc_port, metrics_port);
  auto out = RunCommand({BinaryPath("atelier-status").string(), "--coordinator",
                         absl::StrCat("127.0.0.1:", grpc_port), "--json"});
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_THAT(out.output, HasSubstr("\"items_total\":1"));
  EXPECT_EQ(atelier::testing::ReadFileOrEmpty(dir / "ports"),
            absl::StrCat("grpc_port=", grpc_port, "\nmetrics_port=", metrics_port, "\n"));
  EXPECT_EQ(coordinator.Kill(SIGTERM), 0);
  EXPECT_FALSE(std::filesystem::exists(dir / "ports"));
}

}  // namespace
}  // namespace atelier::coordinator
