// Refusing training shapes before anything is allocated. No LibTorch.
//
// CheckTrainShape refuses, with one line naming the flag:
//   --width < 1, --depth < 1, --batch-size < 1, --lr not a finite number > 0;
//   a shape whose `depth` 2x2 poolings take `image_size` below 1 pixel;
//   a model whose estimated training memory (SmallCnnTrainingBytes) exceeds
//   `budget_bytes`.
// The estimate counts float32 weights, gradients and the two AdamW moments
// (16 bytes per parameter) plus, per sample of the local batch, the
// activations autograd keeps (every convolution, batch norm and ReLU output)
// and as much again for their gradients. It is an estimate of the model's own
// memory, not of the process's (the images are extra: N x S x S x C bytes).
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace atelier::trainer {

struct TrainShape {
  int image_size = 64;
  int in_channels = 3;
  int width = 32;
  int depth = 3;
  int64_t classes = 2;  // summed over the heads
  int local_batch = 64;
  double lr = 2e-3;
};

double SmallCnnParameters(const TrainShape& shape);
double SmallCnnTrainingBytes(const TrainShape& shape);

// Half of the physical memory.
double DefaultMemoryBudget();
// "8G", "512M", "100K", "123" (bytes); K/M/G/T are powers of 1024.
absl::StatusOr<double> ParseByteSize(absl::string_view text);
std::string FormatBytes(double bytes);

// The cheap checks (flags alone), then, when budget_bytes > 0, the memory
// estimate.
absl::Status CheckTrainShape(const TrainShape& shape, double budget_bytes);

}  // namespace atelier::trainer
