#include "atelier/trainer/launcher_env.h"

#include <unistd.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

extern char** environ;

namespace atelier::trainer {
namespace {

absl::StatusOr<int> IntVar(const EnvMap& env, const std::string& name, int min_value) {
  auto it = env.find(name);
  if (it == env.end()) return absl::InvalidArgumentError(absl::StrCat("environment variable ", name, " is not set"));
  int value = 0;
  if (!absl::SimpleAtoi(it->second, &value) || value < min_value) {
    return absl::InvalidArgumentError(
        absl::StrCat("environment variable ", name, "='", it->second, "' is not an integer >= ", min_value));
  }
  return value;
}

bool Has(const EnvMap& env, const std::string& name) { return env.count(name) > 0 && !env.at(name).empty(); }

absl::Status FillMaster(const EnvMap& env, LaunchInfo& info) {
  if (Has(env, "MASTER_ADDR")) info.master_addr = env.at("MASTER_ADDR");
  if (Has(env, "MASTER_PORT")) {
    auto port = IntVar(env, "MASTER_PORT", 1);
    if (!port.ok()) return port.status();
    if (*port > 65535) return absl::InvalidArgumentError(absl::StrCat("MASTER_PORT=", *port, " is not a port"));
    info.master_port = *port;
  }
  return absl::OkStatus();
}

absl::Status CheckRank(const LaunchInfo& info, absl::string_view rank_var) {
  if (info.rank >= info.world_size) {
    return absl::InvalidArgumentError(
        absl::StrCat(rank_var, "=", info.rank, " is not below the world size ", info.world_size));
  }
  return absl::OkStatus();
}

}  // namespace

EnvMap ProcessEnvironment() {
  EnvMap env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    size_t eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return env;
}

absl::StatusOr<std::string> FirstSlurmHost(absl::string_view nodelist) {
  std::string list(nodelist);
  if (list.empty()) return absl::InvalidArgumentError("SLURM_JOB_NODELIST is empty");
  // The first entry ends at a comma outside brackets.
  int depth = 0;
  size_t end = list.size();
  for (size_t i = 0; i < list.size(); ++i) {
    if (list[i] == '[') ++depth;
    if (list[i] == ']') --depth;
    if (list[i] == ',' && depth == 0) {
      end = i;
      break;
    }
  }
  std::string first = list.substr(0, end);
  size_t open = first.find('[');
  if (open == std::string::npos) return first;
  size_t close = first.find(']', open);
  if (close == std::string::npos) return absl::InvalidArgumentError(absl::StrCat("bad SLURM_JOB_NODELIST '", list, "'"));
  std::string range = first.substr(open + 1, close - open - 1);
  size_t stop = range.find_first_of(",-");
  return absl::StrCat(first.substr(0, open), range.substr(0, stop), first.substr(close + 1));
}

absl::StatusOr<LaunchInfo> LaunchInfoFromEnv(const EnvMap& env) {
  LaunchInfo info;
  if (Has(env, "RANK") && Has(env, "WORLD_SIZE")) {
    info.launcher = "torchrun";
    auto rank = IntVar(env, "RANK", 0);
    auto world = IntVar(env, "WORLD_SIZE", 1);
    if (!rank.ok()) return rank.status();
    if (!world.ok()) return world.status();
    info.rank = *rank;
    info.world_size = *world;
    if (Has(env, "LOCAL_RANK")) {
      auto local = IntVar(env, "LOCAL_RANK", 0);
      if (!local.ok()) return local.status();
      info.local_rank = *local;
    }
    if (absl::Status s = FillMaster(env, info); !s.ok()) return s;
    if (absl::Status s = CheckRank(info, "RANK"); !s.ok()) return s;
    return info;
  }
  if (Has(env, "SLURM_PROCID") && Has(env, "SLURM_NTASKS")) {
    info.launcher = "slurm";
    auto rank = IntVar(env, "SLURM_PROCID", 0);
    auto world = IntVar(env, "SLURM_NTASKS", 1);
    if (!rank.ok()) return rank.status();
    if (!world.ok()) return world.status();
    info.rank = *rank;
    info.world_size = *world;
    if (Has(env, "SLURM_LOCALID")) {
      auto local = IntVar(env, "SLURM_LOCALID", 0);
      if (!local.ok()) return local.status();
      info.local_rank = *local;
    }
    if (Has(env, "SLURM_JOB_NODELIST")) {
      auto host = FirstSlurmHost(env.at("SLURM_JOB_NODELIST"));
      if (!host.ok()) return host.status();
      info.master_addr = *host;
    }
    if (absl::Status s = FillMaster(env, info); !s.ok()) return s;
    if (absl::Status s = CheckRank(info, "SLURM_PROCID"); !s.ok()) return s;
    return info;
  }
  if (Has(env, "JOB_COMPLETION_INDEX")) {
    info.launcher = "kubernetes";
    auto rank = IntVar(env, "JOB_COMPLETION_INDEX", 0);
    if (!rank.ok()) return rank.status();
    info.rank = *rank;
    auto world = IntVar(env, "WORLD_SIZE", 1);
    if (!world.ok()) return world.status();
    info.world_size = *world;
    if (!Has(env, "MASTER_ADDR") && info.world_size > 1) {
      return absl::InvalidArgumentError("environment variable MASTER_ADDR is not set (Kubernetes Indexed Job)");
    }
    if (absl::Status s = FillMaster(env, info); !s.ok()) return s;
    if (absl::Status s = CheckRank(info, "JOB_COMPLETION_INDEX"); !s.ok()) return s;
    return info;
  }
  return info;
}

}  // namespace atelier::trainer
