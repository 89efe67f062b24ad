// The rows of `atelier predict --out FILE`: one per input (image file or shard
// sample), in input order, as JSON Lines (FILE ends in .jsonl) or CSV (.csv).
// No LibTorch.
//
// JSONL, one object per line:
//   {"key": "bam-12", "url": "https://..." | "path": "dir/a.jpg", "shard": "000000.tar" (shards),
//    "heads": {"media": {"class": "oilpaint", "probability": 0.91,
//                        "probabilities": {"ink": 0.02, "oilpaint": 0.91, ...}}},
//    "labels": {...}, "extra": {...}}
// or, for an input that could not be read or decoded, "error": "<reason>" and
// no "heads". "labels" and "extra" are the sample JSON's (absent for files).
//
// CSV (RFC 4180: a field with a comma, quote, CR or LF is quoted, quotes
// doubled; lines end in \n): columns key, url, path, shard, error, then per
// head `<head>`, `<head>.probability`, `<head>.p.<class>` for each class in the
// model's order, then `labels.<name>` and `extra.<name>` for every name some
// row has (sorted). Strings are written as they are, numbers and booleans as
// their JSON text, objects and arrays JSON-encoded. The metadata columns are
// only known at the end, so rows go to a temporary file first; Close() writes
// FILE (a temporary next to it, renamed).
//
// Writers are not thread-safe.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "atelier/common/csv_field.h"
#include "atelier/trainer/labels.h"
#include "nlohmann/json.hpp"

namespace atelier::trainer {

struct HeadPrediction {
  int predicted = -1;                // class index in the head's class list
  double probability = 0;            // of the predicted class
  std::vector<double> probabilities;  // per class, in the head's class order
};

struct PredictionRow {
  std::string key;
  std::string url;    // shard samples
  std::string path;   // files
  std::string shard;  // shard samples: the shard's file name
  std::string error;  // non-empty: the input could not be read or decoded (no heads)
  nlohmann::json meta = nlohmann::json::object();  // the sample JSON (labels, extra, ...); {} for files
  std::vector<HeadPrediction> heads;               // per head of the model, when error is empty
  // The backbone's features (the heads' input), when asked for
  // (BulkPredictOptions::features) and error is empty. Not written by RowToJson.
  std::vector<float> features;
};

// The row as one JSON object (the JSONL line).
nlohmann::json RowToJson(const PredictionRow& row, const LabelSpace& space);

// One CSV field, quoted when it must be (atelier/common/csv_field.h).
using ::atelier::CsvField;
// A JSON value as a CSV cell's text: strings as they are, null empty, others JSON-encoded.
std::string CellText(const nlohmann::json& value);

class RowWriter {
 public:
  virtual ~RowWriter() = default;
  virtual absl::Status Write(const PredictionRow& row) = 0;
  // Finishes FILE; nothing is written to FILE before it.
  virtual absl::Status Close() = 0;
};

// InvalidArgument naming the extension unless `path` ends in .jsonl or .csv.
absl::Status CheckRowFileExtension(const std::filesystem::path& path);

// A writer for `path` (.jsonl or .csv, see CheckRowFileExtension).
absl::StatusOr<std::unique_ptr<RowWriter>> OpenRowWriter(const std::filesystem::path& path, const LabelSpace& space);

}  // namespace atelier::trainer
