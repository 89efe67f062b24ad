// Role dispatch: `atelier <role-subcommand> ...` runs the role's own executable
// (as git runs git-<cmd>), so processes that do not train never load LibTorch.
//
//   atelier coordinator ...  -> atelier-coordinator ...
//   atelier crawler ...      -> atelier-crawler ...
//   atelier status|pull ...  -> atelier-status ... | atelier-pull ...
//   atelier train|import|predict|evaluate|embed|probe ... -> atelier-trainer <sub> ...
//
// Executables are looked up next to the running `atelier` first, then on PATH.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace atelier::cli {

struct RoleCommand {
  std::string subcommand;   // what the user types after `atelier`
  std::string executable;   // e.g. "atelier-trainer"
  bool pass_subcommand;     // whether argv keeps the subcommand (trainer: yes)
  std::string summary;      // one line for `atelier --help`
};

const std::vector<RoleCommand>& RoleCommands();
const RoleCommand* FindRoleCommand(const std::string& subcommand);

// Finds `executable` next to `self_dir`, then on PATH. NotFound names both.
absl::StatusOr<std::string> LocateExecutable(const std::string& executable,
                                             const std::string& self_dir);

// Replaces the process with the role executable; returns only on failure.
absl::Status ExecRole(const RoleCommand& role, int argc, char** argv);

// Directory of the running executable (/proc/self/exe).
std::string SelfDirectory();

}  // namespace atelier::cli
