// StatusPoller: follows a coordinator's crawl through StatusService.GetStatus
// and draws one live progress line (items done/total, ok/dead/failed, items/s).
// Not thread-safe; one poller per caller.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "absl/status/status.h"

namespace atelier::demo {

class StatusPoller {
 public:
  explicit StatusPoller(const std::string& address);
  ~StatusPoller();

  // Polls until the crawl is done (OK), `timeout` passes (DeadlineExceeded)
  // or `stop()` returns true (Cancelled). Progress goes to `out`.
  absl::Status WaitForCrawl(std::chrono::milliseconds timeout, const std::function<bool()>& stop,
                            std::ostream& out);

 private:
  struct Stub;
  std::unique_ptr<Stub> stub_;
  std::string address_;
};

}  // namespace atelier::demo
