// Feature extractors for the classifier (model.h), selected by name:
//
//   small-cnn           atelier's separable CNN (stem, stages; see model.h)
//   resnet18/34/50      torchvision.models.resnet* without `fc`
//   mobilenet_v3_small  torchvision.models.mobilenet_v3_small without
//                       `classifier.3` (features -> avgpool -> classifier.0 ->
//                       hardswish: 1024 features)
//
// The torchvision ones have torchvision's module names, parameter shapes,
// batch-norm eps/momentum and forward pass, so that the state_dict of the
// torchvision model (torch.save(model.state_dict())) holds exactly the
// backbone's tensors plus that model's classification layer
// (ReplacedClassifierPrefix). Not thread-safe (torch::nn::Module).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "absl/status/statusor.h"

namespace atelier::trainer {

struct BackboneConfig {
  std::string name = "small-cnn";
  int in_channels = 3;
  // small-cnn only.
  int width = 32;
  int depth = 3;
  bool batch_norm = true;
};

class Backbone : public torch::nn::Module {
 public:
  // [N, C, H, W] (already normalised) -> [N, feature_dim()].
  torch::Tensor Features(torch::Tensor x) { return Pool(FeatureMap(x)); }
  // The last convolutional feature map [N, C', h, w]: the layer Grad-CAM
  // explains (grad_cam.h).
  virtual torch::Tensor FeatureMap(torch::Tensor x) = 0;
  // The feature map to the features: global average pooling (mobilenet_v3_small:
  // then its classifier.0 and hardswish).
  virtual torch::Tensor Pool(torch::Tensor map) { return map.mean({2, 3}); }
  virtual int64_t feature_dim() const = 0;
};

// The supported names, in the order docs and errors list them.
const std::vector<std::string>& BackboneNames();
bool IsTorchvisionBackbone(const std::string& name);
// InvalidArgument naming the choices for an unknown name or a bad shape.
absl::Status ValidateBackboneConfig(const BackboneConfig& config);
// The backbone; the config must be valid (ValidateBackboneConfig).
std::shared_ptr<Backbone> MakeBackbone(const BackboneConfig& config);
// The state_dict prefix of the torchvision model's own classification layer,
// which the new heads replace ("fc." or "classifier.3."; "" for small-cnn).
std::string ReplacedClassifierPrefix(const std::string& name);

}  // namespace atelier::trainer
