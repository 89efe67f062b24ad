#include "atelier/trainer/shape_check.h"

#include <unistd.h>

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace atelier::trainer {

double SmallCnnParameters(const TrainShape& s) {
  const double in = s.in_channels, w = s.width;
  double params = in * w * 9 + w + 2 * w;  // stem conv + bias + BN
  double c_in = w;
  for (int i = 0; i < s.depth; ++i) {
    const double c = w * std::pow(2.0, i);
    params += c_in * 9 + c_in + c_in * c + c + 2 * c;  // sep1: depthwise, pointwise, BN
    params += c * 9 + c + c * c + c + 2 * c;           // sep2
    c_in = c;
  }
  return params + c_in * static_cast<double>(s.classes) + static_cast<double>(s.classes);
}

double SmallCnnTrainingBytes(const TrainShape& s) {
  const double w = s.width;
  double r = s.image_size;
  double activations = 3 * w * r * r;  // stem: conv, BN, ReLU
  double c_in = w;
  for (int i = 0; i < s.depth; ++i) {
    const double c = w * std::pow(2.0, i);
    activations += (c_in + 3 * c) * r * r;  // sep1: depthwise, pointwise, BN, ReLU
    activations += (c + 3 * c) * r * r;     // sep2
    r = std::floor(r / 2);
    activations += c * r * r;               // pooling
    c_in = c;
  }
  return 16 * SmallCnnParameters(s) + 2 * 4 * activations * s.local_batch;
}

double DefaultMemoryBudget() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return 8.0 * (1 << 30);
  return static_cast<double>(pages) * static_cast<double>(page) / 2;
}

absl::StatusOr<double> ParseByteSize(absl::string_view text) {
  absl::string_view number = absl::StripAsciiWhitespace(text);
  double scale = 1;
  if (!number.empty()) {
    switch (absl::ascii_toupper(number.back())) {
      case 'K': scale = 1024.0; break;
      case 'M': scale = 1024.0 * 1024; break;
      case 'G': scale = 1024.0 * 1024 * 1024; break;
      case 'T': scale = 1024.0 * 1024 * 1024 * 1024; break;
      default: break;
    }
    if (scale != 1) number.remove_suffix(1);
  }
  double value = 0;
  if (!absl::SimpleAtod(number, &value) || !std::isfinite(value) || value <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--memory-budget '", text, "' is not a positive size (bytes, or with K, M, G or T)"));
  }
  return value * scale;
}

std::string FormatBytes(double bytes) {
  if (bytes >= 1024.0 * 1024 * 1024 * 1024 * 1024) return absl::StrFormat("%.3g PiB", bytes / std::pow(1024.0, 5));
  if (bytes >= 1024.0 * 1024 * 1024) return absl::StrFormat("%.1f GiB", bytes / (1024.0 * 1024 * 1024));
  return absl::StrFormat("%.1f MiB", bytes / (1024.0 * 1024));
}

absl::Status CheckTrainShape(const TrainShape& s, double budget_bytes) {
  if (s.width < 1) return absl::InvalidArgumentError(absl::StrCat("--width ", s.width, " must be at least 1"));
  if (s.depth < 1) return absl::InvalidArgumentError(absl::StrCat("--depth ", s.depth, " must be at least 1"));
  if (s.local_batch < 1) {
    return absl::InvalidArgumentError(absl::StrCat("--batch-size gives ", s.local_batch, " samples per rank: must be at least 1"));
  }
  if (!std::isfinite(s.lr) || s.lr <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("--lr ", s.lr, " must be a finite number > 0"));
  }
  if (s.depth >= 31 || (s.image_size >> s.depth) < 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--depth %d pools --image-size %d below 1 pixel (%d halvings); use --depth %d or less, or a larger --image-size",
        s.depth, s.image_size, s.depth, static_cast<int>(std::floor(std::log2(std::max(1, s.image_size))))));
  }
  if (budget_bytes > 0) {
    const double need = SmallCnnTrainingBytes(s);
    if (need > budget_bytes) {
      return absl::ResourceExhaustedError(absl::StrFormat(
          "the model (--width %d --depth %d at --image-size %d, %d samples per rank) needs about %s for training, "
          "more than the memory budget of %s (--memory-budget); lower --width, --depth, --image-size or --batch-size",
          s.width, s.depth, s.image_size, s.local_batch, FormatBytes(need), FormatBytes(budget_bytes)));
    }
  }
  return absl::OkStatus();
}

}  // namespace atelier::trainer
