#include <iostream>

#include "atelier/cli/commands.h"
#include "atelier/common/command_line.h"

namespace atelier::cli {

void AddVersionCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("version", "print atelier's version");
  cmd->callback([&exit_code] {
    std::cout << "atelier " << Version() << "\n";
    exit_code = 0;
  });
}

}  // namespace atelier::cli
