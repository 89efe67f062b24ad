// The image formats a shard stores, their file extensions and magic bytes.
//
//   ImageExtension(ImageFormat::kJpeg)  -> "jpg" (the extension atelier writes)
//   ImageFormatFromExtension("JPEG")    -> kJpeg (jpg, jpeg, png, webp; any case)
//   SniffImageFormat(bytes)             -> by magic bytes: FF D8 FF (JPEG),
//                                          89 'PNG' 0D 0A 1A 0A, "RIFF" <size> "WEBP"
//
// Errors are InvalidArgument. All functions are pure and thread-safe.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"

namespace atelier::dataset {

enum class ImageFormat { kJpeg, kPng, kWebp };

std::string_view ImageExtension(ImageFormat format);
absl::StatusOr<ImageFormat> ImageFormatFromExtension(std::string_view ext);
absl::StatusOr<ImageFormat> SniffImageFormat(std::string_view bytes);

}  // namespace atelier::dataset
