// Rank, world size and rendezvous address from the launcher's environment.
//
// Checked in order (the first launcher whose variables are present wins):
//   torchrun:   RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT
//   Slurm:      SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, first host of
//               SLURM_JOB_NODELIST (MASTER_ADDR / MASTER_PORT override it)
//   Kubernetes Indexed Job: JOB_COMPLETION_INDEX as the rank, with WORLD_SIZE,
//               MASTER_ADDR and MASTER_PORT set in the pod template
// None of them: a single rank (0 of 1). MASTER_PORT defaults to 29500.
// Errors are InvalidArgument naming the variable. Pure functions; thread-safe.
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace atelier::trainer {

struct LaunchInfo {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string launcher = "single";  // "single" | "torchrun" | "slurm" | "kubernetes"
};

using EnvMap = std::map<std::string, std::string>;

// The current process environment as an EnvMap.
EnvMap ProcessEnvironment();

absl::StatusOr<LaunchInfo> LaunchInfoFromEnv(const EnvMap& env);

// First host of a Slurm node list: "node[01-04,07],gpu5" -> "node01",
// "a,b" -> "a", "x-[3,5]" -> "x-3". InvalidArgument for an empty list.
absl::StatusOr<std::string> FirstSlurmHost(absl::string_view nodelist);

}  // namespace atelier::trainer
