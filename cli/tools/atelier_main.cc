// atelier: the one command users run, the entry point for every role. In-process
// subcommands are registered from atelier/cli/commands.h; role subcommands
// (coordinator, crawler, train, ...) exec their own executables.
// Usage: atelier <subcommand> [options] (atelier --help lists them).
// Exit codes: the subcommand's (0 success, 1 error, 2 usage error; sweep: 75
// when stopped by SIGINT/SIGTERM); 127 when a role executable cannot be run.
#include <atomic>
#include <iostream>
#include <optional>

#include "atelier/cli/commands.h"
#include "atelier/cli/role_dispatch.h"
#include "atelier/common/command_line.h"
#include "atelier/common/stop_signal_watcher.h"

namespace {

bool IsInProcessCommand(const std::string& name) {
  return name == "version" || name == "shard" || name == "preview" || name == "sweep";
}

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

  // Only `sweep` runs long in-process: its trials stop cleanly on SIGINT/SIGTERM.
  std::atomic<bool> stop{false};
  std::optional<atelier::StopSignalWatcher> watcher;
  if (argc >= 2 && std::string(argv[1]) == "sweep") watcher.emplace([&stop](int) { stop = true; });

  CLI::App app{"atelier: crawl art-image datasets across a cluster and train classifiers on them"};
  atelier::Conventions(app, "");
  app.require_subcommand(1);
  int exit_code = 0;
  AddVersionCommand(app, exit_code);
  AddShardCommand(app, exit_code);
  AddPreviewCommand(app, exit_code);
  AddSweepCommand(app, exit_code, stop);

  std::string footer = "\nRole commands (each has its own --help):\n";
  for (const auto& role : RoleCommands()) {
    footer += "  " + role.subcommand + std::string(14 - std::min<size_t>(13, role.subcommand.size()), ' ') +
              role.summary + "\n";
  }
  app.footer(footer);

  if (auto exit = atelier::Parse(app, argc, argv)) return *exit;
  return exit_code;
}
