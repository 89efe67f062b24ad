// The page of `predict --explain FILE.html`: per image, the image as the model
// saw it and, per head, its Grad-CAM heatmap (grad_cam.h) blended over it
// (OverlayHeatmap) with the explained class and its probability. One
// self-contained HTML page (inline CSS, PNG data URIs; no scripts, no
// external resources); text is HTML-escaped. No LibTorch. Pure functions;
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace atelier::trainer {

struct ExplainedHead {
  std::string head, cls;
  double probability = 0;
  std::vector<float> heatmap;  // size x size in [0, 1]
};

struct ExplainedImage {
  std::string name;
  std::vector<uint8_t> pixels;  // size x size x channels (1 or 3), HWC
  int size = 0, channels = 3;
  std::vector<ExplainedHead> heads;
};

// RGB size x size x 3: (1 - alpha * h) * pixel + alpha * h * colour(h), where
// colour runs blue (0) -> green -> yellow -> red (1) and h is the heatmap value.
std::vector<uint8_t> OverlayHeatmap(const std::vector<uint8_t>& pixels, int size, int channels,
                                    const std::vector<float>& heatmap, double alpha = 0.6);

absl::StatusOr<std::string> RenderExplainPage(const std::string& title, const std::vector<ExplainedImage>& images);

}  // namespace atelier::trainer
