// Learning-rate schedule: linear warm-up from 0 to base_lr over warmup_steps,
// then cosine decay to min_lr at total_steps (min_lr afterwards). A pure
// function of the step, so resuming needs only the step. Thread-safe.
#pragma once

#include <cstdint>

namespace atelier::trainer {

struct LrSchedule {
  double base_lr = 1e-3;
  double min_lr = 0.0;
  int64_t warmup_steps = 0;
  int64_t total_steps = 1;

  // Learning rate for the optimizer step number `step` (0-based).
  double At(int64_t step) const;
};

}  // namespace atelier::trainer
