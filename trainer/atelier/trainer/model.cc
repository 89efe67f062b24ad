#include "atelier/trainer/model.h"

#include "absl/strings/str_cat.h"

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

BackboneConfig BackboneConfigOf(const ModelConfig& config) {
  return {config.backbone, config.in_channels, config.width, config.depth, config.batch_norm};
}

absl::Status ValidateModelConfig(const ModelConfig& config) {
  if (config.normalize != "none" && config.normalize != "imagenet") {
    return absl::InvalidArgumentError(absl::StrCat("normalize must be none or imagenet, not '", config.normalize, "'"));
  }
  if (config.labels.heads.empty()) return absl::InvalidArgumentError("the model has no heads");
  return ValidateBackboneConfig(BackboneConfigOf(config));
}

ClassifierImpl::ClassifierImpl(const ModelConfig& cfg) : config(cfg) {
  backbone = MakeBackbone(BackboneConfigOf(cfg));
  for (const auto& child : backbone->named_children()) register_module(child.key(), child.value());
  dropout = register_module("dropout", nn::Dropout(cfg.dropout));
  heads = register_module("heads", nn::ModuleList());
  for (const auto& head : cfg.labels.heads) {
    nn::Linear linear(backbone->feature_dim(), static_cast<int64_t>(head.classes.size()));
    heads->push_back(linear);
    head_layers.push_back(linear);
  }
}

torch::Tensor ClassifierImpl::Features(torch::Tensor x) { return backbone->Features(Normalize(x)); }

torch::Tensor ClassifierImpl::Normalize(torch::Tensor x) {
  if (config.normalize == "imagenet") {
    // ImageNet statistics (torchvision's transforms); grey: their averages.
    const bool grey = x.size(1) == 1;
    auto opts = torch::TensorOptions(torch::kFloat32).device(x.device());
    torch::Tensor mean = grey ? torch::tensor({0.449f}, opts) : torch::tensor({0.485f, 0.456f, 0.406f}, opts);
    torch::Tensor std = grey ? torch::tensor({0.226f}, opts) : torch::tensor({0.229f, 0.224f, 0.225f}, opts);
    x = (x - mean.view({1, -1, 1, 1}).to(x.scalar_type())) / std.view({1, -1, 1, 1}).to(x.scalar_type());
  }
  return x;
}

std::vector<torch::Tensor> ClassifierImpl::forward(torch::Tensor x, bool train_backbone) {
  torch::Tensor features;
  if (train_backbone) {
    features = Features(x);
  } else {
    torch::NoGradGuard no_grad;
    features = Features(x);
  }
  return HeadLogits(dropout(features));
}

std::vector<torch::Tensor> ClassifierImpl::HeadLogits(const torch::Tensor& features) {
  std::vector<torch::Tensor> out;
  for (auto& head : head_layers) out.push_back(head(features));
  return out;
}

std::vector<std::pair<std::string, torch::Tensor>> StateDict(nn::Module& module) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : module.named_parameters(true)) out.emplace_back(item.key(), item.value());
  for (const auto& item : module.named_buffers(true)) out.emplace_back(item.key(), item.value());
  return out;
}

}  // namespace atelier::trainer
