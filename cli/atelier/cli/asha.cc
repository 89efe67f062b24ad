#include "atelier/cli/asha.h"

#include <algorithm>

namespace atelier::cli {

std::vector<int> AshaRungs(const AshaSettings& settings, int epochs) {
  std::vector<int> rungs;
  for (long long r = settings.min_epochs; r < epochs; r *= settings.eta) rungs.push_back(static_cast<int>(r));
  return rungs;
}

bool AshaContinues(double value, const std::vector<double>& others, int eta, MetricMode mode) {
  const auto better = [mode, value](double other) { return mode == MetricMode::kMax ? other > value : other < value; };
  const long long ahead = std::count_if(others.begin(), others.end(), better);
  const long long n = static_cast<long long>(others.size()) + 1;
  const long long keep = std::max<long long>(1, n / eta);
  return ahead < keep;
}

}  // namespace atelier::cli
