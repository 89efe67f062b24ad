#include "atelier/cli/sweep_sampler.h"

#include <cmath>
#include <random>

#include "absl/strings/str_cat.h"

namespace atelier::cli {
namespace {

std::vector<std::string> DiscreteValues(const SweepParameter& p) {
  if (p.kind == SweepParameter::Kind::kChoices) return p.choices;
  std::vector<std::string> values;
  for (int64_t v = p.int_lo; v <= p.int_hi; ++v) values.push_back(absl::StrCat(v));
  return values;
}

std::string Draw(const SweepParameter& p, std::mt19937_64& gen) {
  auto unit = [&gen] { return static_cast<double>(gen() >> 11) * 0x1.0p-53; };  // [0, 1)
  switch (p.kind) {
    case SweepParameter::Kind::kChoices:
      return p.choices[gen() % p.choices.size()];
    case SweepParameter::Kind::kInt:
      return absl::StrCat(p.int_lo + static_cast<int64_t>(gen() % static_cast<uint64_t>(p.int_hi - p.int_lo + 1)));
    case SweepParameter::Kind::kUniform:
      return absl::StrCat(p.lo + unit() * (p.hi - p.lo));
    case SweepParameter::Kind::kLogUniform:
      return absl::StrCat(std::exp(std::log(p.lo) + unit() * (std::log(p.hi) - std::log(p.lo))));
  }
  return "";
}

}  // namespace

std::vector<TrialParams> SampleTrials(const SweepSpec& spec) {
  std::vector<TrialParams> trials;
  if (spec.sampler == SweepSampler::kGrid) {
    std::vector<std::vector<std::string>> values;
    for (const auto& p : spec.parameters) values.push_back(DiscreteValues(p));
    std::vector<size_t> index(values.size(), 0);
    for (int t = 0; t < spec.trials; ++t) {
      TrialParams params;
      for (size_t i = 0; i < values.size(); ++i) params.emplace_back(spec.parameters[i].name, values[i][index[i]]);
      trials.push_back(std::move(params));
      for (size_t i = values.size(); i-- > 0;) {  // odometer: the last parameter turns fastest
        if (++index[i] < values[i].size()) break;
        index[i] = 0;
      }
    }
    return trials;
  }
  std::mt19937_64 gen(spec.seed);
  for (int t = 0; t < spec.trials; ++t) {
    TrialParams params;
    for (const auto& p : spec.parameters) params.emplace_back(p.name, Draw(p, gen));
    trials.push_back(std::move(params));
  }
  return trials;
}

}  // namespace atelier::cli
