#include "atelier/common/process_set.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <thread>

#include "absl/strings/str_cat.h"
#include "atelier/common/wait_status.h"

namespace atelier {

ProcessSet::~ProcessSet() { StopAll(std::chrono::seconds(2)); }

absl::StatusOr<pid_t> ProcessSet::Start(const std::vector<std::string>& argv,
                                        const std::map<std::string, std::string>& env,
                                        const std::filesystem::path& log) {
  if (argv.empty()) return absl::InvalidArgumentError("ProcessSet::Start: empty argv");
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork failed for ", argv[0]));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    // Own process group: a terminal Ctrl-C reaches only the parent, which
    // stops the children in order.
    setpgid(0, 0);
    // The parent may block the stop signals for its StopSignalWatcher; the
    // mask survives exec, and the child must see them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigprocmask(SIG_UNBLOCK, &stop_signals, nullptr);
    if (!log.empty()) {
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
      }
    }
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    std::fprintf(stderr, "cannot run %s\n", args[0]);
    _exit(127);
  }
  setpgid(pid, pid);  // as the child does: no window in which SignalGroup misses it
  absl::MutexLock lock(&mu_);
  children_.push_back(pid);
  return pid;
}

bool ProcessSet::Running(pid_t pid) {
  absl::MutexLock lock(&mu_);
  if (exited_.count(pid)) return false;
  int status = 0;
  if (waitpid(pid, &status, WNOHANG) == pid) {
    exited_[pid] = ExitCode(status);
    children_.erase(std::remove(children_.begin(), children_.end(), pid), children_.end());
    return false;
  }
  return true;
}

int ProcessSet::Wait(pid_t pid) {
  {
    absl::MutexLock lock(&mu_);
    if (auto it = exited_.find(pid); it != exited_.end()) return it->second;
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  absl::MutexLock lock(&mu_);
  exited_[pid] = ExitCode(status);
  children_.erase(std::remove(children_.begin(), children_.end(), pid), children_.end());
  return exited_[pid];
}

void ProcessSet::Signal(pid_t pid, int signal) { kill(pid, signal); }

void ProcessSet::SignalGroup(pid_t pid, int signal) { kill(-pid, signal); }

void ProcessSet::StopAll(std::chrono::milliseconds grace) {
  std::vector<pid_t> children;
  {
    absl::MutexLock lock(&mu_);
    children = children_;
  }
  for (pid_t pid : children) kill(pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  for (pid_t pid : children) {
    while (Running(pid) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (Running(pid)) {
      kill(pid, SIGKILL);
      Wait(pid);
    }
  }
}

}  // namespace atelier
