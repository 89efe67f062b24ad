#include "atelier/trainer/device_augment.h"

namespace atelier::trainer {

torch::Tensor PrepareImages(const torch::Tensor& raw, const torch::Tensor& theta, bool channels_last) {
  torch::NoGradGuard no_grad;
  // [N, S, S, C] uint8 is already channels-last memory for the NCHW view.
  torch::Tensor x = raw.permute({0, 3, 1, 2}).to(torch::kFloat32).div_(255.0f);
  if (theta.defined()) {
    namespace F = torch::nn::functional;
    torch::Tensor grid =
        F::affine_grid(theta.to(torch::kFloat32), x.sizes(), /*align_corners=*/false);
    x = F::grid_sample(x, grid,
                       F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kBorder).align_corners(false));
  }
  return x.contiguous(channels_last ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous);
}

}  // namespace atelier::trainer
