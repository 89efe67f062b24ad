// The state of a sweep on disk (docs/sweep.md):
//
//   SWEEP_DIR/sweep.json                  every trial's record (SweepState), the driver's
//   SWEEP_DIR/trials/NNNN/trial.json      one trial's record, written by whoever runs it
//   SWEEP_DIR/trials/NNNN/run/            the trial's `atelier train --out` (metrics.jsonl...)
//   SWEEP_DIR/trials/NNNN/train.log       its stdout and stderr
//
// Both JSON files are replaced atomically (WriteFileAtomically), so a kill -9
// at any moment leaves the previous or the new record. A trial's own files are
// written only by the process that runs it, so cluster tasks (`--trial i`)
// share SWEEP_DIR without locks. Thread-compatible.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "atelier/cli/sweep_sampler.h"
#include "atelier/common/env.h"
#include "atelier/spec/sweep_spec.h"

namespace atelier::cli {

enum class TrialState {
  kPending,    // not started yet
  kRunning,    // started; after a kill of the driver, resumed (train --resume) on the next run
  kCompleted,  // ran every epoch (exit 0)
  kStopped,    // stopped early by ASHA at a rung (SIGTERM, checkpoint, exit 75)
  kFailed,     // the trainer failed (exit code recorded)
};
const char* TrialStateName(TrialState state);

struct TrialRecord {
  int id = 0;
  TrialParams params;
  TrialState state = TrialState::kPending;
  std::vector<std::pair<int, double>> history;  // (epoch, metric) per finished epoch
  int rungs_decided = 0;                         // ASHA rungs this trial has been judged at
  int starts = 0;                                // times the trainer was started for it
  int exit_code = -1;                            // last exit code, -1 while none
  std::string message;                           // why it failed or was stopped

  int epochs() const { return history.empty() ? 0 : history.back().first; }
  std::optional<double> metric() const {
    return history.empty() ? std::nullopt : std::optional<double>(history.back().second);
  }
  bool finished() const {
    return state == TrialState::kCompleted || state == TrialState::kStopped || state == TrialState::kFailed;
  }
};

struct SweepState {
  std::vector<TrialRecord> trials;
};

std::filesystem::path TrialDir(const std::filesystem::path& sweep_dir, int id);  // trials/NNNN
std::filesystem::path TrialRunDir(const std::filesystem::path& sweep_dir, int id);
std::filesystem::path TrialLog(const std::filesystem::path& sweep_dir, int id);
inline constexpr char kSweepStateName[] = "sweep.json";

// Writes SWEEP_DIR/trials/NNNN/trial.json atomically (creating the folders).
absl::Status SaveTrial(Env& env, const std::filesystem::path& sweep_dir, const TrialRecord& trial);
// Writes SWEEP_DIR/sweep.json atomically.
absl::Status SaveSweepState(Env& env, const std::filesystem::path& sweep_dir, const SweepState& state);

// The sweep's trials: the spec's samples, each with its trial.json record when
// one exists. A record whose params differ from the spec's trial is
// FailedPrecondition naming the trial and the file (the folder belongs to
// another spec); a damaged record is DataLoss naming the file.
absl::StatusOr<SweepState> LoadSweepState(Env& env, const std::filesystem::path& sweep_dir,
                                          const std::vector<TrialParams>& samples);

// The spec's metric per epoch from a trainer's metrics.jsonl text, in epoch
// order (a repeated epoch keeps its last line; a line without the metric or
// not yet complete is skipped).
std::vector<std::pair<int, double>> ReadMetricHistory(const std::string& jsonl, const SweepMetric& metric);

}  // namespace atelier::cli
