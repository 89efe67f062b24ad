// atelier: the one command users run, the entry point for every role. In-process
// subcommands are registered from atelier/cli/commands.h; role subcommands
// (coordinator, crawler, train, ...) exec their own executables.
#include <iostream>

#include "atelier/cli/commands.h"
#include "atelier/cli/role_dispatch.h"
#include "atelier/common/command_line.h"

namespace {

bool IsInProcessCommand(const std::string& name) { return name == "version" || name == "shard" || name == "preview"; }

}  // namespace

int main(int argc, char** argv) {
  using namespace atelier::cli;
  if (argc >= 2) {
    if (const RoleCommand* role = FindRoleCommand(argv[1])) {
      absl::Status status = ExecRole(*role, argc, argv);
      std::cerr << "atelier " << argv[1] << ": " << status.message() << "\n";
      return 127;
    }
  }

  if (argc >= 2 && argv[1][0] != '-' && !IsInProcessCommand(argv[1])) {
    std::cerr << "atelier: unknown command '" << argv[1] << "'; run 'atelier --help' for the list\n";
    return atelier::kUsageError;
  }

  CLI::App app{"atelier: crawl art-image datasets across a cluster and train classifiers on them"};
  atelier::Conventions(app, "");
  app.require_subcommand(1);
  int exit_code = 0;
  AddVersionCommand(app, exit_code);
  AddShardCommand(app, exit_code);
  AddPreviewCommand(app, exit_code);

  std::string footer = "\nRole commands (each has its own --help):\n";
  for (const auto& role : RoleCommands()) {
    footer += "  " + role.subcommand + std::string(14 - std::min<size_t>(13, role.subcommand.size()), ' ') +
              role.summary + "\n";
  }
  app.footer(footer);

  if (auto exit = atelier::Parse(app, argc, argv)) return *exit;
  return exit_code;
}
