// One dataset sample: an image and its metadata, stored in a shard as
// `<key>.<jpg|png|webp>` and `<key>.json` (see docs: "Dataset root").
//
// The JSON written by SampleMetaToJson is one object:
//   {"key": "bam-12", "source": "bam", "url": "...", "labels": {"media": "oilpaint"},
//    "width": 224, "height": 224, "original_width": 800, "original_height": 600,
//    "sha256": "<hex of the stored image bytes>", "image_format": "jpg",
//    "extra": {"title": "..."}}
// SampleMetaFromJson requires "key" (a string); every other field may be absent
// (it then keeps its default) but must have the right type when present. Unknown
// top-level fields are ignored, so newer writers stay readable. Errors are
// InvalidArgument and start with `origin` (e.g. "<shard>: bam-12.json at offset
// 1536"). Strings must be UTF-8: invalid sequences are written as U+FFFD.
// Pure functions, thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "atelier/dataset/image_format.h"

namespace atelier::dataset {

struct SampleMeta {
  std::string key;
  std::string source;  // "bam" | "met" | "url"
  std::string url;
  std::map<std::string, std::string> labels;  // head name -> class, e.g. media -> oilpaint
  int width = 0, height = 0, original_width = 0, original_height = 0;
  std::string sha256;        // lowercase hex of the stored image bytes
  std::string image_format;  // "jpg" | "png" | "webp"
  std::map<std::string, std::string> extra;  // other string fields: title, object_date...

  bool operator==(const SampleMeta&) const = default;
};

struct Sample {
  SampleMeta meta;
  ImageFormat format = ImageFormat::kJpeg;
  std::string image_bytes;
};

std::string SampleMetaToJson(const SampleMeta& meta);
absl::StatusOr<SampleMeta> SampleMetaFromJson(std::string_view json, std::string_view origin);

}  // namespace atelier::dataset
