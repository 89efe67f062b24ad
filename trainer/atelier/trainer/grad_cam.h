// Grad-CAM (Selvaraju et al., 2017): where in an image the model looked for a
// class. For head h and class c of each image: the gradients of the class's
// logit with respect to the backbone's last feature map (Backbone::FeatureMap)
// are averaged over the map's positions into one weight per channel; the
// heatmap is ReLU(sum over channels of weight x map), upsampled bilinearly to
// the image size and scaled to [0, 1] between its minimum and maximum (as the
// common implementations do; all 0 when it is flat, e.g. no positive
// evidence). Eval mode; the model's parameters get no gradients.
// Not thread-safe (uses `model`).
#pragma once

#include <vector>

#include <torch/torch.h>

#include "absl/status/statusor.h"
#include "atelier/trainer/model.h"

namespace atelier::trainer {

// `prepared`: uint8 [N, S, S, C] as ClassifyPrepared takes it; `classes`: the
// class to explain per image (-1: the predicted one). Per image: S x S values
// in [0, 1], row-major. InvalidArgument for a bad head or class.
absl::StatusOr<std::vector<std::vector<float>>> GradCam(Classifier& model, const torch::Tensor& prepared, int head,
                                                        const std::vector<int>& classes);

}  // namespace atelier::trainer
