#include "atelier/trainer/augment.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>

namespace atelier::trainer {

AugmentDraw DrawAugment(int size, const AugmentOptions& options, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  AugmentDraw draw;
  draw.cx = 0.5 * size;
  draw.cy = 0.5 * size;
  if (options.crop) {
    double area = options.min_crop_area + (1.0 - options.min_crop_area) * unit(rng);
    draw.scale = std::sqrt(std::clamp(area, 0.01, 1.0));
    double window = draw.scale * size;
    draw.cx = window / 2 + unit(rng) * (size - window);
    draw.cy = window / 2 + unit(rng) * (size - window);
  }
  draw.flip = options.hflip && unit(rng) < 0.5;
  if (options.rotate) draw.angle = (2 * unit(rng) - 1) * options.max_rotation_deg * std::numbers::pi / 180.0;
  return draw;
}

void AffineGridMatrix(const AugmentDraw& draw, int size, float theta[6]) {
  // Output pixel centre o (relative to the centre, in pixels) samples the input
  // at centre + R(angle) * (flip ? (-ox, oy) : o) * scale; dividing by half the
  // size gives normalised coordinates.
  const double c = std::cos(draw.angle), s = std::sin(draw.angle), f = draw.flip ? -1.0 : 1.0;
  const double half = 0.5 * size;
  theta[0] = static_cast<float>(draw.scale * c * f);
  theta[1] = static_cast<float>(-draw.scale * s);
  theta[2] = static_cast<float>((draw.cx - half) / half);
  theta[3] = static_cast<float>(draw.scale * s * f);
  theta[4] = static_cast<float>(draw.scale * c);
  theta[5] = static_cast<float>((draw.cy - half) / half);
}

void AugmentImage(const uint8_t* src, uint8_t* dst, int size, int channels, const AugmentOptions& options,
                  std::mt19937_64& rng) {
  const AugmentDraw draw = DrawAugment(size, options, rng);
  if (!options.crop && draw.identity()) {
    std::memcpy(dst, src, size_t(size) * size * channels);
    return;
  }
  const double scale = draw.scale, cx = draw.cx, cy = draw.cy, angle = draw.angle;
  const bool flip = draw.flip;
  const double c = std::cos(angle), s = std::sin(angle);
  const double half = 0.5 * size;
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      // Output pixel centre relative to the output centre.
      double ox = (x + 0.5) - half, oy = (y + 0.5) - half;
      if (flip) ox = -ox;
      double rx = (c * ox - s * oy) * scale, ry = (s * ox + c * oy) * scale;
      double sx = std::clamp(cx + rx - 0.5, 0.0, size - 1.0);
      double sy = std::clamp(cy + ry - 0.5, 0.0, size - 1.0);
      int x0 = static_cast<int>(sx), y0 = static_cast<int>(sy);
      int x1 = std::min(x0 + 1, size - 1), y1 = std::min(y0 + 1, size - 1);
      double fx = sx - x0, fy = sy - y0;
      uint8_t* out = dst + (size_t(y) * size + x) * channels;
      for (int ch = 0; ch < channels; ++ch) {
        auto at = [&](int px, int py) { return double(src[(size_t(py) * size + px) * channels + ch]); };
        double v = (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x1, y0)) + fy * ((1 - fx) * at(x0, y1) + fx * at(x1, y1));
        out[ch] = static_cast<uint8_t>(std::lround(std::clamp(v, 0.0, 255.0)));
      }
    }
  }
}

}  // namespace atelier::trainer
