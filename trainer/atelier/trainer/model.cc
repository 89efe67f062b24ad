#include "atelier/trainer/model.h"

namespace atelier::trainer {
namespace nn = torch::nn;

SepConvImpl::SepConvImpl(int in, int out, bool batch_norm) {
  dw = register_module("dw", nn::Conv2d(nn::Conv2dOptions(in, in, 3).padding(1).groups(in).bias(false)));
  pw = register_module("pw", nn::Conv2d(nn::Conv2dOptions(in, out, 1).bias(!batch_norm)));
  if (batch_norm) bn = register_module("bn", nn::BatchNorm2d(out));
}

torch::Tensor SepConvImpl::forward(torch::Tensor x) {
  x = pw(dw(x));
  if (bn) x = bn(x);
  return torch::relu(x);
}

StageImpl::StageImpl(int in, int out, bool batch_norm) {
  sep1 = register_module("sep1", SepConv(in, out, batch_norm));
  sep2 = register_module("sep2", SepConv(out, out, batch_norm));
}

torch::Tensor StageImpl::forward(torch::Tensor x) {
  x = sep2(sep1(x));
  if (x.size(2) >= 2 && x.size(3) >= 2) x = torch::max_pool2d(x, 2);
  return x;
}

StemImpl::StemImpl(int in, int out, bool batch_norm) {
  conv = register_module("conv", nn::Conv2d(nn::Conv2dOptions(in, out, 3).padding(1).bias(!batch_norm)));
  if (batch_norm) bn = register_module("bn", nn::BatchNorm2d(out));
}

torch::Tensor StemImpl::forward(torch::Tensor x) {
  x = conv(x);
  if (bn) x = bn(x);
  return torch::relu(x);
}

ClassifierImpl::ClassifierImpl(const ModelConfig& cfg) : config(cfg) {
  stem = register_module("stem", Stem(cfg.in_channels, cfg.width, cfg.batch_norm));
  stages = register_module("stages", nn::ModuleList());
  int channels = cfg.width;
  for (int i = 0; i < cfg.depth; ++i) {
    int out = cfg.width << i;
    stages->push_back(Stage(channels, out, cfg.batch_norm));
    channels = out;
  }
  dropout = register_module("dropout", nn::Dropout(cfg.dropout));
  heads = register_module("heads", nn::ModuleList());
  for (const auto& head : cfg.labels.heads) {
    nn::Linear linear(channels, static_cast<int64_t>(head.classes.size()));
    heads->push_back(linear);
    head_layers.push_back(linear);
  }
}

std::vector<torch::Tensor> ClassifierImpl::forward(torch::Tensor x) {
  x = stem(x);
  for (auto& stage : *stages) x = stage->as<StageImpl>()->forward(x);
  x = x.mean({2, 3});
  x = dropout(x);
  std::vector<torch::Tensor> out;
  for (auto& head : head_layers) out.push_back(head(x));
  return out;
}

std::vector<std::pair<std::string, torch::Tensor>> StateDict(nn::Module& module) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : module.named_parameters(true)) out.emplace_back(item.key(), item.value());
  for (const auto& item : module.named_buffers(true)) out.emplace_back(item.key(), item.value());
  return out;
}

}  // namespace atelier::trainer
