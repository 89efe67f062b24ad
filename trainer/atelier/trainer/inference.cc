#include "atelier/trainer/inference.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "atelier/common/status_macros.h"

namespace atelier::trainer {

std::vector<int32_t> BuildTargets(const ImageSet& set, const LabelSpace& space, int64_t* unknown) {
  const size_t heads = space.heads.size();
  std::vector<int32_t> targets(set.keys.size() * heads, -1);
  int64_t missing = 0;
  for (size_t i = 0; i < set.keys.size(); ++i) {
    for (size_t h = 0; h < heads; ++h) {
      auto it = set.labels[i].find(space.heads[h].name);
      if (it == set.labels[i].end()) continue;
      int c = space.ClassIndex(h, it->second);
      if (c < 0) ++missing;
      targets[i * heads + h] = c;
    }
  }
  if (unknown != nullptr) *unknown = missing;
  return targets;
}

std::vector<uint8_t> ToChannels(const std::vector<uint8_t>& rgb, int channels) {
  if (channels == 3) return rgb;
  std::vector<uint8_t> out(rgb.size() / 3);
  for (size_t p = 0; p < out.size(); ++p) {
    out[p] = static_cast<uint8_t>((rgb[3 * p] + rgb[3 * p + 1] + rgb[3 * p + 2] + 1) / 3);
  }
  return out;
}

absl::StatusOr<EvalResult> Evaluate(Classifier& model, const ImageSet& set, const std::vector<int32_t>& targets,
                                    const std::vector<int64_t>& indices, const std::vector<double>& head_weights,
                                    int batch_size, Collective* collective) {
  const auto& heads = model->config.labels.heads;
  const int nh = static_cast<int>(heads.size());
  EvalResult result;
  for (const auto& head : heads) result.confusion.emplace_back(static_cast<int>(head.classes.size()));
  std::vector<double> loss_sum(nh, 0.0), count(nh, 0.0);
  std::vector<int64_t> mine;
  int rank = collective ? collective->rank() : 0, world = collective ? collective->world_size() : 1;
  for (size_t i = rank; i < indices.size(); i += world) mine.push_back(indices[i]);
  try {
    torch::NoGradGuard no_grad;
    model->eval();
    const torch::Device device = model->parameters().front().device();
    for (size_t start = 0; start < mine.size(); start += batch_size) {
      std::vector<int64_t> chunk(mine.begin() + start, mine.begin() + std::min(mine.size(), start + batch_size));
      const int64_t n = static_cast<int64_t>(chunk.size());
      torch::Tensor raw = torch::empty({n, set.image_size, set.image_size, set.channels}, torch::kUInt8);
      for (int64_t b = 0; b < n; ++b) {
        std::memcpy(raw.data_ptr<uint8_t>() + b * set.image_bytes(), set.image(chunk[b]), set.image_bytes());
      }
      torch::Tensor x = raw.permute({0, 3, 1, 2}).to(torch::kFloat32).div_(255.0f).contiguous();
      std::vector<torch::Tensor> logits = model->forward(x.to(device));
      for (torch::Tensor& l : logits) l = l.to(torch::kCPU, torch::kFloat32);
      std::vector<Prediction> preds(n);
      for (int64_t b = 0; b < n; ++b) preds[b].index = chunk[b];
      for (int h = 0; h < nh; ++h) {
        torch::Tensor target = torch::empty({n}, torch::kInt64);
        for (int64_t b = 0; b < n; ++b) target[b] = targets[chunk[b] * nh + h];
        torch::Tensor labelled = target.ge(0);
        int64_t k = labelled.sum().item<int64_t>();
        torch::Tensor argmax = logits[h].argmax(1);
        auto am = argmax.accessor<int64_t, 1>();
        for (int64_t b = 0; b < n; ++b) {
          preds[b].predicted.push_back(static_cast<int>(am[b]));
          int t = targets[chunk[b] * nh + h];
          if (t >= 0) result.confusion[h].Add(t, static_cast<int>(am[b]));
        }
        if (k > 0) {
          torch::Tensor l = torch::nn::functional::cross_entropy(
              logits[h], target, torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-1).reduction(torch::kSum));
          loss_sum[h] += l.item<double>();
          count[h] += static_cast<double>(k);
        }
      }
      for (auto& p : preds) result.predictions.push_back(std::move(p));
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("evaluation failed: ", e.what()));
  }
  if (collective != nullptr && world > 1) {
    // Everything summed in one float64 buffer: confusions, loss sums, counts.
    std::vector<double> flat;
    for (const auto& c : result.confusion)
      for (const auto& row : c.counts)
        for (int64_t v : row) flat.push_back(static_cast<double>(v));
    flat.insert(flat.end(), loss_sum.begin(), loss_sum.end());
    flat.insert(flat.end(), count.begin(), count.end());
    torch::Tensor t = torch::from_blob(flat.data(), {static_cast<int64_t>(flat.size())}, torch::kFloat64).clone();
    RETURN_IF_ERROR(collective->AllReduceSum(t));
    const double* d = t.data_ptr<double>();
    size_t o = 0;
    for (auto& c : result.confusion)
      for (auto& row : c.counts)
        for (auto& v : row) v = static_cast<int64_t>(d[o++]);
    for (int h = 0; h < nh; ++h) loss_sum[h] = d[o++];
    for (int h = 0; h < nh; ++h) count[h] = d[o++];
  }
  for (int h = 0; h < nh; ++h) {
    result.loss.push_back(count[h] > 0 ? loss_sum[h] / count[h] : 0.0);
    result.total_loss += (h < static_cast<int>(head_weights.size()) ? head_weights[h] : 1.0) * result.loss.back();
  }
  return result;
}

