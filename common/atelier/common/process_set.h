// ProcessSet: the child processes the demo starts (coordinator, crawlers,
// trainer ranks). Children die with the demo (PR_SET_PDEATHSIG) and StopAll()
// sends SIGTERM, waits a grace period, then SIGKILLs what is left, so Ctrl-C
// at any point leaves nothing running. Not thread-safe except StopAll(), which
// may be called from the signal-watching thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace atelier::demo {

class ProcessSet {
 public:
  ~ProcessSet();

  // Starts `argv` with extra `env`; stdout+stderr go to `log` (appended) or,
  // when `log` is empty, to the demo's own terminal.
  absl::StatusOr<pid_t> Start(const std::vector<std::string>& argv,
                              const std::map<std::string, std::string>& env,
                              const std::filesystem::path& log);
  // Waits for `pid` to exit; returns its exit code (128+signal if killed).
  int Wait(pid_t pid) ABSL_LOCKS_EXCLUDED(mu_);
  // True while `pid` runs; reaps it when it has exited.
  bool Running(pid_t pid) ABSL_LOCKS_EXCLUDED(mu_);
  void Signal(pid_t pid, int signal);
  void StopAll(std::chrono::milliseconds grace = std::chrono::seconds(5));

 private:
  absl::Mutex mu_;
  std::vector<pid_t> children_ ABSL_GUARDED_BY(mu_);
  std::map<pid_t, int> exited_ ABSL_GUARDED_BY(mu_);
};

}  // namespace atelier::demo
