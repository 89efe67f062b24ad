// `atelier evaluate`: accuracy, loss, confusion matrices and per-class
// precision/recall of a model on a dataset root, shard folder or class folder,
// on all of it or on the run's own train/val/test split (RUN/split.json).
//
// AddEvaluateCommand declares the subcommand and its flags (stored in *flags,
// which must outlive parsing); RunEvaluateCommand runs it after parsing and
// returns the exit code (0; 1 error naming the input).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "CLI/CLI.hpp"

namespace atelier::trainer {

struct EvaluateFlags {
  std::string checkpoint, data, folder, head, label_fields;
  std::string split = "all";
  // Each set one replaces that option of the run's recorded split.
  std::optional<double> val_ratio, test_ratio;
  std::optional<uint64_t> seed;
  std::optional<std::string> group_by, stratify_head;
  bool json = false;
  int decode_threads = 2;
};

CLI::App* AddEvaluateCommand(CLI::App& app, EvaluateFlags* flags);
int RunEvaluateCommand(const EvaluateFlags& flags);

}  // namespace atelier::trainer
