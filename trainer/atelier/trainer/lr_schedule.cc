#include "atelier/trainer/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace atelier::trainer {

double LrSchedule::At(int64_t step) const {
  if (warmup_steps > 0 && step < warmup_steps) return base_lr * double(step + 1) / double(warmup_steps);
  int64_t decay_steps = std::max<int64_t>(1, total_steps - warmup_steps);
  double t = std::clamp(double(step - warmup_steps) / double(decay_steps), 0.0, 1.0);
  return min_lr + 0.5 * (base_lr - min_lr) * (1.0 + std::cos(std::numbers::pi * t));
}

}  // namespace atelier::trainer
