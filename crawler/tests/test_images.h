// Real image files for crawler tests, made with atelier_imaging's encoders and
// libwebp: a colour gradient of a given size as JPEG, PNG or WebP, a JPEG that
// declares a huge canvas (decompression bomb), and a truncated JPEG.
#pragma once

#include <string>

namespace atelier::crawler::testing {

std::string MakeJpeg(int width, int height, int quality = 85);
std::string MakePng(int width, int height);
std::string MakeWebp(int width, int height);
// A small valid JPEG whose frame header is patched to declare width x height.
std::string MakeJpegBomb(int width = 60000, int height = 60000);
// The first half of a valid JPEG.
std::string MakeTruncatedJpeg();

}  // namespace atelier::crawler::testing
