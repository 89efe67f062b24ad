// Separable Lanczos-3 resampling whose support widens with the downscale
// factor (antialiasing), as PIL's LANCZOS filter.
//
// Weights are precomputed per output column and row in 14-bit fixed point and
// normalised so that each set sums to exactly 1 << 14: a uniform image keeps
// its colour exactly. The vertical pass runs first, over only the source
// columns the output window needs; the horizontal pass then works on the
// already reduced rows. On x86-64 both passes use SSE2 (part of the x86-64
// baseline), taking two taps per pmaddwd; elsewhere, and for row tails, the
// scalar loops compute the very same integers.
#include "atelier/imaging/internal/resample.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#define ATELIER_IMAGING_SSE2 1
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
// AVX2 versions are compiled with a target attribute and chosen at run time.
#include <immintrin.h>
#define ATELIER_IMAGING_AVX2 1
#endif
#endif

namespace atelier::imaging::internal {
namespace {

constexpr int kPrecisionBits = 14;
constexpr int32_t kOne = 1 << kPrecisionBits;
constexpr int32_t kRounding = 1 << (kPrecisionBits - 1);
constexpr double kLanczosSupport = 3.0;

#if ATELIER_IMAGING_AVX2
bool HasAvx2() {
  static const bool has_avx2 = __builtin_cpu_supports("avx2");
  return has_avx2;
}
#endif

// Lanczos-3 at t0, t0 + step, t0 + 2 step, ...: sin(pi t) and sin(pi t / 3)
// advance by rotation (angle addition) instead of two sin() calls per tap.
class Lanczos3Sequence {
 public:
  Lanczos3Sequence(double t0, double step)
      : t_(t0), step_(step),
        s1_(std::sin(M_PI * t0)), c1_(std::cos(M_PI * t0)),
        s3_(std::sin(M_PI * t0 / kLanczosSupport)), c3_(std::cos(M_PI * t0 / kLanczosSupport)),
        rs1_(std::sin(M_PI * step)), rc1_(std::cos(M_PI * step)),
        rs3_(std::sin(M_PI * step / kLanczosSupport)), rc3_(std::cos(M_PI * step / kLanczosSupport)) {}

  // The value at the current t; then moves to t + step.
  double Next() {
    double value;
    if (t_ <= -kLanczosSupport || t_ >= kLanczosSupport) {
      value = 0.0;
    } else if (std::abs(t_) < 1e-9) {
      value = 1.0;
    } else {
      value = kLanczosSupport * s1_ * s3_ / (M_PI * M_PI * t_ * t_);
    }
    t_ += step_;
    const double s1 = s1_ * rc1_ + c1_ * rs1_;
    c1_ = c1_ * rc1_ - s1_ * rs1_;
    s1_ = s1;
    const double s3 = s3_ * rc3_ + c3_ * rs3_;
    c3_ = c3_ * rc3_ - s3_ * rs3_;
    s3_ = s3;
    return value;
  }

 private:
  double t_, step_;
  double s1_, c1_, s3_, c3_;
  double rs1_, rc1_, rs3_, rc3_;
};

// Fixed-point weights mapping one axis of `in_size` source pixels onto a
// `scaled_size` axis, for the output window [offset, offset + out_size).
// Each output's tap count is padded to an even number with zero weights, so
// taps can be taken in pairs; padded taps never read outside [0, in_size + 1).
struct AxisWeights {
  int taps = 0;                  // stride of `weights`, even
  std::vector<int> first;        // first source index per output
  std::vector<int> count;        // taps per output, even
  std::vector<int16_t> weights;  // out_size * taps
  // Weights k, k+1 as one int32 (k low), repeated 4 times: what pmaddwd
  // takes. out_size * taps / 2 groups of 4.
  std::vector<int32_t> pairs;
};

void FillPairs(AxisWeights* w) {
  w->pairs.resize(w->weights.size() * 2);
  for (size_t k = 0; k < w->weights.size(); k += 2) {
    const int32_t pair = static_cast<int32_t>(static_cast<uint16_t>(w->weights[k])) |
                         static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint16_t>(w->weights[k + 1])) << 16);
    for (size_t j = 0; j < 4; ++j) w->pairs[k * 2 + j] = pair;
  }
}

