#include "atelier/demo/status_poller.h"

#include <unistd.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "atelier/v1/status.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace atelier::demo {

struct StatusPoller::Stub {
  std::unique_ptr<atelier::v1::StatusService::Stub> status;
};

StatusPoller::StatusPoller(const std::string& address) : stub_(std::make_unique<Stub>()), address_(address) {
  stub_->status = atelier::v1::StatusService::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
}

StatusPoller::~StatusPoller() = default;

absl::Status StatusPoller::WaitForCrawl(std::chrono::milliseconds timeout, const std::function<bool()>& stop,
                                        std::ostream& out) {
  const bool tty = isatty(STDOUT_FILENO);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto last_line = std::chrono::steady_clock::now() - std::chrono::hours(1);
  while (std::chrono::steady_clock::now() < deadline) {
    if (stop()) return absl::CancelledError("stopped while waiting for the crawl");
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    atelier::v1::JobStatus status;
    grpc::Status rpc = stub_->status->GetStatus(&context, atelier::v1::GetStatusRequest(), &status);
    if (rpc.ok()) {
      const auto& c = status.crawl();
      const int64_t final_items = c.items_ok() + c.items_dead() + c.items_failed();
      const std::string line = absl::StrFormat(
          "crawl: %d/%d items (ok %d, dead %d, failed %d)  shards %d/%d  workers %d  %.0f items/s",
          final_items, c.items_total(), c.items_ok(), c.items_dead(), c.items_failed(), c.shards_done(),
          c.shards_total(), c.workers_alive(), c.items_per_second());
      const auto now = std::chrono::steady_clock::now();
      if (tty) {
        out << "\r" << line << "\x1b[K" << std::flush;
      } else if (now - last_line > std::chrono::seconds(5) || c.done()) {
        out << line << std::endl;
        last_line = now;
      }
      if (c.done() && c.items_total() > 0) {
        if (tty) out << std::endl;
        return absl::OkStatus();
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  return absl::DeadlineExceededError(absl::StrCat("the crawl did not finish in time (coordinator ", address_, ")"));
}

}  // namespace atelier::demo
