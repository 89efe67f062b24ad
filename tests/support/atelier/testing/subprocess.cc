#include "atelier/testing/subprocess.h"

#include "absl/strings/str_cat.h"
#include "atelier/common/free_port.h"
#include "atelier/common/port_file.h"
#include "atelier/common/wait_status.h"
#include "atelier/testing/temp_dir.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

namespace atelier::testing {
namespace {

std::vector<char*> ToArgv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const auto& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}


[[noreturn]] void ExecChild(const std::vector<std::string>& argv,
                            const std::map<std::string, std::string>& env) {
  for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
  auto args = ToArgv(argv);
  execvp(args[0], args.data());
  std::fprintf(stderr, "exec %s failed\n", args[0]);
  _exit(127);
}

}  // namespace

CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env) {
  int fds[2];
  if (pipe(fds) != 0) std::abort();
  pid_t pid = fork();
  if (pid < 0) std::abort();
  if (pid == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    ExecChild(argv, env);
  }
  close(fds[1]);
  CommandResult result;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) result.output.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = ExitCode(status);
  return result;
}

std::filesystem::path BinaryPath(const std::string& name) {
  const char* dir = std::getenv("ATELIER_BIN_DIR");
  return std::filesystem::path(dir ? dir : ATELIER_DEFAULT_BIN_DIR) / name;
}

std::filesystem::path SourcePath(const std::string& relative) {
  const char* dir = std::getenv("ATELIER_SOURCE_DIR");
  std::filesystem::path root = dir ? dir : ATELIER_DEFAULT_SOURCE_DIR;
  return relative.empty() ? root : root / relative;
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv,
                           const std::filesystem::path& log_file,
                           const std::map<std::string, std::string>& env) {
  pid_ = fork();
  if (pid_ < 0) std::abort();
  if (pid_ == 0) {
    int fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    ExecChild(argv, env);
  }
}

ChildProcess::~ChildProcess() {
  if (running()) Kill(SIGKILL);
}

bool ChildProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_code_ = ExitCode(status);
    pid_ = -1;
    return false;
  }
  return r == 0;
}

int ChildProcess::Kill(int signal) {
  if (pid_ <= 0) return exit_code_;
  kill(pid_, signal);
  int status = 0;
  waitpid(pid_, &status, 0);
  exit_code_ = ExitCode(status);
  pid_ = -1;
  return exit_code_;
}

int ChildProcess::Wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_code_;
}

absl::StatusOr<int> WaitForPort(ChildProcess& server, const std::filesystem::path& port_file,
                                const std::string& key, const std::filesystem::path& log,
                                std::chrono::milliseconds timeout) {
  auto with_log = [&](const std::string& message) {
    return log.empty() ? message : absl::StrCat(message, "; ", log.string(), ":\n", ReadFileOrEmpty(log));
  };
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    // Read before checking that the server runs: a server that wrote the
    // file and exited at once still told its port.
    auto ports = atelier::ReadPortFile(port_file);
    if (ports.ok()) {
      auto it = ports->find(key);
      if (it == ports->end()) {
        return absl::NotFoundError(with_log(absl::StrCat(port_file.string(), " has no ", key)));
      }
      return it->second;
    }
    if (!absl::IsNotFound(ports.status())) {
      return absl::Status(ports.status().code(), with_log(std::string(ports.status().message())));
    }
    if (!server.running()) {
      return absl::FailedPreconditionError(
          with_log(absl::StrCat("the server exited before writing ", port_file.string())));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return absl::DeadlineExceededError(with_log(absl::StrCat("no ", port_file.string(), " after ",
                                                               timeout.count(), " ms")));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

int PickFreePort() {
  auto port = atelier::PickFreePort();
  if (!port.ok()) {
    std::fprintf(stderr, "%s\n", std::string(port.status().message()).c_str());
    std::abort();
  }
  return *port;
}

}  // namespace atelier::testing
