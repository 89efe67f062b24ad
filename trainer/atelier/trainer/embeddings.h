// `atelier embed`: the backbone's features (the heads' input, "penultimate
// features") of every input, written as
//
//   OUT.npy             float32 [rows, feature_dim] (npy_file.h; numpy.load)
//   OUT.jsonl           row i describes row i of OUT.npy: the predict row
//                       (prediction_rows.h: key, url or path, shard, the
//                       model's predictions per head, labels, extra) plus
//                       the sample JSON's other top-level fields
//   OUT.errors.jsonl    only when some input could not be read or decoded:
//                       one predict error row each (they have no features)
//
// where OUT is --out without its .npy. Inputs are read and decoded as by
// `predict` (bulk_predict.h: streamed, bounded memory, in input order). Every
// file is written atomically when the run ends; a failed run leaves the old
// files as they were. Not thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "atelier/dataset/read_report.h"
#include "atelier/trainer/bulk_predict.h"
#include "atelier/trainer/model.h"

namespace atelier::trainer {

// OUT.jsonl and OUT.errors.jsonl of `npy` (OUT.npy).
std::filesystem::path EmbeddingRowsPath(const std::filesystem::path& npy);
std::filesystem::path EmbeddingErrorsPath(const std::filesystem::path& npy);

struct EmbedResult {
  int64_t rows = 0;    // in OUT.npy and OUT.jsonl
  int64_t errors = 0;  // in OUT.errors.jsonl
  int64_t dim = 0;
  dataset::ReadReport report;  // samples the shard reader skipped
};

// InvalidArgument naming `npy` unless it ends in .npy.
absl::Status CheckEmbeddingPath(const std::filesystem::path& npy);

// Runs `model` over `source` and writes the files above. `options.features`
// is set by the call.
absl::StatusOr<EmbedResult> WriteEmbeddings(Classifier& model, InputSource& source, BulkPredictOptions options,
                                            const std::filesystem::path& npy);

}  // namespace atelier::trainer
