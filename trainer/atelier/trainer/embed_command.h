// `atelier embed`: the command line of feature extraction (docs/predict.md,
// "Features").
//
//   embed --checkpoint CK (--data ROOT | --folder DIR | IMAGE...) --out FEATS.npy
//
// writes FEATS.npy, FEATS.jsonl and, when some input is unreadable,
// FEATS.errors.jsonl (embeddings.h). AddEmbedCommand declares the subcommand
// and its flags (stored in *flags, which must outlive parsing); RunEmbedCommand
// runs it and returns the exit code (0; 1 error naming the input; 2 bad
// command line).
#pragma once

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "atelier/trainer/command_support.h"

namespace atelier::trainer {

struct EmbedFlags : BulkInputFlags {
  std::string checkpoint, out;
};

CLI::App* AddEmbedCommand(CLI::App& app, EmbedFlags* flags);
int RunEmbedCommand(const EmbedFlags& flags);

}  // namespace atelier::trainer
