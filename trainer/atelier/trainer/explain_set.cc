#include "atelier/trainer/explain_set.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "atelier/common/atomic_file.h"
#include "atelier/common/env.h"
#include "atelier/common/status_macros.h"
#include "atelier/trainer/explain_page.h"
#include "atelier/trainer/grad_cam.h"
#include "atelier/trainer/inference.h"

namespace atelier::trainer {
namespace {

constexpr size_t kBatch = 32;  // images per Grad-CAM pass

// The explained images of inputs[begin, end): pixels, predicted class and heatmap per head.
absl::Status ExplainBatch(Classifier& model, const std::vector<ExplainInput>& inputs, size_t begin, size_t end,
                          std::vector<ExplainedImage>& out) {
  const ModelConfig& config = model->config;
  const int64_t n = static_cast<int64_t>(end - begin);
  const size_t image_bytes = size_t(config.image_size) * config.image_size * config.in_channels;
  torch::Tensor prepared = torch::empty({n, config.image_size, config.image_size, config.in_channels}, torch::kUInt8);
  for (size_t i = begin; i < end; ++i) {
    if (inputs[i].pixels.size() != image_bytes) {
      return absl::InvalidArgumentError(absl::StrCat(inputs[i].name, ": prepared image has ", inputs[i].pixels.size(),
                                                     " bytes, the model takes ", image_bytes));
    }
    std::memcpy(prepared.data_ptr<uint8_t>() + (i - begin) * image_bytes, inputs[i].pixels.data(), image_bytes);
  }
  const std::vector<std::vector<HeadPrediction>> predictions = HeadPredictions(ClassifyPrepared(model, prepared));
  for (size_t i = begin; i < end; ++i) {
    ExplainedImage& image = out.emplace_back();
    image.name = inputs[i].name;
    image.size = config.image_size;
    image.channels = config.in_channels;
    image.pixels = inputs[i].pixels;
  }
  for (size_t h = 0; h < config.labels.heads.size(); ++h) {
    std::vector<int> classes;
    for (size_t i = 0; i < predictions.size(); ++i) classes.push_back(predictions[i][h].predicted);
    ASSIGN_OR_RETURN(auto heatmaps, GradCam(model, prepared, static_cast<int>(h), classes));
    for (size_t i = 0; i < predictions.size(); ++i) {
      const HeadPrediction& p = predictions[i][h];
      out[out.size() - predictions.size() + i].heads.push_back(
          {config.labels.heads[h].name, config.labels.heads[h].classes[p.predicted], p.probability,
           std::move(heatmaps[i])});
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteExplainPage(Classifier& model, const std::vector<ExplainInput>& inputs,
                              const std::filesystem::path& page, const std::string& title) {
  std::vector<ExplainedImage> images;
  try {
    for (size_t begin = 0; begin < inputs.size(); begin += kBatch) {
      RETURN_IF_ERROR(ExplainBatch(model, inputs, begin, std::min(inputs.size(), begin + kBatch), images));
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("Grad-CAM for ", page.string(), ": ", e.what()));
  }
  ASSIGN_OR_RETURN(std::string html, RenderExplainPage(title, images));
  Env& env = *Env::Default();
  if (page.has_parent_path()) RETURN_IF_ERROR(env.CreateDirs(page.parent_path()));
  return WriteFileAtomically(env, page, html);
}

void ExplainSample::Add(const BulkInput& input) {
  if (static_cast<int>(inputs_.size()) >= limit_ || !input.row.error.empty()) return;
  std::string bytes = input.bytes;
  if (bytes.empty() && !input.file.empty()) {
    auto read = Env::Default()->ReadFile(input.file);
    if (!read.ok()) return;
    bytes = std::move(*read);
  }
  auto pixels = PrepareImage(bytes, config_);
  if (!pixels.ok()) return;
  inputs_.push_back({input.row.key, std::move(*pixels)});
}

}  // namespace atelier::trainer
