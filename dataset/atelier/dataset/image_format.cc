#include "atelier/dataset/image_format.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace atelier::dataset {

std::string_view ImageExtension(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg:
      return "jpg";
    case ImageFormat::kPng:
      return "png";
    case ImageFormat::kWebp:
      return "webp";
  }
  return "unknown";
}

absl::StatusOr<ImageFormat> ImageFormatFromExtension(std::string_view ext) {
  const std::string lower = absl::AsciiStrToLower(std::string(ext));
  if (lower == "jpg" || lower == "jpeg") return ImageFormat::kJpeg;
  if (lower == "png") return ImageFormat::kPng;
  if (lower == "webp") return ImageFormat::kWebp;
  return absl::InvalidArgumentError(absl::StrCat("unknown image extension \"",
                                                 absl::CEscape(std::string(ext.substr(0, 32))),
                                                 "\" (expected jpg, jpeg, png or webp)"));
}

absl::StatusOr<ImageFormat> SniffImageFormat(std::string_view bytes) {
  if (bytes.starts_with(std::string_view("\xFF\xD8\xFF", 3))) return ImageFormat::kJpeg;
  if (bytes.starts_with(std::string_view("\x89PNG\r\n\x1A\n", 8))) return ImageFormat::kPng;
  if (bytes.size() >= 12 && bytes.starts_with("RIFF") && bytes.substr(8, 4) == "WEBP") {
    return ImageFormat::kWebp;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("not a JPEG, PNG or WebP image (", bytes.size(), " bytes, starting with \"",
                   absl::CEscape(std::string(bytes.substr(0, 12))), "\")"));
}

}  // namespace atelier::dataset
