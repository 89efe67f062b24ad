// `atelier sweep --spec FILE [--dir DIR]`: runs the spec's trials (docs/sweep.md)
// and prints the table of trials and the best trial as an `atelier train`
// command; `--trial I` runs one trial (a cluster task), `--report` only
// reports, `--emit slurm|k8s` writes the cluster files. Exit 0 when every
// trial (or trial I) has a final state, 75 when stopped by SIGINT/SIGTERM
// (rerun the command to continue), 1 on an error (the message names the file
// or key), 2 on a usage error.
#include <cstdlib>
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "atelier/cli/commands.h"
#include "atelier/cli/role_dispatch.h"
#include "atelier/cli/sweep_driver.h"
#include "atelier/cli/sweep_emit.h"
#include "atelier/cli/sweep_report.h"
#include "atelier/common/atomic_file.h"
#include "atelier/common/command_line.h"
#include "atelier/common/status_macros.h"

namespace fs = std::filesystem;

namespace atelier::cli {
namespace {

struct SweepFlags {
  std::string spec;
  std::string dir = "sweep";
  std::string trainer;
  int trial = -1;
  bool report = false;
  std::string emit;
  int poll_ms = 200;
  int stop_grace_s = 300;
};

absl::StatusOr<std::vector<std::string>> TrainerCommand(const SweepFlags& flags) {
  std::string trainer = flags.trainer;
  if (trainer.empty()) {
    if (const char* env = std::getenv("ATELIER_SWEEP_TRAINER")) trainer = env;
  }
  if (trainer.empty()) {
    ASSIGN_OR_RETURN(trainer, LocateExecutable("atelier-trainer", SelfDirectory()));
  }
  return std::vector<std::string>{trainer, "train"};
}

absl::Status Emit(const SweepFlags& flags, const SweepSpec& spec) {
  const EmitTarget target{fs::absolute(flags.spec).lexically_normal().string(),
                          fs::absolute(flags.dir).lexically_normal().string(), spec.trials, spec.parallel};
  const bool slurm = flags.emit == "slurm";
  const fs::path out = fs::path(flags.dir) / (slurm ? kSlurmScriptName : kK8sJobName);
  RETURN_IF_ERROR(Env::Default()->CreateDirs(flags.dir));
  RETURN_IF_ERROR(
      WriteFileAtomically(*Env::Default(), out, slurm ? SlurmArrayScript(target) : K8sIndexedJob(target)));
  std::cout << out.string() << "\n";
  return absl::OkStatus();
}

// Table, CSV, page and best command of the records in flags.dir.
absl::Status Report(const SweepFlags& flags, const SweepSpec& spec, const SweepState& state) {
  RETURN_IF_ERROR(WriteSweepReport(*Env::Default(), flags.dir, state, spec));
  std::cout << TrialTable(state, spec);
  if (auto best = BestTrial(state, spec)) {
    std::cout << "\nbest: trial " << *best << " (" << spec.metric.Describe() << " " << *state.trials[*best].metric()
              << ")\n"
              << BestTrainCommand(spec, state.trials[*best], (fs::path(flags.dir) / "best").string()) << "\n";
  }
  std::cout << "\n" << (fs::path(flags.dir) / kTrialsCsvName).string() << "\n"
            << (fs::path(flags.dir) / kSweepPageName).string() << "\n";
  return absl::OkStatus();
}

absl::StatusOr<int> RunSweepCommand(const SweepFlags& flags, const std::atomic<bool>& stop) {
  ASSIGN_OR_RETURN(SweepSpec spec, LoadSweepSpec(flags.spec));
  if (!flags.emit.empty()) {
    RETURN_IF_ERROR(Emit(flags, spec));
    return 0;
  }
  if (flags.report) {
    ASSIGN_OR_RETURN(SweepState state, LoadSweepState(*Env::Default(), flags.dir, SampleTrials(spec)));
    RETURN_IF_ERROR(SaveSweepState(*Env::Default(), flags.dir, state));  // the cluster tasks' records, gathered
    RETURN_IF_ERROR(Report(flags, spec, state));
    return 0;
  }
  SweepOptions options;
  options.dir = flags.dir;
  ASSIGN_OR_RETURN(options.trainer, TrainerCommand(flags));
  options.stop = &stop;
  options.poll = absl::Milliseconds(flags.poll_ms);
  options.stop_grace = absl::Seconds(flags.stop_grace_s);
  options.progress = &std::cerr;
  ASSIGN_OR_RETURN(SweepOutcome outcome,
                   flags.trial >= 0 ? RunSweepTrial(spec, flags.trial, options) : RunSweep(spec, options));
  if (flags.trial < 0) RETURN_IF_ERROR(Report(flags, spec, outcome.state));
  if (outcome.interrupted) {
    std::cerr << "atelier sweep: stopped; run the same command again to continue\n";
    return kExitStoppedOnSignal;
  }
  return 0;
}

}  // namespace

void AddSweepCommand(CLI::App& app, int& exit_code, const std::atomic<bool>& stop) {
  auto* cmd = app.add_subcommand(
      "sweep", "search hyperparameters: run `atelier train` trials from a spec, with ASHA early stopping");
  auto flags = std::make_shared<SweepFlags>();
  cmd->add_option("--spec", flags->spec, "the sweep's YAML file (docs/sweep.md)")->required();
  cmd->add_option("--dir", flags->dir, "the sweep folder: trial state, runs, logs, trials.csv, sweep.html");
  cmd->add_option("--trainer", flags->trainer,
                  "executable run as `EXE train ...` for each trial (default: $ATELIER_SWEEP_TRAINER, else "
                  "atelier-trainer next to atelier or on PATH)");
  cmd->add_option("--trial", flags->trial, "run only this trial (0-based; a cluster task), -1 for all")
      ->check(CLI::Range(-1, 9999));
  cmd->add_flag("--report", flags->report, "run nothing: print and write the table, CSV and page of the records");
  cmd->add_option("--emit", flags->emit, "write DIR/sweep.sbatch (slurm) or DIR/sweep-job.yaml (k8s) and exit")
      ->check(CLI::IsMember({"slurm", "k8s"}));
  cmd->add_option("--poll-ms", flags->poll_ms, "how often the trials' metrics.jsonl are read (milliseconds)")
      ->check(CLI::Range(10, 60000));
  cmd->add_option("--stop-grace-s", flags->stop_grace_s,
                  "on SIGINT/SIGTERM, seconds the trials get to checkpoint before SIGKILL")
      ->check(CLI::Range(1, 86400));
  cmd->callback([flags, &exit_code, &stop] {
    auto code = RunSweepCommand(*flags, stop);
    if (!code.ok()) {
      std::cerr << "atelier sweep: " << code.status().message() << "\n";
      exit_code = 1;
      return;
    }
    exit_code = *code;
  });
}

}  // namespace atelier::cli
