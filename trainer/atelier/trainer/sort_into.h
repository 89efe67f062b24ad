// `atelier predict --sort-into DIR`: puts each predicted input into
// DIR/<head>/<class>/ for every head (DIR/<head>/_unsure/ when the predicted
// class's probability is below the threshold). Error rows are not placed.
// No LibTorch.
//
// * Image files are copied, or hard-linked with `link` (a link that fails
//   because DIR is on another file system falls back to a copy, with one
//   warning). Shard samples are written from their bytes as
//   <key>.<jpg|png|webp>.
// * File names: the file's own name, or the sample key plus the image
//   extension; every directory and file name is sanitised (SafeFileName): no
//   path separators, no "." or "..", no control characters, at most 200 bytes.
// * Nothing in DIR is ever overwritten: on a clash the name gets a suffix
//   ("a.jpg", "a-1.jpg", "a-2.jpg", ...), created exclusively (O_EXCL / link).
// Not thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "absl/status/status.h"
#include "atelier/trainer/labels.h"
#include "atelier/trainer/prediction_rows.h"

namespace atelier::trainer {

inline constexpr char kUnsureFolder[] = "_unsure";

// `name` as one safe path component: '/', '\\' and control characters become
// '_', a leading '.' gets a '_' before it, empty becomes "_", cut to 200 bytes
// (at a UTF-8 boundary, keeping the extension).
std::string SafeFileName(const std::string& name);

struct SortOptions {
  std::filesystem::path dir;
  bool link = false;
  double threshold = 0;  // top probability below it: _unsure
};

class Sorter {
 public:
  Sorter(SortOptions options, LabelSpace space) : options_(std::move(options)), space_(std::move(space)) {}

  // Places an image file (`source`) or a shard sample's bytes (`bytes`, with
  // `extension` such as "png"; used when `source` is empty).
  absl::Status Place(const PredictionRow& row, const std::filesystem::path& source, const std::string& bytes,
                     const std::string& extension);

  int64_t placed() const { return placed_; }  // files created
  bool fell_back_to_copy() const { return fell_back_; }

 private:
  absl::Status PlaceOne(const std::filesystem::path& folder, const std::string& name,
                        const std::filesystem::path& source, const std::string& bytes);

  SortOptions options_;
  LabelSpace space_;
  int64_t placed_ = 0;
  bool fell_back_ = false;
};

}  // namespace atelier::trainer
