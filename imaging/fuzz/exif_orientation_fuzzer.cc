// Fuzzes ParseExifOrientation (internal/codec_internal.h) with an APP1
// marker's payload ("Exif\0\0" + TIFF), and applies the orientation found to
// a small image.
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "atelier/imaging/internal/codec_internal.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace imaging = atelier::imaging;
  const int orientation =
      imaging::internal::ParseExifOrientation(absl::string_view(reinterpret_cast<const char*>(data), size));
  if (orientation < 1 || orientation > 8) __builtin_trap();  // the contract: 1..8
  imaging::Image image{3, 2, std::vector<uint8_t>(3 * 2 * 3, 7)};
  image = imaging::internal::ApplyOrientation(std::move(image), orientation);
  return 0;
}
