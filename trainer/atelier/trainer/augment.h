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

// src and dst: size x size x channels bytes each; they must not overlap.
void AugmentImage(const uint8_t* src, uint8_t* dst, int size, int channels, const AugmentOptions& options,
                  std::mt19937_64& rng);

}  // namespace atelier::trainer
