#include "atelier/trainer/grad_cam.h"

#include "absl/strings/str_cat.h"
#include "atelier/trainer/torch_file.h"

namespace atelier::trainer {

absl::StatusOr<std::vector<std::vector<float>>> GradCam(Classifier& model, const torch::Tensor& prepared, int head,
                                                        const std::vector<int>& classes) {
  const auto& heads = model->config.labels.heads;
  if (head < 0 || head >= static_cast<int>(heads.size())) {
    return absl::InvalidArgumentError(absl::StrCat("Grad-CAM: no head ", head));
  }
  const int64_t n = prepared.size(0), size = prepared.size(1);
  if (static_cast<int64_t>(classes.size()) != n) {
    return absl::InvalidArgumentError("Grad-CAM: one class per image");
  }
  const int k = static_cast<int>(heads[head].classes.size());
  for (int c : classes) {
    if (c >= k) return absl::InvalidArgumentError(absl::StrCat("Grad-CAM: head ", heads[head].name, " has no class ", c));
  }
  std::vector<std::vector<float>> out;
  try {
    model->eval();
    torch::AutoGradMode grad(true);
    const torch::Device device = model->parameters().front().device();
    torch::Tensor x = prepared.permute({0, 3, 1, 2}).to(torch::kFloat32).div_(255.0f).contiguous().to(device);
    torch::Tensor map = model->backbone->FeatureMap(model->Normalize(x));
    torch::Tensor logits = model->HeadLogits(model->backbone->Pool(map))[head];
    std::vector<int64_t> target(n);
    torch::Tensor predicted = logits.argmax(1).to(torch::kCPU);
    for (int64_t i = 0; i < n; ++i) target[i] = classes[i] >= 0 ? classes[i] : predicted[i].item<int64_t>();
    torch::Tensor score =
        logits.gather(1, torch::tensor(target, torch::kInt64).to(device).view({n, 1})).sum();
    torch::Tensor gradient = torch::autograd::grad({score}, {map})[0];
    torch::Tensor weights = gradient.mean({2, 3}, /*keepdim=*/true);
    torch::Tensor cam = torch::relu((weights * map).sum(1, /*keepdim=*/true)).detach();
    cam = torch::nn::functional::interpolate(
        cam, torch::nn::functional::InterpolateFuncOptions()
                 .size(std::vector<int64_t>{size, size})
                 .mode(torch::kBilinear)
                 .align_corners(false));
    cam = cam.view({n, size * size});
    torch::Tensor low = std::get<0>(cam.min(1, /*keepdim=*/true));
    torch::Tensor range = std::get<0>(cam.max(1, /*keepdim=*/true)) - low;
    cam = torch::where(range > 1e-12 * (1 + low.abs()), (cam - low) / range.clamp_min(1e-30), torch::zeros_like(cam))
              .to(torch::kCPU)
              .contiguous();
    for (int64_t i = 0; i < n; ++i) {
      const float* row = cam.data_ptr<float>() + i * size * size;
      out.emplace_back(row, row + size * size);
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("Grad-CAM failed: ", TorchErrorMessage(e)));
  }
  return out;
}

}  // namespace atelier::trainer
