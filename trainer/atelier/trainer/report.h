// report.html: one self-contained page (inline SVG and CSS, images as base64
// PNG data URIs; no scripts, no external resources) with
//   - loss and accuracy curves per head (train and val) over the epochs,
//   - per head: the confusion matrix on the evaluation split and per-class
//     precision / recall bars,
//   - per head: the class-similarity matrix (mean predicted probability of
//     class j over the evaluation samples of true class i),
//   - the embedding map: the evaluation samples' features projected on their
//     two principal components (embedding_analysis.h), one dot per sample
//     coloured by its class of the first head,
//   - nearest neighbours: per class, example images with the samples closest
//     to them in feature space (cosine),
//   - a gallery of evaluation images with their labels and predictions,
//     misclassified ones marked.
// A section whose data is empty is left out.
// Text is HTML-escaped (atelier::HtmlEscape). Pure function; thread-safe.
#pragma once

#include <array>
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
  // [true class][predicted class], rows summing to 1 (0 for a class without
  // samples); empty: not shown.
  std::vector<std::vector<double>> similarity;
};

struct ReportImage {
  std::vector<uint8_t> pixels;  // size x size x channels (1 or 3), HWC
  int size = 0;
  int channels = 3;
  std::string caption;
  bool misclassified = false;
};

struct ReportMapPoint {
  double x = 0, y = 0;
  int cls = -1;  // class of the first head, -1 unlabelled
  std::string caption;
};

struct ReportNeighbours {
  ReportImage query;
  std::vector<ReportImage> neighbours;  // most similar first
};

struct ReportData {
  std::string title;
  std::string eval_split;
  std::vector<EpochRecord> history;
  std::vector<ReportHead> heads;
  std::vector<ReportImage> gallery;
  // The embedding map (classes: those of heads[0]); empty: not shown.
  std::vector<ReportMapPoint> map;
  std::array<double, 2> map_explained = {0, 0};
  std::vector<ReportNeighbours> neighbours;
};

absl::StatusOr<std::string> RenderReport(const ReportData& data);

}  // namespace atelier::trainer
