// Running a model on images: evaluation over an ImageSet (accuracy, confusion
// matrices, losses per head; optionally sharded over the ranks of a
// Collective), and prediction for image files. Not thread-safe (uses `model`).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "absl/status/statusor.h"
#include "atelier/trainer/collective.h"
#include "atelier/trainer/image_set.h"
#include "atelier/trainer/metrics.h"
#include "atelier/trainer/model.h"

namespace atelier::trainer {

// Class index per sample and head (row-major, size() x heads), -1 where the
// sample has no label for the head or the class is not in `space`; `unknown`
// counts labels whose class is not in `space`.
std::vector<int32_t> BuildTargets(const ImageSet& set, const LabelSpace& space, int64_t* unknown = nullptr);

struct Prediction {
  int64_t index = 0;               // into the ImageSet
  std::vector<int> predicted;      // per head
};

struct EvalResult {
  std::vector<Confusion> confusion;  // per head
  std::vector<double> loss;          // mean cross-entropy per head (no smoothing)
  double total_loss = 0;             // sum over heads, weighted by head_weights
  std::vector<Prediction> predictions;  // this rank's samples only
};

// Evaluates `indices` in eval mode. With a collective, rank r takes every
// world_size-th sample from r on, and the counts and losses are summed over the
// ranks (every rank gets the totals).
absl::StatusOr<EvalResult> Evaluate(Classifier& model, const ImageSet& set, const std::vector<int32_t>& targets,
                                    const std::vector<int64_t>& indices, const std::vector<double>& head_weights,
                                    int batch_size, Collective* collective);

struct ImagePrediction {
  std::string image;
  // Per head: (class, probability), most probable first.
  std::vector<std::vector<std::pair<std::string, double>>> classes;
  std::vector<std::vector<float>> logits;  // per head, in class order
};

// Decodes each image file like the training data (centre crop to the model's
// image size, the model's channel count) and classifies it.
absl::StatusOr<std::vector<ImagePrediction>> PredictFiles(Classifier& model,
                                                          const std::vector<std::filesystem::path>& images,
                                                          torch::Tensor* inputs_out = nullptr);

// Converts RGB HWC pixels to the model's channel count (1: (R+G+B)/3).
std::vector<uint8_t> ToChannels(const std::vector<uint8_t>& rgb, int channels);

}  // namespace atelier::trainer
