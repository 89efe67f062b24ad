// The device side of the training data path: uint8 NHWC batches (as they come
// from the host, pinned and copied asynchronously on a GPU) become the model's
// float NCHW input in [0, 1], each image warped by its own affine matrix in the
// same pass (flip, crop/zoom and rotation as one bilinear warp, edges
// replicated: grid_sample with padding "border").
//
// Runs wherever the tensors are: on a GPU in the CUDA build, on the CPU in
// tests (where it matches AugmentImage up to the host path's rounding to uint8).
// Pure functions of their inputs; thread-safe.
#pragma once

#include <torch/torch.h>

namespace atelier::trainer {

// raw: uint8 [N, S, S, C]. theta: float32 [N, 2, 3] on the same device, or an
// undefined tensor for no augmentation. Returns float32 [N, C, S, S], in
// channels-last memory order when `channels_last` (same values either way).
torch::Tensor PrepareImages(const torch::Tensor& raw, const torch::Tensor& theta, bool channels_last);

}  // namespace atelier::trainer
