// What `atelier preview` shows, collected in one pass over a dataset:
//
//   ASSIGN_OR_RETURN(PreviewData data, CollectPreview({.data = "/data/bam", .per_class = 8}));
//
// Reads the shards `data` names (dataset::FindShards: a dataset root's committed
// shards/NNNNNN.tar, never a writer's temporary; a folder of *.tar; one .tar),
// each once, in order. Every sample the reader gives is decoded to a square
// thumbnail (centre crop, `thumbnail_size` pixels; JPEGs are DCT-scaled). A
// sample that does not decode is counted (and the first kMaxListedUndecodable
// listed with key and reason) and takes no further part; the others are
// counted per head and class, and a sample without a label for a head counts
// in that head's "(no label)" class.
//
// Each class keeps `per_class` samples: those with the smallest
// sha256("<seed>:<key>") (ties: the earlier sample), a uniform random choice
// that depends only on the seed and the keys, not on shard order, so a dataset
// that grows keeps most of its previewed images. Only the chosen samples'
// thumbnails are kept, JPEG-encoded (imaging::EncodeJpeg): memory is
// heads x classes x per_class small JPEGs plus one sample being read.
//
// Errors: NotFound naming `data` when it is missing or names no shard;
// InvalidArgument for per_class or thumbnail_size < 1; NotFound when `head`
// is set and no sample has a label for it (naming the heads found).
// Unreadable shards and skipped samples end up in `report`, never an error.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "atelier/dataset/label_fields.h"
#include "atelier/dataset/read_report.h"

namespace atelier::cli {

inline constexpr int kDefaultPreviewPerClass = 8;
inline constexpr int kDefaultThumbnailSize = 96;
inline constexpr size_t kMaxListedUndecodable = 100;

struct PreviewOptions {
  std::filesystem::path data;
  std::string head;  // empty: every head
  // Where labels come from, as `train --label-field` (label_fields.h); empty:
  // the JSON's "labels" object and a .cls member.
  std::vector<dataset::LabelField> label_fields;
  int per_class = kDefaultPreviewPerClass;
  uint64_t seed = 0;
  int thumbnail_size = kDefaultThumbnailSize;
};

struct PreviewImage {
  std::string key;
  std::string url;
  std::string shard;  // file name of the shard it came from
  std::string jpeg;   // thumbnail_size x thumbnail_size thumbnail
};

struct PreviewClass {
  std::string name;        // "" for the "(no label)" class
  bool unlabeled = false;  // the samples without a label for this head
  int64_t count = 0;       // decodable samples
  std::vector<PreviewImage> images;  // min(count, per_class), in reading order
};

struct PreviewHead {
  std::string name;
  // By count (largest first), then name; the "(no label)" class, if any, last.
  std::vector<PreviewClass> classes;
};

struct UndecodableSample {
  std::string shard;   // file name
  std::string key;
  std::string reason;  // imaging::FailureReason: corrupt_image, truncated_image, ...
  std::string message;
};

struct PreviewData {
  std::string data;  // options.data as given
  int per_class = 0;
  uint64_t seed = 0;
  int thumbnail_size = 0;
  std::vector<std::string> shards;  // paths read, in order
  int64_t samples = 0;              // samples the reader gave (decodable or not)
  int64_t undecodable = 0;
  std::vector<UndecodableSample> undecodable_listed;  // the first kMaxListedUndecodable
  dataset::ReadReport report;       // samples the reader skipped, shards that gave none
  std::vector<PreviewHead> heads;   // by name

  int64_t decodable() const { return samples - undecodable; }
};

absl::StatusOr<PreviewData> CollectPreview(const PreviewOptions& options);

}  // namespace atelier::cli
