// The trials of a sweep: one assignment of every parameter of the spec's search
// space per trial, in trial order.
//
//   std::vector<TrialParams> trials = SampleTrials(spec);  // spec.trials entries
//
// grid: the product of the parameters' values, the first parameter varying
// slowest (as Python's itertools.product), cut to spec.trials. random: each
// trial draws every parameter in spec order from a 64-bit Mersenne Twister
// seeded with spec.seed (uniform: lo + u (hi - lo); log_uniform: exp of a
// uniform draw between the logs; int and choices: uniform over the values),
// with arithmetic of our own rather than std::*_distribution, so the same spec
// gives the same trials with any standard library. Values are text as passed
// to `atelier train` (numbers with 6 significant digits). Pure.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "atelier/spec/sweep_spec.h"

namespace atelier::cli {

// (parameter name, value as text) in spec order.
using TrialParams = std::vector<std::pair<std::string, std::string>>;

std::vector<TrialParams> SampleTrials(const SweepSpec& spec);

}  // namespace atelier::cli
