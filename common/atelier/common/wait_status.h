// ExitCode: a waitpid() status as a shell reports it: the exit status, or
// 128 + the signal number for a child killed by a signal, -1 otherwise. Pure.
#pragma once

#include <sys/wait.h>

namespace atelier {

inline int ExitCode(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

}  // namespace atelier
