// What the trainer's subcommands (import, train, predict, evaluate, embed,
// probe) share on the command line: the one way they report a runtime error,
// the --label-field flag's help text, and the input flags of the bulk
// commands (predict, embed).
#pragma once

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"

namespace atelier::trainer {

// Prints "atelier-trainer: <status>" (one line) to stderr; returns exit code 1.
int FailCommand(const absl::Status& status);

// Help of --label-field (train and evaluate read labels the same way).
inline constexpr char kLabelFieldHelp[] =
    "labels from HEAD=SOURCE,...: SOURCE .EXT is a member (.cls, .txt), else a dotted JSON path "
    "(e.g. style, labels.media); default: the JSON's \"labels\" and .cls";

// What predict and embed read, and how (bulk_predict.h).
struct BulkInputFlags {
  std::vector<std::string> images;
  std::string data, folder;
  int decode_threads = 0, batch_size = 64, threads = 0;
  bool progress = false;
};

// Declares IMAGE... (returned, for further constraints), --data, --folder
// (one of the three), --decode-threads, --batch-size, --threads and --progress.
CLI::Option* AddBulkInputFlags(CLI::App* command, BulkInputFlags* flags);

}  // namespace atelier::trainer