AxisWeights ComputeWeights(int in_size, int scaled_size, int offset, int out_size) {
  const double scale = static_cast<double>(in_size) / scaled_size;
  const double filter_scale = std::max(scale, 1.0);
  const double support = kLanczosSupport * filter_scale;
  AxisWeights w;
  w.taps = (static_cast<int>(std::ceil(support)) * 2 + 2) & ~1;
  w.first.resize(out_size);
  w.count.resize(out_size);
  w.weights.assign(static_cast<size_t>(out_size) * w.taps, 0);
  std::vector<double> real(w.taps);
  for (int i = 0; i < out_size; ++i) {
    const double center = (i + offset + 0.5) * scale;
    int lo = std::max(static_cast<int>(center - support + 0.5), 0);
    const int hi = std::min(static_cast<int>(center + support + 0.5), in_size);
    int n = std::min(hi - lo, w.taps);
    double total = 0;
    Lanczos3Sequence lanczos((lo - center + 0.5) / filter_scale, 1.0 / filter_scale);
    for (int k = 0; k < n; ++k) {
      real[k] = lanczos.Next();
      total += real[k];
    }
    if (n <= 0 || total == 0.0) {  // degenerate window: nearest pixel
      lo = std::clamp(static_cast<int>(center), 0, in_size - 1);
      n = 1;
      real[0] = 1.0;
      total = 1.0;
    }
    int16_t* out = &w.weights[static_cast<size_t>(i) * w.taps];
    int32_t sum = 0;
    int largest = 0;
    for (int k = 0; k < n; ++k) {
      out[k] = static_cast<int16_t>(std::lround(real[k] / total * kOne));
      sum += out[k];
      if (out[k] > out[largest]) largest = k;
    }
    out[largest] = static_cast<int16_t>(out[largest] + (kOne - sum));  // exact unit gain
    w.first[i] = lo;
    w.count[i] = (n + 1) & ~1;
  }
  FillPairs(&w);
  return w;
}

uint8_t Clamp(int32_t acc) {
  const int32_t v = acc >> kPrecisionBits;
  return static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
}

// Vertical pass, scalar: output byte i of row y = sum over taps of source
// byte i of rows first[y] + k. Rows are `row_bytes` long, at `src_stride`.
void VerticalBytesScalar(const uint8_t* const* rows, const int16_t* weights, int taps, size_t begin,
                         size_t end, uint8_t* out) {
  for (size_t i = begin; i < end; ++i) {
    int32_t acc = kRounding;
    for (int k = 0; k < taps; ++k) acc += rows[k][i] * weights[k];
    out[i] = Clamp(acc);
  }
}

#if ATELIER_IMAGING_SSE2
// Vertical pass, SSE2: 16 bytes at a time from byte `begin`, two source rows
// per pmaddwd. Returns where it stopped (fewer than 16 bytes left).
size_t VerticalBytesSse2(const uint8_t* const* rows, const int32_t* pairs, int taps, size_t begin,
                         size_t row_bytes, uint8_t* out) {
  const __m128i zero = _mm_setzero_si128();
  const __m128i rounding = _mm_set1_epi32(kRounding);
  size_t i = begin;
  for (; i + 16 <= row_bytes; i += 16) {
    __m128i acc0 = rounding, acc1 = rounding, acc2 = rounding, acc3 = rounding;
    for (int k = 0; k < taps; k += 2) {
      const __m128i pair = _mm_loadu_si128(reinterpret_cast<const __m128i*>(pairs + k * 2));
      const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[k] + i));
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[k + 1] + i));
      const __m128i a_lo = _mm_unpacklo_epi8(a, zero), a_hi = _mm_unpackhi_epi8(a, zero);
      const __m128i b_lo = _mm_unpacklo_epi8(b, zero), b_hi = _mm_unpackhi_epi8(b, zero);
      acc0 = _mm_add_epi32(acc0, _mm_madd_epi16(_mm_unpacklo_epi16(a_lo, b_lo), pair));
      acc1 = _mm_add_epi32(acc1, _mm_madd_epi16(_mm_unpackhi_epi16(a_lo, b_lo), pair));
      acc2 = _mm_add_epi32(acc2, _mm_madd_epi16(_mm_unpacklo_epi16(a_hi, b_hi), pair));
      acc3 = _mm_add_epi32(acc3, _mm_madd_epi16(_mm_unpackhi_epi16(a_hi, b_hi), pair));
    }
    const __m128i lo = _mm_packs_epi32(_mm_srai_epi32(acc0, kPrecisionBits), _mm_srai_epi32(acc1, kPrecisionBits));
    const __m128i hi = _mm_packs_epi32(_mm_srai_epi32(acc2, kPrecisionBits), _mm_srai_epi32(acc3, kPrecisionBits));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm_packus_epi16(lo, hi));
  }
  return i;
}
#endif

