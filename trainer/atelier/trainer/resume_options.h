// The options of `atelier train` that change what a run computes, as recorded
// in every checkpoint, and the check that a resumed run uses the same ones.
//
// Recorded (by their command-line names): backbone, normalize, image-size,
// channels, width, depth, dropout, batch-norm, heads, label-field,
// head-weights, epochs, batch-size, lr, min-lr, warmup-epochs, weight-decay,
// label-smoothing, clip-norm, val-ratio, test-ratio, split-seed, group-by,
// stratify-head, balance, augment, crop, flip, rotate,
// min-crop-area, max-rotation, seed, precision, freeze-backbone-epochs,
// backbone-lr-scale. Not recorded: where and how fast it runs (threads, cache,
// device, buckets, checkpoint cadence, logging) and --init (a resumed run
// takes its weights from the checkpoint).
#pragma once

#include <set>
#include <string>

#include "absl/status/status.h"
#include "atelier/trainer/trainer.h"
#include "nlohmann/json.hpp"

namespace atelier::trainer {

nlohmann::json ComputationOptions(const TrainOptions& options);

// `saved` is the checkpoint's trainer state (its "options", or for older
// checkpoints only its "seed"). FailedPrecondition naming the first option
// whose value differs and is not in `overrides`, with both values and the
// --override that allows it.
absl::Status CheckResumeOptions(const nlohmann::json& saved_state, const nlohmann::json& now,
                                const std::set<std::string>& overrides);

}  // namespace atelier::trainer
