// Magic-byte sniffing, the canvas (bomb) guard and ProbeImage.
#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"
#include "atelier/imaging/image.h"
#include "atelier/imaging/internal/codec_internal.h"

namespace atelier::imaging {
namespace internal {

std::optional<Codec> SniffCodec(absl::string_view bytes) {
  if (bytes.size() >= 3 && static_cast<uint8_t>(bytes[0]) == 0xFF &&
      static_cast<uint8_t>(bytes[1]) == 0xD8 && static_cast<uint8_t>(bytes[2]) == 0xFF) {
    return Codec::kJpeg;
  }
  static constexpr char kPngMagic[] = "\x89PNG\r\n\x1a\n";
  if (bytes.size() >= 8 && std::memcmp(bytes.data(), kPngMagic, 8) == 0) return Codec::kPng;
  if (bytes.size() >= 12 && std::memcmp(bytes.data(), "RIFF", 4) == 0 &&
      std::memcmp(bytes.data() + 8, "WEBP", 4) == 0) {
    return Codec::kWebp;
  }
  return std::nullopt;
}

absl::Status CheckCanvas(Codec codec, int64_t width, int64_t height, int64_t max_pixels) {
  if (width <= 0 || height <= 0) {
    return ImageError(kReasonCorrupt, absl::StrCat(CodecName(codec), " header declares an empty canvas ",
                                                   width, "x", height));
  }
  if (max_pixels > 0 && width * height > max_pixels) {
    return ImageError(kReasonTooLarge,
                      absl::StrCat(CodecName(codec), " image declares ", width, "x", height, " = ",
                                   width * height, " pixels, more than the limit of ", max_pixels));
  }
  return absl::OkStatus();
}

absl::Status NotAnImage(absl::string_view bytes) {
  if (bytes.empty()) return ImageError(kReasonNotAnImage, "empty input is not an image");
  return ImageError(kReasonNotAnImage,
                    absl::StrCat("no JPEG, PNG or WebP signature in ", bytes.size(), " bytes"));
}

}  // namespace internal

absl::StatusOr<ImageInfo> ProbeImage(absl::string_view bytes) {
  std::optional<Codec> codec = internal::SniffCodec(bytes);
  if (!codec.has_value()) return internal::NotAnImage(bytes);
  switch (*codec) {
    case Codec::kJpeg:
      return internal::ProbeJpeg(bytes);
    case Codec::kPng:
      return internal::ProbePng(bytes);
    case Codec::kWebp:
      return internal::ProbeWebp(bytes);
  }
  return internal::NotAnImage(bytes);
}

}  // namespace atelier::imaging
