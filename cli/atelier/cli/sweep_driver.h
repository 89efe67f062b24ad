// The sweep driver: runs the spec's trials as `atelier train` child processes
// (no LibTorch here), at most spec.parallel at a time, with ASHA early
// stopping, and keeps every trial's state in the sweep folder (sweep_state.h)
// so that the same command continues after a kill, even a kill -9.
//
//   SweepOptions options{.dir = "sweep", .trainer = {"/usr/bin/atelier-trainer", "train"}};
//   ASSIGN_OR_RETURN(SweepOutcome outcome, RunSweep(spec, options));
//
// Each trial runs `TRAINER... --data D --out trials/NNNN/run --epochs E
// [train flags] [its parameters] --resume` with its output appended to
// trials/NNNN/train.log, in a process group of its own that dies with the
// driver. --resume is always passed: a first start has no checkpoint and
// starts fresh; a trial that was running when the driver died continues from
// its last checkpoint. Finished trials (completed, stopped, failed) are never
// started again. The driver reads each running trial's metrics.jsonl every
// `poll`; at every ASHA rung (asha.h) a trial that is not in the top 1/eta is
// sent SIGTERM (the trainer checkpoints and exits 75) and recorded as stopped
// with its last metric. When `stop` becomes true every child gets SIGTERM,
// the driver waits for their exits (SIGKILL after `stop_grace`), records them
// as running (resumable) and returns with `interrupted`.
//
// RunSweepTrial runs only trial `id` (a Slurm array task or an Indexed Job
// pod): it writes only that trial's files, and judges it at the rungs against
// the records the other trials have written in the shared folder so far.
//
// Not thread-safe: one driver per sweep folder (two drivers on one folder
// would both start its pending trials).
#pragma once

#include <atomic>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "atelier/cli/sweep_state.h"
#include "atelier/common/clock.h"
#include "atelier/common/env.h"
#include "atelier/spec/sweep_spec.h"

namespace atelier::cli {

struct SweepOptions {
  std::filesystem::path dir;         // the sweep folder
  std::vector<std::string> trainer;  // argv prefix of `atelier train`, e.g. {".../atelier-trainer", "train"}
  const std::atomic<bool>* stop = nullptr;
  absl::Duration poll = absl::Milliseconds(200);
  absl::Duration stop_grace = absl::Minutes(5);
  Clock* clock = &Clock::Real();
  Env* env = Env::Default();
  std::ostream* progress = nullptr;  // one line per trial event, when set
};

struct SweepOutcome {
  SweepState state;
  bool interrupted = false;  // `stop` came before every trial finished
};

// The `atelier train` arguments of a trial (after the trainer prefix), without --resume.
std::vector<std::string> TrainArguments(const SweepSpec& spec, const TrialParams& params,
                                        const std::filesystem::path& run_dir);

absl::StatusOr<SweepOutcome> RunSweep(const SweepSpec& spec, const SweepOptions& options);
absl::StatusOr<SweepOutcome> RunSweepTrial(const SweepSpec& spec, int id, const SweepOptions& options);

}  // namespace atelier::cli
