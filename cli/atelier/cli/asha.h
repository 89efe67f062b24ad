// Asynchronous successive halving (ASHA, Li et al. 2018), as the sweep driver
// applies it to trials that all run with the full --epochs: the rungs are the
// epochs min_epochs * eta^k below --epochs; when a trial's metric at a rung is
// known it goes on only if it is among the best max(1, floor(n / eta)) of the
// n trials that have reached that rung so far (itself included, ties in its
// favour), else it is stopped there. The first trial at a rung always goes on.
// Pure functions; thread-compatible.
#pragma once

#include <vector>

#include "atelier/spec/sweep_spec.h"

namespace atelier::cli {

// Rung epochs in increasing order, each < epochs.
std::vector<int> AshaRungs(const AshaSettings& settings, int epochs);

// Whether a trial whose metric at a rung is `value` goes on, given the values
// of the other trials that reached the rung before it.
bool AshaContinues(double value, const std::vector<double>& others, int eta, MetricMode mode);

}  // namespace atelier::cli
