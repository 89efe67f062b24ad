// EXIF orientation: parsing the tag from an APP1 payload and applying it.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "atelier/imaging/internal/codec_internal.h"

namespace atelier::imaging::internal {
namespace {

// Reads TIFF integers in the byte order named by the TIFF header.
struct TiffReader {
  const uint8_t* data;
  size_t size;
  bool little_endian;

  bool Has(size_t offset, size_t n) const { return offset <= size && n <= size - offset; }
  uint16_t U16(size_t offset) const {
    return little_endian ? static_cast<uint16_t>(data[offset] | (data[offset + 1] << 8))
                         : static_cast<uint16_t>((data[offset] << 8) | data[offset + 1]);
  }
  uint32_t U32(size_t offset) const {
    const uint32_t b0 = data[offset], b1 = data[offset + 1], b2 = data[offset + 2], b3 = data[offset + 3];
    return little_endian ? (b0 | (b1 << 8) | (b2 << 16) | (b3 << 24))
                         : ((b0 << 24) | (b1 << 16) | (b2 << 8) | b3);
  }
};

constexpr uint16_t kOrientationTag = 0x0112;
constexpr uint16_t kTypeShort = 3;

}  // namespace

int ParseExifOrientation(absl::string_view app1_payload) {
  static constexpr char kExifHeader[] = "Exif\0\0";
  if (app1_payload.size() < 6 + 8 || std::memcmp(app1_payload.data(), kExifHeader, 6) != 0) return 1;
  TiffReader tiff{reinterpret_cast<const uint8_t*>(app1_payload.data()) + 6, app1_payload.size() - 6, true};
  if (tiff.data[0] == 'I' && tiff.data[1] == 'I') {
    tiff.little_endian = true;
  } else if (tiff.data[0] == 'M' && tiff.data[1] == 'M') {
    tiff.little_endian = false;
  } else {
    return 1;
  }
  if (tiff.U16(2) != 42) return 1;
  const size_t ifd0 = tiff.U32(4);
  if (!tiff.Has(ifd0, 2)) return 1;
  const size_t entries = tiff.U16(ifd0);
  for (size_t i = 0; i < entries; ++i) {
    const size_t entry = ifd0 + 2 + i * 12;
    if (!tiff.Has(entry, 12)) return 1;
    if (tiff.U16(entry) != kOrientationTag) continue;
    if (tiff.U16(entry + 2) != kTypeShort || tiff.U32(entry + 4) < 1) return 1;
    const int value = tiff.U16(entry + 8);  // a single SHORT sits left-justified in the value field
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}

Image ApplyOrientation(Image image, int orientation) {
  if (orientation < 2 || orientation > 8 || image.width == 0 || image.height == 0) return image;
  Image out;
  ApplyOrientationInto(image, orientation, &out);
  return out;
}

void ApplyOrientationInto(const Image& image, int orientation, Image* target) {
  const int wi = image.width, hi = image.height;
  const bool swap = OrientationSwapsAxes(orientation);
  Image& out = *target;
  out.width = swap ? hi : wi;
  out.height = swap ? wi : hi;
  out.rgb.resize(image.rgb.size());
  // For every output pixel (x, y), the source column/row is
  // sx = ax*x + bx*y + cx, sy = ay*x + by*y + cy.
  int ax = 0, bx = 0, cx = 0, ay = 0, by = 0, cy = 0;
  switch (orientation) {
    case 2: ax = -1; cx = wi - 1; by = 1; break;                 // mirror horizontal
    case 3: ax = -1; cx = wi - 1; by = -1; cy = hi - 1; break;   // rotate 180
    case 4: ax = 1; by = -1; cy = hi - 1; break;                 // mirror vertical
    case 5: bx = 1; ay = 1; break;                               // transpose
    case 6: bx = 1; ay = -1; cy = hi - 1; break;                 // rotate 90 clockwise
    case 7: bx = -1; cx = wi - 1; ay = -1; cy = hi - 1; break;   // transverse
    case 8: bx = -1; cx = wi - 1; ay = 1; break;                 // rotate 90 counter-clockwise
  }
  const uint8_t* src = image.rgb.data();
  uint8_t* dst = out.rgb.data();
  const int64_t src_stride = static_cast<int64_t>(wi) * 3;
  // Step between horizontally adjacent output pixels, in source bytes.
  const int64_t step = static_cast<int64_t>(ax) * 3 + static_cast<int64_t>(ay) * src_stride;
  for (int y = 0; y < out.height; ++y) {
    const int64_t sx0 = static_cast<int64_t>(bx) * y + cx;
    const int64_t sy0 = static_cast<int64_t>(by) * y + cy;
    int64_t offset = sy0 * src_stride + sx0 * 3;
    uint8_t* d = dst + static_cast<int64_t>(y) * out.width * 3;
    for (int x = 0; x < out.width; ++x, offset += step, d += 3) {
      d[0] = src[offset];
      d[1] = src[offset + 1];
      d[2] = src[offset + 2];
    }
  }
}

namespace {

struct Point {
  int x, y;
};

// Where oriented pixel p lives in the stored image (see ApplyOrientationInto).
Point OrientedToStoredPoint(Point p, int orientation, int w, int h) {
  switch (orientation) {
    case 2: return {w - 1 - p.x, p.y};
    case 3: return {w - 1 - p.x, h - 1 - p.y};
    case 4: return {p.x, h - 1 - p.y};
    case 5: return {p.y, p.x};
    case 6: return {p.y, h - 1 - p.x};
    case 7: return {w - 1 - p.y, h - 1 - p.x};
    case 8: return {w - 1 - p.y, p.x};
    default: return p;
  }
}

// Where stored pixel p shows in the oriented image.
Point StoredToOrientedPoint(Point p, int orientation, int w, int h) {
  switch (orientation) {
    case 2: return {w - 1 - p.x, p.y};
    case 3: return {w - 1 - p.x, h - 1 - p.y};
    case 4: return {p.x, h - 1 - p.y};
    case 5: return {p.y, p.x};
    case 6: return {h - 1 - p.y, p.x};
    case 7: return {h - 1 - p.y, w - 1 - p.x};
    case 8: return {p.y, w - 1 - p.x};
    default: return p;
  }
}

template <typename MapPoint>
Rect MapRect(const Rect& r, MapPoint map) {
  const Point a = map(Point{r.x, r.y});
  const Point b = map(Point{r.x + r.width - 1, r.y + r.height - 1});
  return {std::min(a.x, b.x), std::min(a.y, b.y), std::abs(a.x - b.x) + 1, std::abs(a.y - b.y) + 1};
}

}  // namespace

Rect OrientedToStored(const Rect& r, int orientation, int stored_w, int stored_h) {
  return MapRect(r, [&](Point p) { return OrientedToStoredPoint(p, orientation, stored_w, stored_h); });
}

Rect StoredToOriented(const Rect& r, int orientation, int stored_w, int stored_h) {
  return MapRect(r, [&](Point p) { return StoredToOrientedPoint(p, orientation, stored_w, stored_h); });
}

void CompositeRgbaOnWhite(const uint8_t* rgba, int64_t count, uint8_t* rgb) {
  for (int64_t i = 0; i < count; ++i, rgba += 4, rgb += 3) {
    const uint32_t a = rgba[3];
    const uint32_t inv = 255 - a;
    for (int c = 0; c < 3; ++c) {
      // c*a/255 + 255*(1-a/255), rounded: exact for a == 0 and a == 255.
      rgb[c] = static_cast<uint8_t>((rgba[c] * a + 255 * inv + 127) / 255);
    }
  }
}

}  // namespace atelier::imaging::internal
