#include <iostream>

#include "atelier/cli/commands.h"

#ifndef ATELIER_VERSION
#define ATELIER_VERSION "unknown"
#endif

namespace atelier::cli {

void AddVersionCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("version", "print atelier's version");
  cmd->callback([&exit_code] {
    std::cout << "atelier " << ATELIER_VERSION << "\n";
    exit_code = 0;
  });
}

}  // namespace atelier::cli
