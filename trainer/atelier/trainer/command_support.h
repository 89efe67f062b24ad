// What the trainer's subcommands (import, train, predict, evaluate) share on
// the command line: the one way they report a runtime error, and the
// --label-field flag's help text.
#pragma once

#include "absl/status/status.h"

namespace atelier::trainer {

// Prints "atelier-trainer: <status>" (one line) to stderr; returns exit code 1.
int FailCommand(const absl::Status& status);

// Help of --label-field (train and evaluate read labels the same way).
inline constexpr char kLabelFieldHelp[] =
    "labels from HEAD=SOURCE,...: SOURCE .EXT is a member (.cls, .txt), else a dotted JSON path "
    "(e.g. style, labels.media); default: the JSON's \"labels\" and .cls";

}  // namespace atelier::trainer
