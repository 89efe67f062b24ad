// AdamW (decoupled weight decay, Loshchilov & Hutter), the same update as
// torch.optim.AdamW, with its state in plain tensors so that checkpoints can
// hold it. Weight decay applies to tensors of rank >= 2 (conv and linear
// weights), not to biases and norm parameters. Not thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace atelier::trainer {

struct AdamWOptions {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.05;
};

class AdamW {
 public:
  AdamW(std::vector<torch::Tensor> params, AdamWOptions options);
  // One update with learning rate `lr` from the parameters' current gradients.
  void Step(double lr);
  void ZeroGrad();
  // Per-parameter multipliers of the learning rate (default 1); a parameter
  // with scale 0 is left alone entirely (no update, no decay, no moments).
  void set_lr_scales(std::vector<double> scales) { lr_scales_ = std::move(scales); }

  int64_t steps() const { return steps_; }
  std::vector<torch::Tensor>& exp_avg() { return m_; }
  std::vector<torch::Tensor>& exp_avg_sq() { return v_; }
  void set_steps(int64_t steps) { steps_ = steps; }
  const std::vector<torch::Tensor>& params() const { return params_; }

 private:
  std::vector<torch::Tensor> params_, m_, v_;
  std::vector<double> lr_scales_;
  AdamWOptions options_;
  int64_t steps_ = 0;
};

}  // namespace atelier::trainer
