// The embedding sections of report.html (report.h): runs the model over up to
// `max_samples` evaluation samples (every k-th of `indices`, in order) and
// fills `report` with the class-similarity matrix of every head, the 2-D PCA
// map of their features and, per class of the first head (at most 12), one
// query image with its `neighbours` nearest samples by cosine similarity (a
// neighbour of another true class is outlined as misclassified). `report`'s
// heads must already be filled, in the model's head order. Not thread-safe
// (uses `model`).
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "atelier/trainer/image_set.h"
#include "atelier/trainer/model.h"
#include "atelier/trainer/report.h"

namespace atelier::trainer {

struct EmbeddingReportOptions {
  int64_t max_samples = 2000;
  int neighbours = 5;
  int max_query_classes = 12;
};

absl::Status AddEmbeddingSections(Classifier& model, const ImageSet& set, const std::vector<int32_t>& targets,
                                  const std::vector<int64_t>& indices, const EmbeddingReportOptions& options,
                                  ReportData* report);

}  // namespace atelier::trainer
