// coordinator_bench: the measurements behind bench/results/coordinator.md.
//
//   coordinator_bench make-bam --rows N --out FILE      BAM-shaped SQLite (20 score columns,
//                                                       ~8% dead mir-cdn rows, some NULLs)
//   coordinator_bench ingest --spec JOB.yaml --state DIR   ingest into RocksDB, print seconds
//   coordinator_bench leases --coordinator ADDR --clients N --seconds S
//                                                       Lease+Complete loops from N clients
//   coordinator_bench status --coordinator ADDR --calls N  GetStatus latency percentiles
//
// Prints one JSON object per run on stdout.
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <random>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "atelier/common/clock.h"
#include "atelier/spec/job_spec.h"
#include "atelier/common/logging.h"
#include "atelier/coordinator/job_ingest.h"
#include "atelier/coordinator/coordinator_state.h"
#include "atelier/coordinator/shard_table.h"
#include "atelier/v1/crawl.grpc.pb.h"
#include "atelier/v1/status.grpc.pb.h"
#include "atelier/net/curl_fetcher.h"
#include "grpcpp/grpcpp.h"
#include "nlohmann/json.hpp"

namespace {

using namespace atelier;
using Clock = std::chrono::steady_clock;

const char* kAttributes[] = {
    "content_bicycle", "content_bird",     "content_building", "content_cars",
    "content_cat",     "content_dog",      "content_flower",   "content_people",
    "content_tree",    "emotion_gloomy",   "emotion_happy",    "emotion_peaceful",
    "emotion_scary",   "media_3d_graphics", "media_comic",     "media_graphite",
    "media_oilpaint",  "media_pen_ink",    "media_vectorart",  "media_watercolor"};

int MakeBam(int64_t rows, const std::string& out) {
  std::filesystem::remove(out);
  sqlite3* db = nullptr;
  if (sqlite3_open(out.c_str(), &db) != SQLITE_OK) return 1;
  std::string create_scores = "CREATE TABLE scores (mid INTEGER";
  std::string insert_scores = "INSERT INTO scores VALUES (?";
  for (const char* a : kAttributes) {
    absl::StrAppend(&create_scores, ", ", a, " REAL");
    absl::StrAppend(&insert_scores, ", ?");
  }
  absl::StrAppend(&create_scores, ")");
  absl::StrAppend(&insert_scores, ")");
  sqlite3_exec(db,
               "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
               "CREATE TABLE modules (mid INTEGER PRIMARY KEY, project_id INTEGER, src TEXT, "
               "mature_content BOOLEAN, license TEXT);",
               nullptr, nullptr, nullptr);
  sqlite3_exec(db, create_scores.c_str(), nullptr, nullptr, nullptr);
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  sqlite3_stmt* mod = nullptr;
  sqlite3_stmt* sc = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO modules VALUES (?, ?, ?, ?, 'cc')", -1, &mod, nullptr);
  sqlite3_prepare_v2(db, insert_scores.c_str(), -1, &sc, nullptr);
  std::mt19937_64 rng(42);
  std::normal_distribution<double> score(-1.5, 0.8);
  for (int64_t mid = 1; mid <= rows; ++mid) {
    const std::string src =
        rng() % 100 < 8
            ? absl::StrCat("https://mir-cdn.behance.net/v1/rendition/project_modules/disp/", mid,
                           ".jpg")
            : absl::StrCat("https://mir-s3-cdn-cf.behance.net/project_modules/disp/", mid,
                           ".55f7265cdb7b3.jpg");
    sqlite3_bind_int64(mod, 1, mid);
    sqlite3_bind_int64(mod, 2, mid / 5);
    sqlite3_bind_text(mod, 3, src.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(mod, 4, rng() % 100 == 0 ? 1 : 0);
    sqlite3_step(mod);
    sqlite3_reset(mod);
    sqlite3_bind_int64(sc, 1, mid);
    for (int i = 0; i < 20; ++i) {
      if (rng() % 50 == 0) {
        sqlite3_bind_null(sc, i + 2);
      } else {
        sqlite3_bind_double(sc, i + 2, score(rng));
      }
    }
    sqlite3_step(sc);
    sqlite3_reset(sc);
  }
  sqlite3_finalize(mod);
  sqlite3_finalize(sc);
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  std::cout << nlohmann::json{{"rows", rows}, {"file", out}}.dump() << "\n";
  return 0;
}

int Ingest(const std::string& spec_path, const std::string& state) {
  auto spec = LoadJobSpec(spec_path);
  if (!spec.ok()) {
    std::cerr << spec.status() << "\n";
    return 1;
  }
  // Same layout as atelier-coordinator --state DIR, so a coordinator can serve it.
  std::filesystem::remove_all(state);
  std::filesystem::create_directories(state);
  auto store = coordinator::OpenCoordinatorDatabase(coordinator::CoordinatorDatabaseDir(state));
  if (!store.ok()) return 1;
  auto table = coordinator::ShardTable::Open(**store, atelier::Clock::Real(), {});
  if (!table.ok()) return 1;
  auto fetcher = net::CurlFetcher::Create();
  if (!fetcher.ok()) return 1;
  net::Fetcher& http = **fetcher;
  const auto start = Clock::now();
  auto summary = coordinator::IngestJob(*spec, **table, http, atelier::Clock::Real());
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (!summary.ok()) {
    std::cerr << summary.status() << "\n";
    return 1;
  }
  auto st = (*table)->Status();
  std::cout << nlohmann::json{{"seconds", seconds}, {"items_total", st.items_total()},
                              {"items_dead", st.items_dead()}, {"shards", st.shards_total()},
                              {"rows_per_second", static_cast<double>(st.items_total()) / seconds}}
                   .dump()
            << "\n";
  return 0;
}

int Leases(const std::string& addr, int clients, double seconds) {
  std::atomic<int64_t> leases{0}, errors{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      // One channel per client, as separate worker processes would have.
      grpc::ChannelArguments args;
      args.SetInt("bench_client", c);
      auto stub = v1::CrawlService::NewStub(
          grpc::CreateCustomChannel(addr, grpc::InsecureChannelCredentials(), args));
      v1::RegisterWorkerRequest reg;
      reg.set_worker_name(absl::StrCat("bench-", c));
      v1::RegisterWorkerResponse who;
      grpc::ClientContext rctx;
      if (!stub->RegisterWorker(&rctx, reg, &who).ok()) {
        ++errors;
        return;
      }
      while (!stop) {
        grpc::ClientContext ctx;
        v1::LeaseShardRequest req;
        req.set_worker_id(who.worker_id());
        v1::LeaseShardResponse lease;
        if (!stub->LeaseShard(&ctx, req, &lease).ok()) {
          ++errors;
          continue;
        }
        if (!lease.has_shard()) return;
        ++leases;
        v1::CompleteShardRequest done;
        done.set_worker_id(who.worker_id());
        done.set_shard_id(lease.shard_id());
        done.set_fencing_token(lease.fencing_token());
        for (const auto& item : lease.items()) {
          auto* r = done.add_results();
          r->set_key(item.key());
          r->set_outcome(v1::ITEM_OUTCOME_OK);
        }
        grpc::ClientContext cctx;
        v1::CompleteShardResponse resp;
        if (!stub->CompleteShard(&cctx, done, &resp).ok()) ++errors;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::cout << nlohmann::json{{"clients", clients}, {"leases", leases.load()},
                              {"errors", errors.load()}, {"seconds", elapsed},
                              {"leases_per_second", static_cast<double>(leases) / elapsed}}
                   .dump()
            << "\n";
  return 0;
}

int StatusLatency(const std::string& addr, int calls) {
  auto stub = v1::StatusService::NewStub(grpc::CreateChannel(addr, grpc::InsecureChannelCredentials()));
  std::vector<double> ms;
  int64_t items = 0;
  for (int i = 0; i < calls; ++i) {
    grpc::ClientContext ctx;
    v1::JobStatus st;
    const auto t0 = Clock::now();
    grpc::Status s = stub->GetStatus(&ctx, v1::GetStatusRequest(), &st);
    const auto t1 = Clock::now();
    if (!s.ok()) {
      std::cerr << s.error_message() << "\n";
      return 1;
    }
    items = st.crawl().items_total();
    if (i > 0) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) { return ms[static_cast<size_t>(p * (ms.size() - 1))]; };
  std::cout << nlohmann::json{{"items_total", items}, {"calls", ms.size()}, {"p50_ms", pct(0.5)},
                              {"p90_ms", pct(0.9)}, {"p99_ms", pct(0.99)}, {"max_ms", ms.back()}}
                   .dump()
            << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"coordinator benchmarks"};
  app.require_subcommand(1);
  int64_t rows = 390000;
  std::string out, spec, state, addr;
  int clients = 8, calls = 200;
  double seconds = 10;
  auto* make = app.add_subcommand("make-bam", "write a BAM-shaped SQLite");
  make->add_option("--rows", rows);
  make->add_option("--out", out)->required();
  auto* ingest = app.add_subcommand("ingest", "ingest a job into a fresh RocksDB");
  ingest->add_option("--spec", spec)->required();
  ingest->add_option("--state", state)->required();
  auto* leases = app.add_subcommand("leases", "Lease+Complete throughput");
  leases->add_option("--coordinator", addr)->required();
  leases->add_option("--clients", clients);
  leases->add_option("--seconds", seconds);
  auto* status = app.add_subcommand("status", "GetStatus latency");
  status->add_option("--coordinator", addr)->required();
  status->add_option("--calls", calls);
  CLI11_PARSE(app, argc, argv);
  (void)InitLogging("bench", "warn");
  if (*make) return MakeBam(rows, out);
  if (*ingest) return Ingest(spec, state);
  if (*leases) return Leases(addr, clients, seconds);
  return StatusLatency(addr, calls);
}