#if ATELIER_IMAGING_AVX2
// Vertical pass, AVX2: as the SSE2 version, 32 bytes at a time. The unpacks
// and packs work within 128-bit lanes, and pair up so bytes stay in order.
__attribute__((target("avx2"))) size_t VerticalBytesAvx2(const uint8_t* const* rows, const int32_t* pairs,
                                                         int taps, size_t row_bytes, uint8_t* out) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i rounding = _mm256_set1_epi32(kRounding);
  size_t i = 0;
  for (; i + 32 <= row_bytes; i += 32) {
    __m256i acc0 = rounding, acc1 = rounding, acc2 = rounding, acc3 = rounding;
    for (int k = 0; k < taps; k += 2) {
      const __m256i pair = _mm256_set1_epi32(pairs[k * 2]);
      const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows[k] + i));
      const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows[k + 1] + i));
      const __m256i a_lo = _mm256_unpacklo_epi8(a, zero), a_hi = _mm256_unpackhi_epi8(a, zero);
      const __m256i b_lo = _mm256_unpacklo_epi8(b, zero), b_hi = _mm256_unpackhi_epi8(b, zero);
      acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(_mm256_unpacklo_epi16(a_lo, b_lo), pair));
      acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(_mm256_unpackhi_epi16(a_lo, b_lo), pair));
      acc2 = _mm256_add_epi32(acc2, _mm256_madd_epi16(_mm256_unpacklo_epi16(a_hi, b_hi), pair));
      acc3 = _mm256_add_epi32(acc3, _mm256_madd_epi16(_mm256_unpackhi_epi16(a_hi, b_hi), pair));
    }
    const __m256i lo =
        _mm256_packs_epi32(_mm256_srai_epi32(acc0, kPrecisionBits), _mm256_srai_epi32(acc1, kPrecisionBits));
    const __m256i hi =
        _mm256_packs_epi32(_mm256_srai_epi32(acc2, kPrecisionBits), _mm256_srai_epi32(acc3, kPrecisionBits));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm256_packus_epi16(lo, hi));
  }
  return i;
}

// Horizontal pass, AVX2: two output pixels at a time, one per 128-bit lane;
// pshufb turns r0 g0 b0 r1 g1 b1 into int16 [r0 r1 g0 g1 b0 b1 0 0]. The
// pixel with fewer taps runs on zero weights (it reads at most `taps` pixels
// from its first, which the caller's slack covers). Returns pixels done.
__attribute__((target("avx2"))) int HorizontalRowAvx2(const uint8_t* row, const AxisWeights& w, int out_width,
                                                      uint8_t* out) {
  const __m256i shuffle = _mm256_setr_epi8(0, -1, 3, -1, 1, -1, 4, -1, 2, -1, 5, -1, -1, -1, -1, -1,  //
                                           0, -1, 3, -1, 1, -1, 4, -1, 2, -1, 5, -1, -1, -1, -1, -1);
  const __m256i rounding = _mm256_set1_epi32(kRounding);
  const size_t pair_stride = static_cast<size_t>(w.taps) * 2;
  int x = 0;
  for (; x + 2 <= out_width; x += 2) {
    const uint8_t* p0 = row + static_cast<size_t>(w.first[x]) * 3;
    const uint8_t* p1 = row + static_cast<size_t>(w.first[x + 1]) * 3;
    const int32_t* q0 = &w.pairs[static_cast<size_t>(x) * pair_stride];
    const int32_t* q1 = q0 + pair_stride;
    const int taps = std::max(w.count[x], w.count[x + 1]);
    __m256i acc = rounding;
    for (int k = 0; k < taps; k += 2) {
      const __m256i px = _mm256_inserti128_si256(
          _mm256_castsi128_si256(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p0 + k * 3))),
          _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p1 + k * 3)), 1);
      const __m256i weight = _mm256_inserti128_si256(
          _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q0 + k * 2))),
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(q1 + k * 2)), 1);
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_shuffle_epi8(px, shuffle), weight));
    }
    const __m256i v = _mm256_srai_epi32(acc, kPrecisionBits);
    const __m256i bytes = _mm256_packus_epi16(_mm256_packs_epi32(v, v), v);
    const uint32_t first = static_cast<uint32_t>(_mm_cvtsi128_si32(_mm256_castsi256_si128(bytes)));
    const uint32_t second = static_cast<uint32_t>(_mm_cvtsi128_si32(_mm256_extracti128_si256(bytes, 1)));
    std::memcpy(out + x * 3, &first, 3);  // little-endian: r, g, b first
    std::memcpy(out + x * 3 + 3, &second, 3);
  }
  return x;
}
#endif

