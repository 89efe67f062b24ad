// report.html: one self-contained page (inline SVG and CSS, images as base64
// PNG data URIs; no scripts, no external resources) with
//   - loss and accuracy curves per head (train and val) over the epochs,
//   - per head: the confusion matrix on the evaluation split and per-class
//     precision / recall bars,
//   - a gallery of evaluation images with their labels and predictions,
//     misclassified ones marked.
// Text is HTML-escaped (atelier::HtmlEscape). Pure function; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "atelier/trainer/metrics.h"

namespace atelier::trainer {

struct ReportHead {
  std::string name;
  std::vector<std::string> classes;
  Confusion confusion;
};

struct ReportImage {
  std::vector<uint8_t> pixels;  // size x size x channels (1 or 3), HWC
  int size = 0;
  int channels = 3;
  std::string caption;
  bool misclassified = false;
};

struct ReportData {
  std::string title;
  std::string eval_split;
  std::vector<EpochRecord> history;
  std::vector<ReportHead> heads;
  std::vector<ReportImage> gallery;
};

absl::StatusOr<std::string> RenderReport(const ReportData& data);

}  // namespace atelier::trainer
