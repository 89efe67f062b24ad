// Classification metrics and the per-epoch metrics files. No LibTorch.
//
// Confusion[t][p] counts samples of true class t predicted as p. Accuracy,
// per-class precision (of predictions p, how many were right) and recall
// (of class t, how many were found); 0 where undefined.
//
// MetricsLog appends one JSON object per epoch to metrics.jsonl and one row to
// metrics.csv (header written when the file is new). Rewrite() truncates both to
// the given records (used by --resume so that a run killed after writing an
// epoch's line but before its checkpoint does not repeat it). Not thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace atelier::trainer {

struct Confusion {
  explicit Confusion(int classes = 0) : counts(classes, std::vector<int64_t>(classes, 0)) {}
  std::vector<std::vector<int64_t>> counts;

  void Add(int truth, int predicted) { ++counts[truth][predicted]; }
  int64_t Total() const;
  double Accuracy() const;
  double Precision(int c) const;
  double Recall(int c) const;
  nlohmann::json ToJson(const std::vector<std::string>& classes) const;
};

struct HeadEpochMetrics {
  double loss = 0;
  double accuracy = 0;
};

struct EpochRecord {
  int epoch = 0;  // 1-based
  int64_t step = 0;
  double lr = 0;
  double images_per_s = 0;
  double seconds = 0;
  double train_loss = 0;  // weighted sum over heads
  double val_loss = 0;
  std::map<std::string, HeadEpochMetrics> train, val;  // by head
  bool has_val = false;

  nlohmann::json ToJson() const;
  static EpochRecord FromJson(const nlohmann::json& json);
};

class MetricsLog {
 public:
  explicit MetricsLog(std::filesystem::path dir, std::vector<std::string> heads)
      : dir_(std::move(dir)), heads_(std::move(heads)) {}
  absl::Status Append(const EpochRecord& record);
  absl::Status Rewrite(const std::vector<EpochRecord>& records);

 private:
  std::string CsvHeader() const;
  std::string CsvRow(const EpochRecord& record) const;
  std::filesystem::path dir_;
  std::vector<std::string> heads_;
};

}  // namespace atelier::trainer
