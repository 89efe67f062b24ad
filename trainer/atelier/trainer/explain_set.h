// `predict --explain PAGE.html`: the Grad-CAM page (explain_page.h) of a set of
// images, per image and head the heatmap of the predicted class (grad_cam.h).
// For IMAGE... every image is explained; for a bulk run (--data, --folder) the
// first `limit` readable inputs in input order, collected by ExplainSample
// while the run streams. Not thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "atelier/trainer/bulk_predict.h"
#include "atelier/trainer/model.h"

namespace atelier::trainer {

// One image as the model sees it: PrepareImage's output (HWC uint8).
struct ExplainInput {
  std::string name;
  std::vector<uint8_t> pixels;
};

// Classifies `inputs`, computes each head's Grad-CAM of the predicted class
// (in batches, so memory stays bounded) and writes the page atomically to
// `page` (its parent folders created). Catches LibTorch's exceptions.
absl::Status WriteExplainPage(Classifier& model, const std::vector<ExplainInput>& inputs,
                              const std::filesystem::path& page, const std::string& title);

// The first `limit` readable inputs of a bulk run, prepared for the page.
class ExplainSample {
 public:
  ExplainSample(const ModelConfig& config, int limit) : config_(config), limit_(limit) {}

  // Keeps `input` while fewer than `limit` are kept and it has no error. Its
  // image comes from input.bytes (shard samples: BulkPredictOptions::keep_bytes)
  // or else input.file. An image that cannot be prepared is left out.
  void Add(const BulkInput& input);

  const std::vector<ExplainInput>& inputs() const { return inputs_; }

 private:
  const ModelConfig& config_;
  const int limit_;
  std::vector<ExplainInput> inputs_;
};

}  // namespace atelier::trainer
