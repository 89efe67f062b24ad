// The command-line conventions every atelier command follows, in one place:
//   * usage lines name the command as the user typed it ("atelier coordinator"),
//     not the executable the `atelier` front end exec'd;
//   * --version prints "atelier <sub> <version>" and exits 0;
//   * every option shows its default in --help, and every option must have a
//     description (one without is a programming error: exit 70 naming it);
//   * a usage error (unknown or missing flag, bad value) prints one line and
//     a hint to stderr and exits kUsageError (2), before any work starts;
//   * HOST:PORT arguments are checked by the ListenAddress validator.
// Use: CLI::App app{"..."}; Conventions(app, "coordinator"); add options...;
//      if (auto exit = Parse(app, argc, argv)) return *exit;
#pragma once

#include <optional>
#include <string>

#include "CLI/CLI.hpp"

namespace atelier {

inline constexpr int kUsageError = 2;
// EX_TEMPFAIL: stopped by a signal (SIGTERM, SIGINT, SIGUSR1) before the work
// was done, state saved; run the same command again to continue. The trainer
// (after its checkpoint) and the crawler exit with it; Slurm's train.sbatch
// requeues on it and the Kubernetes Jobs' podFailurePolicy ignores it.
inline constexpr int kExitStoppedOnSignal = 75;

// atelier's version (the CMake project version).
const char* Version();

// Names `app` "atelier <subcommand>" ("atelier" when empty), adds --version,
// and makes every option added afterwards show its default.
void Conventions(CLI::App& app, const std::string& subcommand);

// Parses the command line: nullopt when the command should run, else the
// exit code (0 after --help or --version, kUsageError for usage errors).
// Every subcommand of `app` answers --version as well.
std::optional<int> Parse(CLI::App& app, int argc, const char* const* argv);

// Checks a HOST:PORT option (atelier::ParseListenAddress); empty passes, so
// optional addresses can stay unset.
CLI::Validator ListenAddress();

}  // namespace atelier