// Vertical pass over the window of `row_bytes` bytes starting at byte
// `x_begin` of each source row. `dst` rows are `row_bytes` long.
void VerticalPass(const Image& image, size_t x_begin, size_t row_bytes, const AxisWeights& w, int out_rows,
                  Kernels kernels, uint8_t* dst) {
  const size_t src_stride = static_cast<size_t>(image.width) * 3;
  const int last_row = image.height - 1;
  std::vector<const uint8_t*> rows(w.taps);
  for (int y = 0; y < out_rows; ++y) {
    const int16_t* weights = &w.weights[static_cast<size_t>(y) * w.taps];
    const int taps = w.count[y];
    for (int k = 0; k < taps; ++k) {
      // A padding tap (weight 0) may point one row past the end: reuse the last.
      const int row = std::min(w.first[y] + k, last_row);
      rows[k] = image.rgb.data() + static_cast<size_t>(row) * src_stride + x_begin;
    }
    uint8_t* out = dst + static_cast<size_t>(y) * row_bytes;
    size_t done = 0;
    const int32_t* pairs = &w.pairs[static_cast<size_t>(y) * w.taps * 2];
#if ATELIER_IMAGING_AVX2
    if (kernels == Kernels::kBest && HasAvx2()) done = VerticalBytesAvx2(rows.data(), pairs, taps, row_bytes, out);
#endif
#if ATELIER_IMAGING_SSE2
    if (kernels != Kernels::kScalar) done = VerticalBytesSse2(rows.data(), pairs, taps, done, row_bytes, out);
#endif
    VerticalBytesScalar(rows.data(), weights, taps, done, row_bytes, out);
  }
}

// Bytes readable past the last source row that the horizontal SIMD loops
// need: up to `taps` pixels past an output's first pixel, in 8-byte loads.
size_t HorizontalSlack(const AxisWeights& w) { return static_cast<size_t>(w.taps) * 3 + 16; }

// Horizontal pass over `rows` rows of `src_width` RGB pixels (plus
// HorizontalSlack readable bytes after the last row); w.first is relative to
// each row.
void HorizontalPass(const uint8_t* src, int src_width, int rows, const AxisWeights& w, int out_width,
                    Kernels kernels, uint8_t* dst) {
  const size_t src_stride = static_cast<size_t>(src_width) * 3;
  for (int y = 0; y < rows; ++y) {
    const uint8_t* row = src + static_cast<size_t>(y) * src_stride;
    uint8_t* out = dst + static_cast<size_t>(y) * out_width * 3;
    int x = 0;
#if ATELIER_IMAGING_AVX2
    if (kernels == Kernels::kBest && HasAvx2()) x = HorizontalRowAvx2(row, w, out_width, out);
#endif
    for (; x < out_width; ++x) {
      const int16_t* weights = &w.weights[static_cast<size_t>(x) * w.taps];
      const uint8_t* p = row + static_cast<size_t>(w.first[x]) * 3;
      const int taps = w.count[x];
#if ATELIER_IMAGING_SSE2
      if (kernels != Kernels::kScalar) {
        const int32_t* pairs = &w.pairs[static_cast<size_t>(x) * w.taps * 2];
        const __m128i zero = _mm_setzero_si128();
        __m128i acc = _mm_set1_epi32(kRounding);
        for (int k = 0; k < taps; k += 2, p += 6) {
          // Bytes r0 g0 b0 r1 g1 b1 . . -> int16 [r0 r1 g0 g1 b0 b1 . .]
          const __m128i px = _mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)), zero);
          const __m128i pixels = _mm_unpacklo_epi16(px, _mm_srli_si128(px, 6));
          const __m128i weight = _mm_loadu_si128(reinterpret_cast<const __m128i*>(pairs + k * 2));
          acc = _mm_add_epi32(acc, _mm_madd_epi16(pixels, weight));
        }
        const __m128i packed = _mm_srai_epi32(acc, kPrecisionBits);
        const __m128i bytes = _mm_packus_epi16(_mm_packs_epi32(packed, packed), zero);
        const uint32_t rgbx = static_cast<uint32_t>(_mm_cvtsi128_si32(bytes));
        std::memcpy(out + x * 3, &rgbx, 3);  // little-endian: r, g, b first
        continue;
      }
