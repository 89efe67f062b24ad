// The classifier: a CNN of depthwise-separable convolutions with batch norm,
// max pooling and dropout, and one linear head per label.
//
//   stem:      conv3x3(C -> w) [+ BN] + ReLU
//   stage i:   SepConv(c_in -> w*2^i) ; SepConv(w*2^i -> w*2^i) ; MaxPool 2x2
//              (i = 0..depth-1; SepConv = depthwise 3x3, pointwise 1x1 [+ BN] + ReLU)
//   neck:      global average pool, dropout
//   heads[h]:  Linear(w*2^(depth-1) -> classes of head h)
//
// Input: float [N, C, S, S] = pixel / 255 (C = 1 grey or 3 RGB, channel 0 red).
// Parameter names (state_dict) match bench/trainer/atelier_model.py, the
// PyTorch twin that loads model.pt. Not thread-safe (a torch::nn::Module).
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

#include "atelier/trainer/labels.h"

namespace atelier::trainer {

struct ModelConfig {
  int in_channels = 3;
  int image_size = 64;
  int width = 32;
  int depth = 3;
  double dropout = 0.2;
  bool batch_norm = true;
  LabelSpace labels;  // heads in order, with their classes
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
  explicit ClassifierImpl(const ModelConfig& config);
  // Logits per head, in config.labels.heads order.
  std::vector<torch::Tensor> forward(torch::Tensor x);

  ModelConfig config;
  Stem stem{nullptr};
  torch::nn::ModuleList stages{nullptr};
  torch::nn::Dropout dropout{nullptr};
  torch::nn::ModuleList heads{nullptr};
  std::vector<torch::nn::Linear> head_layers;
};
TORCH_MODULE(Classifier);

// Parameters and buffers by state_dict name, in registration order.
std::vector<std::pair<std::string, torch::Tensor>> StateDict(torch::nn::Module& module);

}  // namespace atelier::trainer
