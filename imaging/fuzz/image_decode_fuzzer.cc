// Fuzzes the image decoders (image.h) with a JPEG, PNG or WebP file (EXIF
// included): ProbeImage, EstimateDecodeMemory, DecodeImage and
// DecodeAndResize as the crawler and the trainer call them, with a bomb guard
// of 4 megapixels so that a small input cannot ask for gigabytes.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "atelier/imaging/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace imaging = atelier::imaging;
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  imaging::DecodeOptions options;
  options.max_pixels = 4'000'000;
  (void)imaging::ProbeImage(bytes);
  (void)imaging::EstimateDecodeMemory(bytes, imaging::ResizeMode::kCenterCrop, 32, options);
  (void)imaging::DecodeImage(bytes, options);
  (void)imaging::DecodeAndResize(bytes, imaging::ResizeMode::kCenterCrop, 32, options);
  options.min_shorter_side = 16;
  (void)imaging::DecodeAndResize(bytes, imaging::ResizeMode::kShorterSide, 16, options);
  return 0;
}