#endif
      int32_t r = kRounding, g = kRounding, b = kRounding;
      for (int k = 0; k < taps; ++k, p += 3) {
        r += p[0] * weights[k];
        g += p[1] * weights[k];
        b += p[2] * weights[k];
      }
      out[x * 3] = Clamp(r);
      out[x * 3 + 1] = Clamp(g);
      out[x * 3 + 2] = Clamp(b);
    }
  }
}

}  // namespace

Span SourceSpan(int in_size, int scaled_size, int offset, int out_size) {
  // The same windows as ComputeWeights, including its nearest-pixel fallback.
  const double scale = static_cast<double>(in_size) / scaled_size;
  const double support = kLanczosSupport * std::max(scale, 1.0);
  Span span{in_size, 0};
  for (int i = 0; i < out_size; ++i) {
    const double center = (i + offset + 0.5) * scale;
    const int lo = std::max(static_cast<int>(center - support + 0.5), 0);
    const int hi = std::min(static_cast<int>(center + support + 0.5), in_size);
    const int nearest = std::clamp(static_cast<int>(center), 0, in_size - 1);
    span.begin = std::min({span.begin, lo, nearest});
    span.end = std::max({span.end, hi, nearest + 1});
  }
  return span;
}

Image ResampleWindow(const Image& image, int scaled_w, int scaled_h, int off_x, int off_y, int out_w, int out_h,
                     Kernels kernels) {
  if (scaled_w == image.width && scaled_h == image.height && off_x == 0 && off_y == 0 &&
      out_w == image.width && out_h == image.height) {
    return image;
  }
  return ResampleRegion(image, 0, 0, image.width, image.height, scaled_w, scaled_h, off_x, off_y, out_w, out_h,
                        kernels);
}

Image ResampleRegion(const Image& image, int region_x, int region_y, int full_w, int full_h, int scaled_w,
                     int scaled_h, int off_x, int off_y, int out_w, int out_h, Kernels kernels) {
  AxisWeights wx = ComputeWeights(full_w, scaled_w, off_x, out_w);
  AxisWeights wy = ComputeWeights(full_h, scaled_h, off_y, out_h);
  // Make the source indices relative to the region. Containment is the
  // caller's contract; the clamps only keep every read inside the buffers.
  for (int& first : wx.first) first = std::max(first - region_x, 0);
  for (int& first : wy.first) first = std::clamp(first - region_y, 0, image.height - 1);
  // Source columns the horizontal pass reads, padding taps included:
  // [col_begin, col_end), clamped to the image.
  int col_begin = image.width - 1, col_end = 0;
  for (int x = 0; x < out_w; ++x) {
    col_begin = std::min(col_begin, wx.first[x]);
    col_end = std::max(col_end, wx.first[x] + wx.count[x]);
  }
  col_end = std::clamp(col_end, col_begin + 1, image.width);
  for (int& first : wx.first) first -= col_begin;
  const int mid_width = col_end - col_begin;

  // Padding taps may read past col_end: the slack covers them. The buffer is
  // per thread and reused, so that it is not faulted in afresh for every
  // image; one grown past kMaxRetainedBytes is freed after use.
  constexpr size_t kMaxRetainedBytes = 16u << 20;
  thread_local std::vector<uint8_t> mid;
  mid.resize(static_cast<size_t>(mid_width) * out_h * 3 + HorizontalSlack(wx));
  VerticalPass(image, static_cast<size_t>(col_begin) * 3, static_cast<size_t>(mid_width) * 3, wy, out_h,
               kernels, mid.data());
  Image out;
  out.width = out_w;
  out.height = out_h;
  out.rgb.resize(static_cast<size_t>(out_w) * out_h * 3);
  HorizontalPass(mid.data(), mid_width, out_h, wx, out_w, kernels, out.rgb.data());
  if (mid.capacity() > kMaxRetainedBytes) mid = std::vector<uint8_t>();
  return out;
}

}  // namespace atelier::imaging::internal
