// What a sweep shows: the table of trials (terminal), SWEEP_DIR/trials.csv, the
// best trial as a ready `atelier train` command, and SWEEP_DIR/sweep.html (a
// self-contained page: an inline SVG chart of every trial's metric against
// epochs, the budget, and the table). Pure rendering plus one writer.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "atelier/cli/sweep_state.h"
#include "atelier/common/env.h"
#include "atelier/spec/sweep_spec.h"

namespace atelier::cli {

inline constexpr char kTrialsCsvName[] = "trials.csv";
inline constexpr char kSweepPageName[] = "sweep.html";

// The best trial by its last metric (spec.metric.mode): among the completed
// trials, or among all trials with a metric when none completed; nullopt when
// no trial has a metric yet.
std::optional<int> BestTrial(const SweepState& state, const SweepSpec& spec);

// Aligned columns: trial, each parameter, epochs, metric, state.
std::string TrialTable(const SweepState& state, const SweepSpec& spec);
// Header "trial,<parameters>,state,epochs,<metric>,exit_code,message"; one row per trial.
std::string TrialsCsv(const SweepState& state, const SweepSpec& spec);
// `atelier train --data D --out RUN --epochs E ...` for `trial`, each word
// quoted for a POSIX shell where it needs it.
std::string BestTrainCommand(const SweepSpec& spec, const TrialRecord& trial, const std::string& out);
std::string SweepPage(const SweepState& state, const SweepSpec& spec);

// A word as a POSIX shell reads it back: as it is when it has only safe
// characters, else in single quotes ('\'' for a quote).
std::string ShellQuote(const std::string& word);

// Writes SWEEP_DIR/trials.csv and SWEEP_DIR/sweep.html atomically.
absl::Status WriteSweepReport(Env& env, const std::filesystem::path& dir, const SweepState& state,
                              const SweepSpec& spec);

}  // namespace atelier::cli
