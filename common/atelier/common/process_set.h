// ProcessSet: the child processes a command starts and stops (the demo's
// coordinator, crawlers and trainer ranks; the sweep's trials). Each child gets
// its own process group (a terminal Ctrl-C reaches only the parent, which
// stops the children in order), dies with its parent (PR_SET_PDEATHSIG
// SIGKILL, so a kill -9 of the parent leaves nothing running), and starts with
// SIGINT and SIGTERM unblocked even when the parent blocked them for its
// StopSignalWatcher. StopAll() sends SIGTERM, waits a grace period, then
// SIGKILLs what is left. Not thread-safe except StopAll(), which may be called
// from the signal-watching thread.
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

namespace atelier {

class ProcessSet {
 public:
  ~ProcessSet();

  // Starts `argv` (argv[0] a path or a name on PATH) with extra `env`;
  // stdout+stderr go to `log` (appended) or, when `log` is empty, to the
  // parent's own terminal. The child's process group id is its pid.
  absl::StatusOr<pid_t> Start(const std::vector<std::string>& argv,
                              const std::map<std::string, std::string>& env,
                              const std::filesystem::path& log);
  // Waits for `pid` to exit; returns its exit code (128+signal if killed).
  int Wait(pid_t pid) ABSL_LOCKS_EXCLUDED(mu_);
  // True while `pid` runs; reaps it when it has exited.
  bool Running(pid_t pid) ABSL_LOCKS_EXCLUDED(mu_);
  void Signal(pid_t pid, int signal);
  // Sends `signal` to the child's whole process group (the child and what it started).
  void SignalGroup(pid_t pid, int signal);
  void StopAll(std::chrono::milliseconds grace = std::chrono::seconds(5));

 private:
  absl::Mutex mu_;
  std::vector<pid_t> children_ ABSL_GUARDED_BY(mu_);
  std::map<pid_t, int> exited_ ABSL_GUARDED_BY(mu_);
};

}  // namespace atelier
