// `atelier train`: the command line of training (docs/trainer.md).
//
// AddTrainCommand declares the subcommand and its flags (stored in *flags,
// which must outlive parsing). RunTrainCommand resolves the rank (launcher
// variables or the coordinator's rendezvous), the device and the collective,
// runs Train() and returns the exit code: 0 done; 1 error (one line on
// stderr); 75 (kExitCheckpointedOnSignal) stopped through `stop` after a
// checkpoint. `stop` is the stop token: the executable's signal handlers set
// it, and so does a coordinator that asks the run to stop. The command never
// installs signal handlers itself.
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "atelier/trainer/trainer.h"

namespace atelier::trainer {

struct TrainFlags {
  TrainOptions options;
  std::string data, out, label_fields, heads, head_weights, balance = "none", memory_budget;
  std::vector<std::string> overrides;
  std::optional<uint64_t> split_seed;
  bool no_augment = false, no_crop = false, no_flip = false, no_rotate = false, no_batch_norm = false;
  bool progress = false, plain = false;
  int bucket_mb = 25;
  int connect_timeout_s = 300;
  int collective_timeout_s = 120;
  std::string coordinator, run, device = "auto", precision = "fp32", augment_on = "auto";
  int world_size = 0;  // > 0: rendezvous through --coordinator
};

CLI::App* AddTrainCommand(CLI::App& app, TrainFlags* flags);
int RunTrainCommand(TrainFlags flags, std::atomic<bool>* stop);

}  // namespace atelier::trainer
