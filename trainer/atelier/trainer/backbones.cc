#include "atelier/trainer/backbones.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "atelier/trainer/model.h"

namespace atelier::trainer {
namespace nn = torch::nn;
namespace {

nn::Conv2d Conv(int in, int out, int kernel, int stride, int groups = 1) {
  return nn::Conv2d(
      nn::Conv2dOptions(in, out, kernel).stride(stride).padding((kernel - 1) / 2).groups(groups).bias(false));
}

// ---- small-cnn ----

class SmallCnn : public Backbone {
 public:
  explicit SmallCnn(const BackboneConfig& c) {
    stem_ = register_module("stem", Stem(c.in_channels, c.width, c.batch_norm));
    stages_ = register_module("stages", nn::ModuleList());
    int channels = c.width;
    for (int i = 0; i < c.depth; ++i) {
      int out = c.width << i;
      stages_->push_back(Stage(channels, out, c.batch_norm));
      channels = out;
    }
    dim_ = channels;
  }
  torch::Tensor FeatureMap(torch::Tensor x) override {
    x = stem_(x);
    for (auto& stage : *stages_) x = stage->as<StageImpl>()->forward(x);
    return x;
  }
  int64_t feature_dim() const override { return dim_; }

 private:
  Stem stem_{nullptr};
  nn::ModuleList stages_{nullptr};
  int64_t dim_ = 0;
};

// ---- ResNet (torchvision.models.resnet) ----

class ResidualBlock : public nn::Module {
 public:
  // bottleneck=false: BasicBlock (expansion 1); true: Bottleneck (expansion 4).
  ResidualBlock(int in, int planes, int stride, bool bottleneck) {
    const int out = bottleneck ? planes * 4 : planes;
    if (bottleneck) {
      conv1_ = register_module("conv1", Conv(in, planes, 1, 1));
      bn1_ = register_module("bn1", nn::BatchNorm2d(planes));
      conv2_ = register_module("conv2", Conv(planes, planes, 3, stride));
      bn2_ = register_module("bn2", nn::BatchNorm2d(planes));
      conv3_ = register_module("conv3", Conv(planes, out, 1, 1));
      bn3_ = register_module("bn3", nn::BatchNorm2d(out));
    } else {
      conv1_ = register_module("conv1", Conv(in, planes, 3, stride));
      bn1_ = register_module("bn1", nn::BatchNorm2d(planes));
      conv2_ = register_module("conv2", Conv(planes, planes, 3, 1));
      bn2_ = register_module("bn2", nn::BatchNorm2d(planes));
    }
    if (stride != 1 || in != out) {
      downsample_ = register_module("downsample", nn::Sequential(Conv(in, out, 1, stride), nn::BatchNorm2d(out)));
    }
  }
  torch::Tensor forward(torch::Tensor x) {
    torch::Tensor identity = downsample_ ? downsample_->forward(x) : x;
    torch::Tensor y = torch::relu(bn1_(conv1_(x)));
    y = bn2_(conv2_(y));
    if (conv3_) y = bn3_(conv3_(torch::relu(y)));
    return torch::relu(y + identity);
  }

 private:
  nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
  nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr};
  nn::Sequential downsample_{nullptr};
};

class ResNet : public Backbone {
 public:
  ResNet(int in_channels, const std::vector<int>& blocks, bool bottleneck) {
    conv1_ = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(in_channels, 64, 7).stride(2).padding(3).bias(false)));
    bn1_ = register_module("bn1", nn::BatchNorm2d(64));
    int in = 64;
    for (int stage = 0; stage < 4; ++stage) {
      const int planes = 64 << stage;
      auto layer = register_module(absl::StrCat("layer", stage + 1), nn::ModuleList());
      for (int b = 0; b < blocks[stage]; ++b) {
        auto block = std::make_shared<ResidualBlock>(in, planes, b == 0 && stage > 0 ? 2 : 1, bottleneck);
        layer->push_back(block);
        blocks_.push_back(block);
        in = bottleneck ? planes * 4 : planes;
      }
    }
    dim_ = in;
  }
  torch::Tensor FeatureMap(torch::Tensor x) override {
    x = torch::relu(bn1_(conv1_(x)));
    x = torch::max_pool2d(x, 3, 2, 1);
    for (auto& block : blocks_) x = block->forward(x);
    return x;
  }
  int64_t feature_dim() const override { return dim_; }

 private:
  nn::Conv2d conv1_{nullptr};
  nn::BatchNorm2d bn1_{nullptr};
  std::vector<std::shared_ptr<ResidualBlock>> blocks_;
  int64_t dim_ = 0;
};

