#include "test_images.h"

#include <webp/encode.h>

#include <cstdlib>
#include <stdexcept>

#include "atelier/imaging/image.h"

namespace atelier::crawler::testing {
namespace {

imaging::Image Gradient(int width, int height) {
  imaging::Image image;
  image.width = width;
  image.height = height;
  image.rgb.resize(static_cast<size_t>(width) * height * 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      uint8_t* p = &image.rgb[(static_cast<size_t>(y) * width + x) * 3];
      p[0] = static_cast<uint8_t>(x * 255 / std::max(1, width - 1));
      p[1] = static_cast<uint8_t>(y * 255 / std::max(1, height - 1));
      p[2] = static_cast<uint8_t>((x + y) % 256);
    }
  }
  return image;
}

}  // namespace

std::string MakeJpeg(int width, int height, int quality) {
  auto jpeg = imaging::EncodeJpeg(Gradient(width, height), quality);
  if (!jpeg.ok()) std::abort();
  return *jpeg;
}

std::string MakePng(int width, int height) {
  auto png = imaging::EncodePng(Gradient(width, height));
  if (!png.ok()) std::abort();
  return *png;
}

std::string MakeWebp(int width, int height) {
  imaging::Image image = Gradient(width, height);
  uint8_t* out = nullptr;
  const size_t n = WebPEncodeRGB(image.rgb.data(), width, height, width * 3, 80.0f, &out);
  if (n == 0) std::abort();
  std::string bytes(reinterpret_cast<const char*>(out), n);
  WebPFree(out);
  return bytes;
}

std::string MakeJpegBomb(int width, int height) {
  std::string jpeg = MakeJpeg(16, 16);
  for (size_t i = 0; i + 9 < jpeg.size(); ++i) {
    const auto m = static_cast<unsigned char>(jpeg[i + 1]);
    if (static_cast<unsigned char>(jpeg[i]) == 0xFF && (m == 0xC0 || m == 0xC1 || m == 0xC2)) {
      // FF Cx, length(2), precision(1), height(2), width(2)
      jpeg[i + 5] = static_cast<char>((height >> 8) & 0xFF);
      jpeg[i + 6] = static_cast<char>(height & 0xFF);
      jpeg[i + 7] = static_cast<char>((width >> 8) & 0xFF);
      jpeg[i + 8] = static_cast<char>(width & 0xFF);
      return jpeg;
    }
  }
  std::abort();
}

std::string MakeTruncatedJpeg() {
  std::string jpeg = MakeJpeg(200, 150);
  return jpeg.substr(0, jpeg.size() / 2);
}

}  // namespace atelier::crawler::testing
