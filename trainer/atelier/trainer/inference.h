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
#include "atelier/trainer/prediction_rows.h"

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

// The one preprocessing of `predict` (image files, folders and shards alike):
// decodes `bytes` like the training data, centre-crops and resizes to the
// model's image size, converts to the model's channel count. HWC uint8,
// image_size^2 * in_channels bytes.
absl::StatusOr<std::vector<uint8_t>> PrepareImage(const std::string& bytes, const ModelConfig& config);

// Runs the model (eval mode, no gradients) on prepared images, a uint8 tensor
// [N, S, S, C]: logits per head, float32 on the CPU, [N, classes]. The float
// input (pixel / 255, NCHW) goes to *inputs_out when given, the backbone's
// features (the heads' input, float32 on the CPU, [N, feature_dim]) to
// *features_out. Throws LibTorch's exceptions.
std::vector<torch::Tensor> ClassifyPrepared(Classifier& model, const torch::Tensor& prepared,
                                            torch::Tensor* inputs_out = nullptr, torch::Tensor* features_out = nullptr);

// Softmax of logits (per head, [N, classes]): per sample, per head.
std::vector<std::vector<HeadPrediction>> HeadPredictions(const std::vector<torch::Tensor>& logits);

// Prepares each image file (PrepareImage) and classifies it; the first file
// that cannot be read or decoded fails the call, naming it.
absl::StatusOr<std::vector<ImagePrediction>> PredictFiles(Classifier& model,
                                                          const std::vector<std::filesystem::path>& images,
                                                          torch::Tensor* inputs_out = nullptr);

// Converts RGB HWC pixels to the model's channel count (1: (R+G+B)/3).
std::vector<uint8_t> ToChannels(const std::vector<uint8_t>& rgb, int channels);

}  // namespace atelier::trainer
