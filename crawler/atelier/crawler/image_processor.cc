#include "atelier/crawler/image_processor.h"

#include "atelier/dataset/sha256.h"
#include "atelier/imaging/image.h"

namespace atelier::crawler {
ProcessOutcome FailedOutcome(const absl::Status& status) {
  ProcessOutcome out;
  out.reason = imaging::FailureReason(status);
  out.message = std::string(status.message());
  return out;
}

absl::StatusOr<int64_t> ResizingProcessor::MemoryNeeded(absl::string_view body) const {
  imaging::DecodeOptions options;
  options.max_pixels = settings_.max_pixels;
  return imaging::EstimateDecodeMemory(body, settings_.mode, settings_.size, options);
}

absl::StatusOr<int64_t> PassthroughProcessor::MemoryNeeded(absl::string_view body) const {
  return static_cast<int64_t>(body.size());
}

ProcessOutcome ResizingProcessor::Process(absl::string_view body) const {
  imaging::DecodeOptions options;
  options.max_pixels = settings_.max_pixels;
  // Decode and resize in one pass where there is a resize: DCT scaling, and
  // for centre crops no IDCT of the pixels the crop drops.
  auto decoded = settings_.mode == imaging::ResizeMode::kKeep
                     ? imaging::DecodeImage(body, options)
                     : imaging::DecodeAndResize(body, settings_.mode, settings_.size, options);
  if (!decoded.ok()) return FailedOutcome(decoded.status());
  const imaging::Image* image = &decoded->image;
  auto jpeg = imaging::EncodeJpeg(*image, settings_.jpeg_quality);
  if (!jpeg.ok()) return FailedOutcome(jpeg.status());
  ProcessOutcome out;
  out.ok = true;
  out.image.bytes = *std::move(jpeg);
  out.image.format = dataset::ImageFormat::kJpeg;
  out.image.width = image->width;
  out.image.height = image->height;
  out.image.original_width = decoded->original_width;
  out.image.original_height = decoded->original_height;
  out.image.sha256 = dataset::Sha256Hex(out.image.bytes);
  return out;
}

ProcessOutcome PassthroughProcessor::Process(absl::string_view body) const {
  ProcessOutcome out;
  auto info = imaging::ProbeImage(body);
  if (!info.ok()) return FailedOutcome(info.status());
  out.ok = true;
  out.image.bytes = std::string(body);
  out.image.format = info->codec == imaging::Codec::kJpeg  ? dataset::ImageFormat::kJpeg
                     : info->codec == imaging::Codec::kPng ? dataset::ImageFormat::kPng
                                                           : dataset::ImageFormat::kWebp;
  out.image.width = out.image.original_width = info->width;
  out.image.height = out.image.original_height = info->height;
  out.image.sha256 = dataset::Sha256Hex(out.image.bytes);
  return out;
}

}  // namespace atelier::crawler
