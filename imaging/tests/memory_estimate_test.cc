// EstimateDecodeMemory and what decoding really allocates: the estimate is
// read from the header, refuses bombs before anything is allocated, and bounds
// the bytes DecodeAndResize allocates (counted by replacing the global
// operator new in this test binary), including for the 7990x7990 interlaced
// RGBA PNG that used to need a whole RGBA copy of itself.
#include <malloc.h>
#include <png.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>
#include <random>

#include "atelier/common/status_matchers.h"
#include "atelier/imaging/image.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_images.h"

namespace {

// Bytes live through operator new, and their peak, while `g_counting`.
std::atomic<bool> g_counting{false};
std::atomic<int64_t> g_live{0};
std::atomic<int64_t> g_peak{0};

void* Allocate(size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  if (g_counting.load(std::memory_order_relaxed)) {
    const int64_t live = g_live.fetch_add(static_cast<int64_t>(malloc_usable_size(p))) +
                         static_cast<int64_t>(malloc_usable_size(p));
    int64_t peak = g_peak.load();
    while (live > peak && !g_peak.compare_exchange_weak(peak, live)) {
    }
  }
  return p;
}

void Free(void* p) {
  if (p == nullptr) return;
  if (g_counting.load(std::memory_order_relaxed)) g_live.fetch_sub(static_cast<int64_t>(malloc_usable_size(p)));
  std::free(p);
}

}  // namespace

void* operator new(size_t n) { return Allocate(n); }
void* operator new[](size_t n) { return Allocate(n); }
void operator delete(void* p) noexcept { Free(p); }
void operator delete[](void* p) noexcept { Free(p); }
void operator delete(void* p, size_t) noexcept { Free(p); }
void operator delete[](void* p, size_t) noexcept { Free(p); }

namespace atelier::imaging {
namespace {

// The peak of the bytes allocated with operator new while `fn` runs, above
// what was live when it started.
template <typename Fn>
int64_t PeakAllocated(Fn fn) {
  g_live = 0;
  g_peak = 0;
  g_counting = true;
  fn();
  g_counting = false;
  return g_peak.load();
}

// An 8-bit RGBA Adam7-interlaced PNG of width x height whose pixels are all
// transparent black, written pass by pass and row by row (never the whole
// image in memory): about 250 KB for 7990 x 7990, like the hostile set's.
std::string InterlacedTransparentPng(uint32_t width, uint32_t height) {
  auto put32 = [](std::string* s, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) s->push_back(static_cast<char>((v >> shift) & 0xFF));
  };
  auto chunk = [&](std::string* png, const char* type, const std::string& data) {
    put32(png, static_cast<uint32_t>(data.size()));
    const std::string body = std::string(type, 4) + data;
    png->append(body);
    put32(png, static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()), body.size())));
  };
  std::string png("\x89PNG\r\n\x1a\n", 8);
  std::string ihdr;
  put32(&ihdr, width);
  put32(&ihdr, height);
  ihdr += std::string("\x08\x06\x00\x00\x01", 5);  // 8-bit RGBA, deflate, filter 0, Adam7
  chunk(&png, "IHDR", ihdr);
  z_stream z{};
  deflateInit(&z, 9);
  std::string idat;
  std::vector<uint8_t> row, out(1 << 16);
  auto feed = [&](const uint8_t* data, size_t size, int flush) {
    z.next_in = const_cast<Bytef*>(data);
    z.avail_in = static_cast<uInt>(size);
    do {
      z.next_out = out.data();
      z.avail_out = static_cast<uInt>(out.size());
      deflate(&z, flush);
      idat.append(reinterpret_cast<char*>(out.data()), out.size() - z.avail_out);
    } while (z.avail_out == 0);
  };
  for (int pass = 0; pass < 7; ++pass) {
    const uint32_t cols = PNG_PASS_COLS(width, pass), rows = PNG_PASS_ROWS(height, pass);
    if (cols == 0 || rows == 0) continue;
    row.assign(1 + static_cast<size_t>(cols) * 4, 0);  // filter byte 0, then zeros
    for (uint32_t y = 0; y < rows; ++y) feed(row.data(), row.size(), Z_NO_FLUSH);
  }
  feed(nullptr, 0, Z_FINISH);
  deflateEnd(&z);
  chunk(&png, "IDAT", idat);
  chunk(&png, "IEND", "");
  return png;
}

