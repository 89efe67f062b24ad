// `atelier probe`: the command line of the black-box probe (probe.h,
// docs/predict.md "Probe").
//
//   probe --features FEATS.npy --target FIELD [--rows FEATS.jsonl] [--folds K]
//         [--seed S] [--l2 L] [--group-by FIELD] [--out probe.json]
//
// FIELD is looked up in each row of FEATS.jsonl (`atelier embed`'s rows) as
// `predict --group-by` does (group_summary.h). AddProbeCommand declares the
// subcommand and its flags (stored in *flags, which must outlive parsing);
// RunProbeCommand runs it and returns the exit code (0; 1 error naming the
// input; 2 bad command line).
#pragma once

#include <string>

#include "CLI/CLI.hpp"
#include "atelier/trainer/probe.h"

namespace atelier::trainer {

struct ProbeFlags {
  std::string features, rows, target, group_by, out;
  ProbeOptions options;
  bool json = false;
};

CLI::App* AddProbeCommand(CLI::App& app, ProbeFlags* flags);
int RunProbeCommand(const ProbeFlags& flags);

// The probe's samples from embed's rows file: per line, the target (FIELD as
// GroupValue reads it) and the group (split.h SampleGroup with `group_by`).
// InvalidArgument naming the file and line for a line that is not a JSON object.
absl::StatusOr<std::vector<ProbeSample>> ReadProbeSamples(const std::filesystem::path& rows, const std::string& field,
                                                          const std::string& group_by);

}  // namespace atelier::trainer
