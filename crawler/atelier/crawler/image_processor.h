// ImageProcessor: turns a fetched body into the bytes stored in the shard.
//
// The real one (ResizingProcessor) validates by decoding (never by
// Content-Type), refuses decompression bombs before allocating, resizes as the
// crawl settings say and re-encodes as JPEG. PassthroughProcessor only checks
// the magic bytes and stores the body as is (fetch-only benchmarks).
// Implementations are stateless and thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

#include "absl/strings/string_view.h"
#include "atelier/dataset/image_format.h"
#include "atelier/imaging/resize_mode.h"

namespace atelier::crawler {

struct ProcessedImage {
  std::string bytes;
  dataset::ImageFormat format = dataset::ImageFormat::kJpeg;
  int width = 0, height = 0;                    // stored size
  int original_width = 0, original_height = 0;  // as fetched (after EXIF orientation)
  std::string sha256;                           // lowercase hex of `bytes`
};

struct ProcessOutcome {
  bool ok = false;
  std::string reason;  // on failure: "not_an_image", "truncated_image", "corrupt_image", "image_too_large", ...
  std::string message;
  ProcessedImage image;
};

class ImageProcessor {
 public:
  virtual ~ImageProcessor() = default;
  virtual ProcessOutcome Process(absl::string_view body) const = 0;
  // The bytes Process(body) will allocate at most, from the header only, so
  // the caller can wait for them (MemoryBudget) before calling Process. A
  // failure is the item's outcome as Process would give it (e.g. reason
  // image_too_large above max_pixels), found before any pixel is allocated.
  virtual absl::StatusOr<int64_t> MemoryNeeded(absl::string_view body) const = 0;
};

struct ResizeSettings {
  imaging::ResizeMode mode = imaging::ResizeMode::kCenterCrop;
  int size = 256;
  int jpeg_quality = 90;
  int64_t max_pixels = 64'000'000;  // decompression-bomb guard
};

class ResizingProcessor final : public ImageProcessor {
 public:
  explicit ResizingProcessor(ResizeSettings settings) : settings_(settings) {}
  ProcessOutcome Process(absl::string_view body) const override;
  absl::StatusOr<int64_t> MemoryNeeded(absl::string_view body) const override;

 private:
  const ResizeSettings settings_;
};

class PassthroughProcessor final : public ImageProcessor {
 public:
  ProcessOutcome Process(absl::string_view body) const override;
  absl::StatusOr<int64_t> MemoryNeeded(absl::string_view body) const override;  // the copy of the body
};

// The failure outcome of a status from imaging/ (its reason and message).
ProcessOutcome FailedOutcome(const absl::Status& status);

}  // namespace atelier::crawler