// ---- MobileNetV3 small (torchvision.models.mobilenetv3) ----

enum class Act { kNone, kRelu, kHardswish };

torch::Tensor Apply(Act act, torch::Tensor x) {
  switch (act) {
    case Act::kRelu: return torch::relu(x);
    case Act::kHardswish: return torch::hardswish(x);
    case Act::kNone: break;
  }
  return x;
}

int MakeDivisible(double v, int divisor = 8) {
  int out = std::max(divisor, static_cast<int>(v + divisor / 2.0) / divisor * divisor);
  if (out < 0.9 * v) out += divisor;
  return out;
}

nn::BatchNorm2d MobileNetNorm(int channels) {
  return nn::BatchNorm2d(nn::BatchNorm2dOptions(channels).eps(0.001).momentum(0.01));
}

// torchvision.ops.Conv2dNormActivation: "0" conv, "1" batch norm, activation.
class ConvNormAct : public nn::Module {
 public:
  ConvNormAct(int in, int out, int kernel, int stride, int groups, Act act) : act_(act) {
    conv_ = register_module("0", Conv(in, out, kernel, stride, groups));
    bn_ = register_module("1", MobileNetNorm(out));
  }
  torch::Tensor forward(torch::Tensor x) { return Apply(act_, bn_(conv_(x))); }

 private:
  nn::Conv2d conv_{nullptr};
  nn::BatchNorm2d bn_{nullptr};
  Act act_;
};

// torchvision.ops.SqueezeExcitation with ReLU and a hard sigmoid scale.
class SqueezeExcitation : public nn::Module {
 public:
  SqueezeExcitation(int channels, int squeeze) {
    fc1_ = register_module("fc1", nn::Conv2d(nn::Conv2dOptions(channels, squeeze, 1)));
    fc2_ = register_module("fc2", nn::Conv2d(nn::Conv2dOptions(squeeze, channels, 1)));
  }
  torch::Tensor forward(torch::Tensor x) {
    torch::Tensor scale = x.mean({2, 3}, /*keepdim=*/true);
    scale = torch::hardsigmoid(fc2_(torch::relu(fc1_(scale))));
    return x * scale;
  }

 private:
  nn::Conv2d fc1_{nullptr}, fc2_{nullptr};
};

struct BlockSetting {
  int in, kernel, expanded, out;
  bool se;
  Act act;
  int stride;
};

class InvertedResidual : public nn::Module {
 public:
  explicit InvertedResidual(const BlockSetting& s) : residual_(s.stride == 1 && s.in == s.out) {
    auto block = register_module("block", nn::ModuleList());
    if (s.expanded != s.in) layers_.push_back(std::make_shared<ConvNormAct>(s.in, s.expanded, 1, 1, 1, s.act));
    layers_.push_back(std::make_shared<ConvNormAct>(s.expanded, s.expanded, s.kernel, s.stride, s.expanded, s.act));
    for (auto& l : layers_) block->push_back(l);
    if (s.se) {
      se_ = std::make_shared<SqueezeExcitation>(s.expanded, MakeDivisible(s.expanded / 4));
      block->push_back(se_);
    }
    project_ = std::make_shared<ConvNormAct>(s.expanded, s.out, 1, 1, 1, Act::kNone);
    block->push_back(project_);
  }
  torch::Tensor forward(torch::Tensor x) {
    torch::Tensor y = x;
    for (auto& l : layers_) y = l->forward(y);
    if (se_) y = se_->forward(y);
    y = project_->forward(y);
    return residual_ ? y + x : y;
  }

 private:
  bool residual_;
  std::vector<std::shared_ptr<ConvNormAct>> layers_;
  std::shared_ptr<SqueezeExcitation> se_;
  std::shared_ptr<ConvNormAct> project_;
};

