// Subcommands that the `atelier` executable runs in-process (no LibTorch).
// Each Add*Command registers a CLI11 subcommand on `app`; the callback runs the
// command and stores the process exit code in `exit_code`.
#pragma once

#include <atomic>

#include "CLI/CLI.hpp"

namespace atelier::cli {

void AddVersionCommand(CLI::App& app, int& exit_code);
void AddShardCommand(CLI::App& app, int& exit_code);
void AddPreviewCommand(CLI::App& app, int& exit_code);
// `stop` becomes true on SIGINT/SIGTERM (the main file's StopSignalWatcher).
void AddSweepCommand(CLI::App& app, int& exit_code, const std::atomic<bool>& stop);

}  // namespace atelier::cli
