// The classifier: input normalisation, a backbone (backbones.h: atelier's
// small CNN or a torchvision architecture with torchvision's names), dropout,
// and one linear head per label ("heads.<i>").
//
// The small CNN ("small-cnn", the default): depthwise-separable convolutions
// with batch norm, max pooling:
//   stem:      conv3x3(C -> w) [+ BN] + ReLU
//   stage i:   SepConv(c_in -> w*2^i) ; SepConv(w*2^i -> w*2^i) ; MaxPool 2x2
//              (i = 0..depth-1; SepConv = depthwise 3x3, pointwise 1x1 [+ BN] + ReLU)
//   neck:      global average pool, dropout
//   heads[h]:  Linear(w*2^(depth-1) -> classes of head h)
//
// Input: float [N, C, S, S] = pixel / 255 (C = 1 grey or 3 RGB, channel 0 red).
// With normalize "imagenet" (a torchvision init) the model itself subtracts
// the ImageNet mean and divides by its std (grey: their averages) first.
// State_dict names: the backbone's (no prefix, so torchvision's own) plus
// heads.<i>.weight/bias; they match bench/trainer/atelier_model.py, the PyTorch
// twin that loads model.pt. Not thread-safe (a torch::nn::Module).
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

#include "absl/status/status.h"
#include "atelier/trainer/backbones.h"
#include "atelier/trainer/labels.h"

namespace atelier::trainer {

struct ModelConfig {
  std::string backbone = "small-cnn";  // BackboneNames()
  std::string normalize = "none";      // "none" | "imagenet"
  int in_channels = 3;
  int image_size = 64;
  int width = 32;
  int depth = 3;
  double dropout = 0.2;
  bool batch_norm = true;
  LabelSpace labels;  // heads in order, with their classes
  // Where training read the labels: `train --label-field` as
  // dataset::LabelFieldsToString writes it; empty: the sample JSON's "labels"
  // (and .cls). `evaluate` reads labels the same way unless told otherwise.
  std::string label_fields;
};

struct SepConvImpl : torch::nn::Module {
  SepConvImpl(int in, int out, bool batch_norm);
  torch::Tensor forward(torch::Tensor x);
  torch::nn::Conv2d dw{nullptr}, pw{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
};
TORCH_MODULE(SepConv);

struct StageImpl : torch::nn::Module {
  StageImpl(int in, int out, bool batch_norm);
  torch::Tensor forward(torch::Tensor x);
  SepConv sep1{nullptr}, sep2{nullptr};
};
TORCH_MODULE(Stage);

struct StemImpl : torch::nn::Module {
  StemImpl(int in, int out, bool batch_norm);
  torch::Tensor forward(torch::Tensor x);
  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
};
TORCH_MODULE(Stem);

struct ClassifierImpl : torch::nn::Module {
  // The config must be valid (ValidateModelConfig).
  explicit ClassifierImpl(const ModelConfig& config);
  // Logits per head, in config.labels.heads order. train_backbone=false runs
  // the backbone without autograd (frozen: only the heads get gradients).
  std::vector<torch::Tensor> forward(torch::Tensor x, bool train_backbone = true);
  // The backbone's features of x (normalised first as configured): the input
  // of the heads.
  torch::Tensor Features(torch::Tensor x);
  // x normalised as configured (the backbone's input).
  torch::Tensor Normalize(torch::Tensor x);
  // Logits per head of backbone features (no dropout): forward() in eval mode
  // is HeadLogits(Features(x)).
  std::vector<torch::Tensor> HeadLogits(const torch::Tensor& features);
  // Parameters of the backbone (everything but the heads).
  std::vector<torch::Tensor> BackboneParameters() { return backbone->parameters(); }

  ModelConfig config;
  // Not registered itself: its children are registered directly, so their
  // state_dict names carry no prefix.
  std::shared_ptr<Backbone> backbone;
  torch::nn::Dropout dropout{nullptr};
  torch::nn::ModuleList heads{nullptr};
  std::vector<torch::nn::Linear> head_layers;
};
TORCH_MODULE(Classifier);

BackboneConfig BackboneConfigOf(const ModelConfig& config);
absl::Status ValidateModelConfig(const ModelConfig& config);

// Parameters and buffers by state_dict name, in registration order.
std::vector<std::pair<std::string, torch::Tensor>> StateDict(torch::nn::Module& module);

}  // namespace atelier::trainer
