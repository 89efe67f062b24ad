// `atelier import`: turns labelled images that are not crawled into dataset
// shards (shards/NNNNNN.tar via dataset::ShardWriter), so that the trainer can
// be used on them.
//
//   ImportFolder: DIR/<class>/<file> (one subfolder per class, as the seed-000
//     researcher had: one folder per country). Every regular file whose bytes
//     are a JPEG, PNG or WebP is stored unchanged; other files are counted as
//     skipped. Class and file names may hold spaces and any UTF-8. The key is
//     "img-" + 16 hex digits of SHA-256(relative path), so re-importing the same
//     tree gives the same keys; extra.path keeps the relative path.
//   ImportIdx: IDX images (N x H x W, grayscale) and labels (N), e.g.
//     Fashion-MNIST; each image is stored as PNG; class i is named
//     class_names[i] if given, else "i". Keys are "<key_prefix>-<index>".
// Labels go to meta.labels[head]. New shards get indices after the highest
// existing one, so several imports can share a root. Not thread-safe per root.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace atelier::trainer {

struct ImportOptions {
  std::string head = "label";
  std::filesystem::path data_root;
  int samples_per_shard = 10000;
  int64_t limit = 0;  // import idx: only the first N images (0 = all)
};

struct ImportResult {
  int64_t imported = 0;
  int64_t skipped = 0;  // not an image / unreadable
  int shards = 0;
  std::vector<std::string> classes;  // sorted
};

absl::StatusOr<ImportResult> ImportFolder(const std::filesystem::path& dir, const ImportOptions& options);

absl::StatusOr<ImportResult> ImportIdx(const std::filesystem::path& images, const std::filesystem::path& labels,
                                       const std::vector<std::string>& class_names,
                                       const std::string& key_prefix, const ImportOptions& options);

}  // namespace atelier::trainer
