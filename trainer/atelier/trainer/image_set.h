// Loading samples into memory at training resolution (the "packed cache").
//
// Samples are streamed shard by shard (dataset::ShardReader: atelier's shards
// or any WebDataset tar, see dataset::FindShards for what --data may name);
// each shard's images are decoded by a pool of `threads` decode threads
// (imaging::DecodeImage: libjpeg-turbo with DCT scaling to >= image_size,
// libpng, libwebp), centre-cropped and resized to image_size x image_size, and
// packed into one contiguous uint8 buffer. Memory: N * S * S * C bytes.
//
// Pixel layout: HWC, row-major, channel 0 = red, 1 = green, 2 = blue (RGB, as
// imaging decodes). With channels == 1 an image holds one luminance channel
// (R+G+B)/3 (exactly the grey value for grey images); channels == 0 (auto)
// picks 1 when every decoded image is grey (R == G == B everywhere), else 3.
//
// One bad sample costs one sample: the reader's skips (tar damage, invalid
// JSON, sha256 mismatch...) and images that do not decode are counted by
// reason in `read_report`, and shards that gave no sample (empty, unreadable)
// are named there. None of it is fatal. Not thread-safe (call from one thread).
//
// The pixels live either in `pixels` (decoded by this process) or in `mapped`
// (a read-only memory map of a packed cache file, see packed_cache.h); image()
// reads whichever is set. Copies of an ImageSet share the map.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "atelier/dataset/label_fields.h"
#include "atelier/dataset/read_report.h"

namespace atelier::trainer {

struct ImageSet {
  int image_size = 0;
  int channels = 3;
  std::vector<uint8_t> pixels;           // size() * image_size^2 * channels, HWC per image
  std::shared_ptr<const uint8_t> mapped;  // the same layout in a mapped packed cache (then pixels is empty)
  std::vector<std::string> keys;
  std::vector<std::map<std::string, std::string>> labels;
  dataset::ReadReport read_report;  // skipped samples by reason, shards that gave none
  std::vector<std::map<std::string, std::string>> extra;  // the sample JSON's other string fields (groups)

  int64_t size() const { return static_cast<int64_t>(keys.size()); }
  int64_t image_bytes() const { return int64_t{image_size} * image_size * channels; }
  const uint8_t* pixel_data() const { return mapped ? mapped.get() : pixels.data(); }
  const uint8_t* image(int64_t i) const { return pixel_data() + i * image_bytes(); }
};

struct LoadOptions {
  int image_size = 64;
  int channels = 0;  // 0 = auto, 1 or 3
  int threads = 2;
  // Where labels come from (--label-field); empty: the JSON's "labels" (and a .cls member).
  std::vector<dataset::LabelField> label_fields;
};

// All samples of the shards `data` names (dataset::FindShards): a dataset
// root, a folder of *.tar files or one shard.
absl::StatusOr<ImageSet> LoadDatasetRoot(const std::filesystem::path& data, const LoadOptions& options);

// DIR/<class>/<image files>: labels {head: class folder name}.
absl::StatusOr<ImageSet> LoadFolder(const std::filesystem::path& dir, const std::string& head,
                                    const LoadOptions& options);

// The larger side of the first `samples` images of the first shard, from the
// sample JSON's width/height; 0 when none records it.
absl::StatusOr<int> SampledImageSide(const std::filesystem::path& root, int samples);

// Decodes image bytes to an image_size x image_size RGB (HWC) buffer.
absl::StatusOr<std::vector<uint8_t>> DecodeToSquare(const std::string& bytes, int image_size);

}  // namespace atelier::trainer
