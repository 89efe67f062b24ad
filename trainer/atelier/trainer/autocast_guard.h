// AutocastGuard: bfloat16 automatic mixed precision for the scope of a forward
// pass (LibTorch's autocast: convolutions and matmuls run in bfloat16, losses
// and reductions in float32; weights, gradients and the optimizer stay
// float32). Restores the previous autocast state of this thread on exit and
// clears the cast cache when the outermost guard ends.
//
// Works on the CPU and on CUDA; written against both LibTorch 1.13's
// per-device calls and 2.4+'s device-type calls. Thread-local state: use on
// the thread that runs the forward pass.
#pragma once

#include <torch/torch.h>

namespace atelier::trainer {

class AutocastGuard {
 public:
  // `enabled` false: does nothing (the fp32 path).
  AutocastGuard(torch::DeviceType device, bool enabled);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  torch::DeviceType device_;
  bool active_ = false;
  bool was_enabled_ = false;
  torch::ScalarType previous_dtype_ = torch::kFloat32;
};

}  // namespace atelier::trainer