class MobileNetV3Small : public Backbone {
 public:
  explicit MobileNetV3Small(int in_channels) {
    const Act RE = Act::kRelu, HS = Act::kHardswish;
    const std::vector<BlockSetting> settings = {
        {16, 3, 16, 16, true, RE, 2},   {16, 3, 72, 24, false, RE, 2},  {24, 3, 88, 24, false, RE, 1},
        {24, 5, 96, 40, true, HS, 2},   {40, 5, 240, 40, true, HS, 1},  {40, 5, 240, 40, true, HS, 1},
        {40, 5, 120, 48, true, HS, 1},  {48, 5, 144, 48, true, HS, 1},  {48, 5, 288, 96, true, HS, 2},
        {96, 5, 576, 96, true, HS, 1},  {96, 5, 576, 96, true, HS, 1}};
    auto features = register_module("features", nn::ModuleList());
    first_ = std::make_shared<ConvNormAct>(in_channels, 16, 3, 2, 1, HS);
    features->push_back(first_);
    for (const auto& s : settings) {
      blocks_.push_back(std::make_shared<InvertedResidual>(s));
      features->push_back(blocks_.back());
    }
    last_ = std::make_shared<ConvNormAct>(96, 576, 1, 1, 1, HS);
    features->push_back(last_);
    auto classifier = register_module("classifier", nn::ModuleList());
    linear_ = nn::Linear(576, 1024);
    classifier->push_back(linear_);
  }
  torch::Tensor FeatureMap(torch::Tensor x) override {
    x = first_->forward(x);
    for (auto& b : blocks_) x = b->forward(x);
    return last_->forward(x);
  }
  torch::Tensor Pool(torch::Tensor map) override { return torch::hardswish(linear_(map.mean({2, 3}))); }
  int64_t feature_dim() const override { return 1024; }

 private:
  std::shared_ptr<ConvNormAct> first_, last_;
  std::vector<std::shared_ptr<InvertedResidual>> blocks_;
  nn::Linear linear_{nullptr};
};

}  // namespace

const std::vector<std::string>& BackboneNames() {
  static const std::vector<std::string> kNames = {"small-cnn", "resnet18", "resnet34", "resnet50",
                                                  "mobilenet_v3_small"};
  return kNames;
}

bool IsTorchvisionBackbone(const std::string& name) {
  return name != "small-cnn" && std::count(BackboneNames().begin(), BackboneNames().end(), name) > 0;
}

absl::Status ValidateBackboneConfig(const BackboneConfig& c) {
  if (std::count(BackboneNames().begin(), BackboneNames().end(), c.name) == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--backbone '", c.name, "' is not one of ", absl::StrJoin(BackboneNames(), ", ")));
  }
  if (c.in_channels != 1 && c.in_channels != 3) {
    return absl::InvalidArgumentError(absl::StrCat("--channels must be 1 or 3, not ", c.in_channels));
  }
  if (c.name == "small-cnn" && (c.width < 1 || c.depth < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--width and --depth must be at least 1 (got ", c.width, " and ", c.depth, ")"));
  }
  return absl::OkStatus();
}

std::shared_ptr<Backbone> MakeBackbone(const BackboneConfig& c) {
  if (c.name == "resnet18") return std::make_shared<ResNet>(c.in_channels, std::vector<int>{2, 2, 2, 2}, false);
  if (c.name == "resnet34") return std::make_shared<ResNet>(c.in_channels, std::vector<int>{3, 4, 6, 3}, false);
  if (c.name == "resnet50") return std::make_shared<ResNet>(c.in_channels, std::vector<int>{3, 4, 6, 3}, true);
  if (c.name == "mobilenet_v3_small") return std::make_shared<MobileNetV3Small>(c.in_channels);
  return std::make_shared<SmallCnn>(c);
}

std::string ReplacedClassifierPrefix(const std::string& name) {
  if (absl::StartsWith(name, "resnet")) return "fc.";
  if (name == "mobilenet_v3_small") return "classifier.3.";
  return "";
}

}  // namespace atelier::trainer
