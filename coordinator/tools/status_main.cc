// atelier-status: shows a coordinator's crawl status (`atelier status`).
//
//   atelier-status --coordinator HOST:PORT [--json] [--watch] [--interval-ms N]
//   atelier-status --coordinator HOST:PORT --dead-links | --failed-items
//
// --json prints one JSON object (see docs/coordinator.md); --watch redraws the
// view on every update until the crawl ends (with --json: one object a line).
#include <unistd.h>

#include <chrono>
#include <iostream>

#include "CLI/CLI.hpp"
#include "atelier/coordinator/status_view.h"
#include "atelier/v1/status.grpc.pb.h"
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
  std::string addr;
  bool as_json = false, watch = false, dead_links = false, failed_items = false;
  int interval_ms = 1000, timeout_s = 10;
  app.add_option("--coordinator", addr, "coordinator address, HOST:PORT")->required();
  app.add_flag("--json", as_json, "print one JSON object");
  app.add_flag("--watch", watch, "keep a live view until the crawl ends");
  app.add_option("--interval-ms", interval_ms, "update period for --watch")->capture_default_str();
  app.add_option("--timeout-s", timeout_s, "give up connecting after this long")
      ->capture_default_str();
  app.add_flag("--dead-links", dead_links, "list every dead link (JSON, one a line)");
  app.add_flag("--failed-items", failed_items, "list every failed item (JSON, one a line)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  auto channel = grpc::CreateChannel(addr, grpc::InsecureChannelCredentials());
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(timeout_s))) {
    std::cerr << "atelier status: cannot connect to coordinator " << addr << " within "
              << timeout_s << " s\n";
    return 1;
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
