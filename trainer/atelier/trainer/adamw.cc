#include "atelier/trainer/adamw.h"

#include <cmath>

namespace atelier::trainer {

AdamW::AdamW(std::vector<torch::Tensor> params, AdamWOptions options)
    : params_(std::move(params)), options_(options) {
  for (const auto& p : params_) {
    m_.push_back(torch::zeros_like(p));
    v_.push_back(torch::zeros_like(p));
  }
}

void AdamW::ZeroGrad() {
  for (auto& p : params_) {
    if (p.grad().defined()) p.mutable_grad().zero_();
  }
}

void AdamW::Step(double lr) {
  torch::NoGradGuard no_grad;
  ++steps_;
  const double bc1 = 1.0 - std::pow(options_.beta1, double(steps_));
  const double bc2 = 1.0 - std::pow(options_.beta2, double(steps_));
  for (size_t i = 0; i < params_.size(); ++i) {
    torch::Tensor& p = params_[i];
    const double scale = i < lr_scales_.size() ? lr_scales_[i] : 1.0;
    if (!p.grad().defined() || scale == 0.0) continue;
    const double lr_i = lr * scale;
    const torch::Tensor& g = p.grad();
    if (p.dim() >= 2 && options_.weight_decay != 0) p.mul_(1.0 - lr_i * options_.weight_decay);
    m_[i].mul_(options_.beta1).add_(g, 1.0 - options_.beta1);
    v_[i].mul_(options_.beta2).addcmul_(g, g, 1.0 - options_.beta2);
    torch::Tensor denom = (v_[i].sqrt() / std::sqrt(bc2)).add_(options_.eps);
    p.addcdiv_(m_[i], denom, -lr_i / bc1);
  }
}

}  // namespace atelier::trainer