TEST(MemoryEstimateTest, InterlacedRgbaDecodesExactlyAsNonInterlaced) {
  std::mt19937 rng(7);
  for (const auto& [w, h] : std::vector<std::pair<int, int>>{{1, 1}, {3, 5}, {7, 2}, {37, 29}, {64, 9}}) {
    std::vector<uint8_t> rgba(static_cast<size_t>(w) * h * 4);
    for (uint8_t& v : rgba) v = static_cast<uint8_t>(rng());
    testing::PngOptions plain;
    plain.color_type = PNG_COLOR_TYPE_RGB_ALPHA;
    testing::PngOptions interlaced = plain;
    interlaced.interlaced = true;
    ASSERT_OK_AND_ASSIGN(DecodedImage a, DecodeImage(testing::EncodePngRaw(w, h, rgba, plain)));
    ASSERT_OK_AND_ASSIGN(DecodedImage b, DecodeImage(testing::EncodePngRaw(w, h, rgba, interlaced)));
    EXPECT_EQ(a.image.rgb, b.image.rgb) << w << "x" << h;
  }
}

TEST(MemoryEstimateTest, RefusesABombFromTheHeaderBeforeAllocating) {
  const std::string png = InterlacedTransparentPng(7990, 7990);
  DecodeOptions options;
  options.max_pixels = 10'000'000;
  absl::StatusOr<int64_t> estimate;
  const int64_t peak = PeakAllocated([&] { estimate = EstimateDecodeMemory(png, ResizeMode::kCenterCrop, 256, options); });
  EXPECT_EQ(FailureReason(estimate.status()), kReasonTooLarge) << estimate.status();
  EXPECT_LT(peak, 1 << 20);
  EXPECT_EQ(FailureReason(EstimateDecodeMemory(testing::JpegBomb(30000, 30000), ResizeMode::kCenterCrop, 256).status()),
            kReasonTooLarge);
  EXPECT_EQ(FailureReason(EstimateDecodeMemory("<html>", ResizeMode::kCenterCrop, 256).status()), kReasonNotAnImage);
}

TEST(MemoryEstimateTest, HugeInterlacedRgbaPngIsDecodedWithinItsEstimate) {
  constexpr int kSide = 7990;  // 63.8 Mpixel: under the default 64 M limit
  const std::string png = InterlacedTransparentPng(kSide, kSide);
  ASSERT_LT(png.size(), 2u << 20);
  ASSERT_OK_AND_ASSIGN(int64_t estimate, EstimateDecodeMemory(png, ResizeMode::kCenterCrop, 256));
  const int64_t rgb = int64_t{kSide} * kSide * 3;
  // The RGB image and rows: no whole RGBA image (4 more bytes a pixel).
  EXPECT_GE(estimate, rgb);
  EXPECT_LT(estimate, rgb + (int64_t{32} << 20));
  absl::StatusOr<DecodedImage> decoded;
  const int64_t peak = PeakAllocated([&] { decoded = DecodeAndResize(png, ResizeMode::kCenterCrop, 256); });
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->original_width, kSide);
  EXPECT_EQ(testing::PixelAt(decoded->image, 128, 128).r, 255);  // transparent: white
  EXPECT_LE(peak, estimate);
  EXPECT_GE(peak, rgb);  // the counting sees the decode
}

TEST(MemoryEstimateTest, BoundsWhatDecodingAllocates) {
  const std::vector<std::string> files = testing::EncodedEveryWay(testing::PhotoLike(1200, 900, 5));
  for (size_t i = 0; i < files.size(); ++i) {
    for (ResizeMode mode : {ResizeMode::kCenterCrop, ResizeMode::kShorterSide, ResizeMode::kKeep}) {
      ASSERT_OK_AND_ASSIGN(int64_t estimate, EstimateDecodeMemory(files[i], mode, 256));
      const int64_t peak = PeakAllocated([&] {
        if (mode == ResizeMode::kKeep) {
          absl::StatusOr<DecodedImage> d = DecodeImage(files[i]);
          ASSERT_TRUE(d.ok());
          ASSERT_TRUE(EncodeJpeg(d->image, 90).ok());
        } else {
          ASSERT_TRUE(DecodeAndResize(files[i], mode, 256).ok());
        }
      });
      EXPECT_LE(peak, estimate) << "file " << i << " mode " << static_cast<int>(mode);
    }
  }
}

}  // namespace
}  // namespace atelier::imaging
