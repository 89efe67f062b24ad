// atelier-status (`atelier status`): shows a coordinator's crawl status.
//
//   atelier status --coordinator HOST:PORT [--json] [--watch] [--interval-ms N]
//   atelier status --coordinator HOST:PORT --dead-links | --failed-items
//   atelier status --coordinator HOST:PORT --stop-run RUN
//
// --json prints one JSON object (see docs/coordinator.md); --watch redraws the
// view on every update until the crawl ends (with --json: one object a line).
#include <unistd.h>

#include <chrono>
#include <iostream>

#include "atelier/common/command_line.h"
#include "atelier/coordinator/status_view.h"
#include "atelier/v1/status.grpc.pb.h"
#include "atelier/v1/training.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace {

using namespace atelier;

int RpcError(const std::string& addr, const grpc::Status& s) {
  std::cerr << "atelier status: coordinator " << addr << ": " << s.error_message() << " (code "
            << static_cast<int>(s.error_code()) << ")\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"atelier status: crawl progress from a coordinator"};
  Conventions(app, "status");
  std::string addr;
  bool as_json = false, watch = false, dead_links = false, failed_items = false;
  int interval_ms = 1000, timeout_s = 10;
  app.add_option("--coordinator", addr, "coordinator address, HOST:PORT")->required()->check(ListenAddress());
  app.add_flag("--json", as_json, "print one JSON object");
  app.add_flag("--watch", watch, "keep a live view until the crawl ends");
  app.add_option("--interval-ms", interval_ms, "update period for --watch (at least 100)")
      ->check(CLI::Range(100, 3'600'000));
  app.add_option("--timeout-s", timeout_s, "give up connecting after this long")->check(CLI::Range(1, 86'400));
  app.add_flag("--dead-links", dead_links, "list every dead link (JSON, one a line)");
  app.add_flag("--failed-items", failed_items, "list every failed item (JSON, one a line)");
  std::string stop_run;
  app.add_option("--stop-run", stop_run,
                 "ask training run RUN to checkpoint and stop at the end of its current epoch (exit 75)");
  app.get_option("--dead-links")->excludes("--failed-items");
  if (auto exit = Parse(app, argc, argv)) return *exit;

  auto channel = grpc::CreateChannel(addr, grpc::InsecureChannelCredentials());
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(timeout_s))) {
    std::cerr << "atelier status: cannot connect to coordinator " << addr << " within "
              << timeout_s << " s\n";
    return 1;
  }
  if (!stop_run.empty()) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(timeout_s));
    v1::StopTrainingRequest req;
    req.set_run(stop_run);
    v1::StopTrainingResponse resp;
    grpc::Status s = v1::TrainingService::NewStub(channel)->StopTraining(&ctx, req, &resp);
    if (!s.ok()) return RpcError(addr, s);
    std::cout << "asked run '" << stop_run << "' to stop"
              << (resp.known_run() ? "" : " (it has not reported yet; the request stands)") << "\n";
    return 0;
  }
  auto stub = v1::StatusService::NewStub(channel);

  if (dead_links || failed_items) {
    std::string token;
    do {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      if (dead_links) {
        v1::ListDeadLinksRequest req;
        req.mutable_page()->set_page_size(1000);
        req.mutable_page()->set_page_token(token);
        v1::ListDeadLinksResponse resp;
        grpc::Status s = stub->ListDeadLinks(&ctx, req, &resp);
        if (!s.ok()) return RpcError(addr, s);
        for (const auto& d : resp.dead_links()) {
          std::cout << nlohmann::json{{"key", d.key()}, {"url", d.url()}, {"reason", d.reason()},
                                      {"http_status", d.http_status()},
                                      {"shard_id", d.shard_id()},
                                      {"recorded_at_ms", d.recorded_at_ms()}}
                           .dump()
                    << "\n";
        }
        token = resp.next_page_token();
      } else {
        v1::ListFailedItemsRequest req;
        req.mutable_page()->set_page_size(1000);
        req.mutable_page()->set_page_token(token);
        v1::ListFailedItemsResponse resp;
        grpc::Status s = stub->ListFailedItems(&ctx, req, &resp);
        if (!s.ok()) return RpcError(addr, s);
        for (const auto& f : resp.items()) {
          std::cout << nlohmann::json{{"key", f.key()}, {"url", f.url()}, {"reason", f.reason()},
                                      {"http_status", f.http_status()},
                                      {"attempts", f.attempts()}, {"shard_id", f.shard_id()},
                                      {"recorded_at_ms", f.recorded_at_ms()}}
                           .dump()
                    << "\n";
        }
        token = resp.next_page_token();
      }
    } while (!token.empty());
    return 0;
  }

  if (!watch) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(timeout_s));
    v1::JobStatus status;
    grpc::Status s = stub->GetStatus(&ctx, v1::GetStatusRequest(), &status);
    if (!s.ok()) return RpcError(addr, s);
    if (as_json) {
      std::cout << coordinator::StatusJson(status).dump() << std::endl;
    } else {
      std::cout << coordinator::RenderStatus(status);
    }
    return 0;
  }

  grpc::ClientContext ctx;
  v1::WatchStatusRequest req;
  req.set_interval_ms(interval_ms);
  auto reader = stub->WatchStatus(&ctx, req);
  v1::JobStatus status;
  const bool tty = ::isatty(STDOUT_FILENO) != 0;
  while (reader->Read(&status)) {
    if (as_json) {
      std::cout << coordinator::StatusJson(status).dump() << std::endl;
    } else {
      if (tty) std::cout << "\x1b[2J\x1b[H";
      std::cout << coordinator::RenderStatus(status) << std::flush;
    }
  }
  grpc::Status s = reader->Finish();
  if (!s.ok() && !status.crawl().done()) return RpcError(addr, s);
  return 0;
}
