// `atelier predict --group-by FIELD`: per field and head, how the predicted
// classes are distributed in each group of rows. No LibTorch.
//
// FIELD names, in this order of lookup:
//   * key, url, path, shard: the row's own fields;
//   * a dotted path into the sample JSON: extra.neighbourhood, labels.media,
//     extra.a.b (objects only);
//   * a bare name: that label (labels.<name>) when the sample has it, else that
//     top-level field of the sample JSON (source, image_format, width...).
// A string value is the group; numbers and booleans their JSON text, objects
// and arrays JSON-encoded. A row without the field (or with null) is in the
// group "(missing)". Error rows are counted per group in `errors`, not in the
// class counts, so per head: sum of class counts + errors = rows.
//
// Outputs: Table() (text, for stdout), Csv() (columns field, group, head,
// class, count, fraction; fraction = count / predicted rows of the group; one
// row with class "(error)" per group with errors, empty fraction) and Html()
// (one self-contained page: a stacked bar per group, inline SVG, no scripts).
// Groups are sorted by name, "(missing)" last. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "atelier/trainer/labels.h"
#include "atelier/trainer/prediction_rows.h"

namespace atelier::trainer {

inline constexpr char kMissingGroup[] = "(missing)";

// The group of `row` for `field` (see above); nullopt when the row lacks it.
std::optional<std::string> GroupValue(const PredictionRow& row, const std::string& field);

class GroupSummary {
 public:
  struct Counts {
    std::vector<int64_t> classes;  // per class of the head
    int64_t errors = 0;
    int64_t predicted() const;
  };
  // fields x heads x group -> counts
  GroupSummary(std::vector<std::string> fields, LabelSpace space);

  void Add(const PredictionRow& row);

  int64_t rows() const { return rows_; }
  const std::vector<std::string>& fields() const { return fields_; }
  // The groups of field f and head h.
  const std::map<std::string, Counts>& Groups(size_t field, size_t head) const { return counts_[field][head]; }

  std::string Table() const;
  std::string Csv() const;
  std::string Html(const std::string& title) const;

 private:
  std::vector<std::pair<std::string, const Counts*>> Sorted(size_t field, size_t head) const;

  std::vector<std::string> fields_;
  LabelSpace space_;
  std::vector<std::vector<std::map<std::string, Counts>>> counts_;
  int64_t rows_ = 0;
};

}  // namespace atelier::trainer