absl::StatusOr<std::vector<uint8_t>> PrepareImage(const std::string& bytes, const ModelConfig& config) {
  ASSIGN_OR_RETURN(std::vector<uint8_t> rgb, DecodeToSquare(bytes, config.image_size));
  return ToChannels(rgb, config.in_channels);
}

std::vector<torch::Tensor> ClassifyPrepared(Classifier& model, const torch::Tensor& prepared,
                                            torch::Tensor* inputs_out, torch::Tensor* features_out) {
  torch::NoGradGuard no_grad;
  model->eval();
  const torch::Device device = model->parameters().front().device();
  torch::Tensor x = prepared.permute({0, 3, 1, 2}).to(torch::kFloat32).div_(255.0f).contiguous();
  if (inputs_out != nullptr) *inputs_out = x;
  torch::Tensor features = model->Features(x.to(device));
  if (features_out != nullptr) *features_out = features.to(torch::kCPU, torch::kFloat32).contiguous();
  std::vector<torch::Tensor> logits = model->HeadLogits(features);
  for (torch::Tensor& l : logits) l = l.to(torch::kCPU, torch::kFloat32).contiguous();
  return logits;
}

std::vector<std::vector<HeadPrediction>> HeadPredictions(const std::vector<torch::Tensor>& logits) {
  const int64_t n = logits.empty() ? 0 : logits[0].size(0);
  std::vector<std::vector<HeadPrediction>> out(n, std::vector<HeadPrediction>(logits.size()));
  for (size_t h = 0; h < logits.size(); ++h) {
    torch::Tensor prob = torch::softmax(logits[h].to(torch::kFloat64), 1).contiguous();
    auto p = prob.accessor<double, 2>();
    for (int64_t i = 0; i < n; ++i) {
      HeadPrediction& hp = out[i][h];
      for (int64_t k = 0; k < prob.size(1); ++k) {
        hp.probabilities.push_back(p[i][k]);
        if (hp.predicted < 0 || p[i][k] > hp.probability) {
          hp.predicted = static_cast<int>(k);
          hp.probability = p[i][k];
        }
      }
    }
  }
  return out;
}

absl::StatusOr<std::vector<ImagePrediction>> PredictFiles(Classifier& model,
                                                          const std::vector<std::filesystem::path>& images,
                                                          torch::Tensor* inputs_out) {
  const ModelConfig& config = model->config;
  const int s = config.image_size, c = config.in_channels;
  torch::Tensor raw = torch::empty({static_cast<int64_t>(images.size()), s, s, c}, torch::kUInt8);
  for (size_t i = 0; i < images.size(); ++i) {
    std::ifstream in(images[i], std::ios::binary);
    if (!in) return absl::NotFoundError(absl::StrCat("cannot open image ", images[i].string()));
    std::ostringstream bytes;
    bytes << in.rdbuf();
    ASSIGN_OR_RETURN(std::vector<uint8_t> pixels, PrepareImage(std::move(bytes).str(), config),
                     _.prefix(images[i].string()));
    std::memcpy(raw.data_ptr<uint8_t>() + i * pixels.size(), pixels.data(), pixels.size());
  }
  std::vector<ImagePrediction> out;
  try {
    std::vector<torch::Tensor> logits = ClassifyPrepared(model, raw, inputs_out);
    std::vector<std::vector<HeadPrediction>> predictions = HeadPredictions(logits);
    for (size_t i = 0; i < images.size(); ++i) {
      ImagePrediction p;
      p.image = images[i].string();
      for (size_t h = 0; h < logits.size(); ++h) {
        std::vector<std::pair<std::string, double>> classes;
        std::vector<float> raw_logits;
        const auto& probabilities = predictions[i][h].probabilities;
        for (size_t k = 0; k < probabilities.size(); ++k) {
          classes.push_back({config.labels.heads[h].classes[k], probabilities[k]});
          raw_logits.push_back(logits[h][static_cast<int64_t>(i)][static_cast<int64_t>(k)].item<float>());
        }
        std::stable_sort(classes.begin(), classes.end(), [](auto& a, auto& b) { return a.second > b.second; });
        p.classes.push_back(std::move(classes));
        p.logits.push_back(std::move(raw_logits));
      }
      out.push_back(std::move(p));
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("prediction failed: ", e.what()));
  }
  return out;
}

}  // namespace atelier::trainer
