// atelier-trainer: `train`, `import`, `predict`, `evaluate`, `embed` and
// `probe` (run directly or as `atelier train|import|... ...`). See docs/trainer.md. Each
// subcommand's flags and work live in its own <name>_command.{h,cc}; this file
// parses, owns the signals and catches LibTorch's exceptions.
//
// Exit codes: 0 success; 1 error (message on stderr); 2 bad command line;
// 75 (kExitCheckpointedOnSignal) training stopped by SIGTERM/SIGUSR1 after
// writing a checkpoint (rerun with --resume).
#include <atomic>
#include <csignal>
#include <iostream>

#include "CLI/CLI.hpp"
#include "atelier/common/command_line.h"
#include "atelier/common/logging.h"
#include "atelier/trainer/command_support.h"
#include "atelier/trainer/embed_command.h"
#include "atelier/trainer/evaluate_command.h"
#include "atelier/trainer/import_command.h"
#include "atelier/trainer/predict_command.h"
#include "atelier/trainer/probe_command.h"
#include "atelier/trainer/torch_file.h"
#include "atelier/trainer/train_command.h"
#include "atelier/trainer/trainer.h"

namespace atelier::trainer {
namespace {

static_assert(kExitCheckpointedOnSignal == kExitStoppedOnSignal, "the exit code every atelier command uses for a signal");

// Set by SIGTERM/SIGUSR1; `train` reads it as its stop token.
std::atomic<bool> g_stop_requested{false};

void OnStopSignal(int) { g_stop_requested.store(true); }

// Installed first thing in `train`, before the rendezvous and the data load.
void InstallStopHandlers() {
  struct sigaction action = {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGUSR1, &action, nullptr);
}

int Main(int argc, char** argv) {
  CLI::App app{"atelier trainer commands: import, train, predict, evaluate, embed, probe"};
  Conventions(app, "");
  app.require_subcommand(1);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error|off");
  ImportFlags import_flags;
  CLI::App* import = AddImportCommand(app, &import_flags);
  TrainFlags train_flags;
  CLI::App* train = AddTrainCommand(app, &train_flags);
  PredictFlags predict_flags;
  CLI::App* predict = AddPredictCommand(app, &predict_flags);
  EvaluateFlags evaluate_flags;
  CLI::App* evaluate = AddEvaluateCommand(app, &evaluate_flags);
  EmbedFlags embed_flags;
  CLI::App* embed = AddEmbedCommand(app, &embed_flags);
  ProbeFlags probe_flags;
  CLI::App* probe = AddProbeCommand(app, &probe_flags);

  if (auto exit = Parse(app, argc, argv)) return *exit;
  if (train->parsed()) InstallStopHandlers();
  if (absl::Status s = InitLogging("trainer", log_level); !s.ok()) {
    std::cerr << "atelier: --log-level: " << s.message() << "\n";
    return kUsageError;
  }
  try {
    if (import->parsed()) return RunImportCommand(import_flags);
    if (train->parsed()) return RunTrainCommand(train_flags, &g_stop_requested);
    if (predict->parsed()) return RunPredictCommand(predict_flags);
    if (evaluate->parsed()) return RunEvaluateCommand(evaluate_flags);
    if (embed->parsed()) return RunEmbedCommand(embed_flags);
    if (probe->parsed()) return RunProbeCommand(probe_flags);
  } catch (const std::exception& e) {
    return FailCommand(absl::InternalError(TorchErrorMessage(e)));
  }
  return kUsageError;
}

}  // namespace
}  // namespace atelier::trainer

int main(int argc, char** argv) { return atelier::trainer::Main(argc, argv); }
