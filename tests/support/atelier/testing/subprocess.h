// Subprocess helpers for tests that run atelier's executables as real processes.
// RunCommand blocks until the child exits. ChildProcess owns a running child and
// kills (SIGKILL) and reaps it on destruction; WaitForPort reads the ports a
// child server bound from its --port-file. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace atelier::testing {

struct CommandResult {
  int exit_code = -1;      // exit status, or 128+signal when killed by a signal
  std::string output;      // stdout and stderr interleaved
};

// Runs argv[0] (a path or a name on PATH) with `argv`, extra environment
// variables `env`, capturing stdout+stderr. Aborts the test binary if fork fails.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env = {});

// Path of a built atelier executable: $ATELIER_BIN_DIR/<name> (default: the
// build's bin directory).
std::filesystem::path BinaryPath(const std::string& name);
// Root of the source tree: $ATELIER_SOURCE_DIR (default: this checkout).
std::filesystem::path SourcePath(const std::string& relative = "");

class ChildProcess {
 public:
  // Starts the child with stdout+stderr appended to `log_file`.
  ChildProcess(const std::vector<std::string>& argv, const std::filesystem::path& log_file,
               const std::map<std::string, std::string>& env = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  // Sends `signal` (SIGKILL by default) and waits; returns exit code as RunCommand.
  int Kill(int signal = 9);
  // Waits up to `timeout` for the child to exit; returns its exit code or -1.
  int Wait(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

// Waits at most `timeout` for `server`, started with `--port-file FILE` and a
// port 0 to listen on, to write FILE (atelier/common/port_file.h), and returns
// the port under `key` ("grpc_port", "metrics_port"). FailedPrecondition when
// the server exits first, DeadlineExceeded when FILE is not written in time,
// NotFound when it has no `key`; the error includes the contents of `log`
// when given. Start servers this way instead of on a PickFreePort port:
// nothing can take the port between picking and binding it.
absl::StatusOr<int> WaitForPort(ChildProcess& server, const std::filesystem::path& port_file,
                                const std::string& key, const std::filesystem::path& log = {},
                                std::chrono::milliseconds timeout = std::chrono::seconds(60));

// atelier::PickFreePort for tests: aborts the test binary when none is free.
// Another process may bind the port before the test does: servers a test
// starts listen on port 0 and report their port (WaitForPort) instead.
int PickFreePort();

}  // namespace atelier::testing
