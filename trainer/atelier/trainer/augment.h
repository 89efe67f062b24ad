// Geometric augmentation of one square HWC uint8 image. Never changes colour:
// every output pixel is a bilinear blend of input pixels (edges replicated), so
// the colour histogram only changes by interpolation.
//
// One affine map per image combines, each switchable:
//   random resized crop: a square window of side sqrt(U(min_crop_area, 1)) * S
//     at a uniformly random position, scaled back to S (zoom);
//   horizontal flip with probability 0.5;
//   rotation by U(-max_rotation_deg, +max_rotation_deg) about the centre.
// Randomness comes only from `rng`. Pure apart from `rng`; thread-safe for
// distinct rngs.
//
// The same map can be applied on the training device instead (a GPU): draw it
// with DrawAugment, turn it into the 2x3 matrix of torch's affine_grid with
// AffineGridMatrix, and warp a whole batch at once with WarpBatch
// (device_augment.h). Both paths take the same random draws in the same order,
// so a sample gets the same augmentation on the host and on the device.
#pragma once

#include <cstdint>
#include <random>

namespace atelier::trainer {

struct AugmentOptions {
  bool crop = true;
  double min_crop_area = 0.6;
  bool hflip = true;
  bool rotate = true;
  double max_rotation_deg = 10.0;

  bool any() const { return crop || hflip || rotate; }
};

// One drawn augmentation, in pixels of a size x size image.
struct AugmentDraw {
  double scale = 1.0;             // crop window side / image side
  double cx = 0, cy = 0;          // crop window centre (pixel-centre coordinates: pixel i spans [i, i+1))
  bool flip = false;
  double angle = 0;               // radians
  bool identity() const { return scale == 1.0 && !flip && angle == 0; }
};

AugmentDraw DrawAugment(int size, const AugmentOptions& options, std::mt19937_64& rng);

// The map of `draw` as torch::nn::functional::affine_grid's theta (row-major
// 2x3, normalised coordinates, align_corners = false): output point (u, v) in
// [-1, 1]^2 samples the input at theta * (u, v, 1).
void AffineGridMatrix(const AugmentDraw& draw, int size, float theta[6]);

// src and dst: size x size x channels bytes each; they must not overlap.
void AugmentImage(const uint8_t* src, uint8_t* dst, int size, int channels, const AugmentOptions& options,
                  std::mt19937_64& rng);

}  // namespace atelier::trainer
