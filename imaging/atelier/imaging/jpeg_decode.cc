// JPEG decoding through libjpeg-turbo's libjpeg API: probe and decode
// (baseline, progressive, grayscale, CMYK/YCCK, DCT scaling, EXIF
// orientation, optional crop to what a centre-crop resize reads).
//
// libjpeg reports errors by calling error_exit, which must not return: the
// handlers (jpeg_errors.h) longjmp back to the setjmp in ReadHeader and
// ReadPixels. Those hold no C++ objects with destructors between setjmp and
// longjmp; every buffer they fill belongs to their caller.
#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

// jpeglib.h needs size_t and FILE declared first.
#include <jerror.h>
#include <jpeglib.h>

#include "absl/strings/str_cat.h"
#include "atelier/imaging/image.h"
#include "atelier/imaging/internal/codec_internal.h"
#include "atelier/imaging/internal/jpeg_errors.h"
#include "atelier/imaging/internal/resample.h"

namespace atelier::imaging::internal {
namespace {

// A decompressor that is always destroyed, whatever path leaves the scope.
struct Decompressor {
  jpeg_decompress_struct cinfo;
  JpegErrorManager err;
  jpeg_progress_mgr progress;
  bool created = false;
  ~Decompressor() {
    if (created) jpeg_destroy_decompress(&cinfo);
  }
};

// Creates the decompressor and reads the header; false after a libjpeg error
// (described in dec->err). Markers APP1 are kept when `keep_exif`.
bool ReadHeader(Decompressor* dec, absl::string_view bytes, bool keep_exif) {
  dec->cinfo.err = &dec->err.pub;
  InstallErrorManager(&dec->err);
  if (setjmp(dec->err.jump)) return false;
  jpeg_create_decompress(&dec->cinfo);
  dec->created = true;
  dec->progress.progress_monitor = JpegScanLimitMonitor;
  dec->cinfo.progress = &dec->progress;
  jpeg_mem_src(&dec->cinfo, reinterpret_cast<const unsigned char*>(bytes.data()),
               static_cast<unsigned long>(bytes.size()));
  if (keep_exif) jpeg_save_markers(&dec->cinfo, JPEG_APP0 + 1, 0xFFFF);
  if (jpeg_read_header(&dec->cinfo, TRUE) != JPEG_HEADER_OK) {
    std::snprintf(dec->err.message, sizeof(dec->err.message), "no image in the JPEG stream");
    return false;
  }
  return true;
}

int OrientationFromMarkers(const jpeg_decompress_struct& cinfo) {
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m != nullptr; m = m->next) {
    if (m->marker != JPEG_APP0 + 1) continue;
    absl::string_view payload(reinterpret_cast<const char*>(m->data), m->data_length);
    if (payload.substr(0, 6) == absl::string_view("Exif\0\0", 6)) return ParseExifOrientation(payload);
  }
  return 1;
}

void CmykRowToRgb(const uint8_t* cmyk, int width, bool adobe_inverted, uint8_t* rgb) {
  for (int x = 0; x < width; ++x, cmyk += 4, rgb += 3) {
    uint32_t c = cmyk[0], m = cmyk[1], y = cmyk[2], k = cmyk[3];
    if (!adobe_inverted) {
      c = 255 - c;
      m = 255 - m;
      y = 255 - y;
      k = 255 - k;
    }
    // Adobe stores 255 - ink, so each inverted value is already "how much
    // light passes": R = (255 - C) * (255 - K) / 255 in ink terms.
    rgb[0] = static_cast<uint8_t>((c * k + 127) / 255);
    rgb[1] = static_cast<uint8_t>((m * k + 127) / 255);
    rgb[2] = static_cast<uint8_t>((y * k + 127) / 255);
  }
}

// Chooses the smallest DCT scale (1/8, 1/4, 1/2) whose output keeps the
// shorter and longer sides >= the targets, and computes the output dimensions.
void ChooseScale(jpeg_decompress_struct* cinfo, const CodecOptions& options) {
  cinfo->scale_num = 1;
  cinfo->scale_denom = 1;
  if (options.min_shorter_side > 0 || options.min_longer_side > 0) {
    for (unsigned denom : {8u, 4u, 2u}) {
      cinfo->scale_denom = denom;
      jpeg_calc_output_dimensions(cinfo);
      const int shorter = static_cast<int>(std::min(cinfo->output_width, cinfo->output_height));
      const int longer = static_cast<int>(std::max(cinfo->output_width, cinfo->output_height));
      if (shorter >= options.min_shorter_side && longer >= options.min_longer_side) return;
    }
    cinfo->scale_denom = 1;
  }
  jpeg_calc_output_dimensions(cinfo);
}

// jpeg_read_scanlines read nothing: cannot happen with an in-memory source
// (it pads with EOI), but never loop on it.
bool NoProgress(Decompressor* dec) {
  std::snprintf(dec->err.message, sizeof(dec->err.message), "decoder made no progress");
  return false;
}

// The part of a full_w x full_h decoded (stored) image that
// Resize(kCenterCrop, size) of its oriented version reads.
Rect CenterCropRegion(int full_w, int full_h, int orientation, int size) {
  const bool swap = OrientationSwapsAxes(orientation);
  const int oriented_w = swap ? full_h : full_w;
  const int oriented_h = swap ? full_w : full_h;
  const CropGeometry crop = CenterCropGeometry(oriented_w, oriented_h, size);
  const Span xs = SourceSpan(oriented_w, crop.scaled_w, crop.off_x, size);
  const Span ys = SourceSpan(oriented_h, crop.scaled_h, crop.off_y, size);
  return OrientedToStored(Rect{xs.begin, ys.begin, xs.end - xs.begin, ys.end - ys.begin}, orientation, full_w,
                          full_h);
}

// Decodes the pixels after ReadHeader; false after a libjpeg error. `image`
// and `row_buffer` are the caller's. With options.center_crop_size, only the
// region the crop reads is produced (whole iMCU columns; every row is still
// entropy-decoded, skipped rows without IDCT).
bool ReadPixels(Decompressor* dec, const CodecOptions& options, int orientation, RawDecode* raw, Image* image,
                std::vector<uint8_t>* row_buffer) {
  jpeg_decompress_struct* cinfo = &dec->cinfo;
  if (setjmp(dec->err.jump)) return false;
  const bool cmyk = cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK;
  cinfo->out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  ChooseScale(cinfo, options);
  jpeg_start_decompress(cinfo);
  raw->decoded_width = static_cast<int>(cinfo->output_width);
  raw->decoded_height = static_cast<int>(cinfo->output_height);
  raw->region = Rect{0, 0, raw->decoded_width, raw->decoded_height};
  if (options.center_crop_size > 0) {
    raw->region = CenterCropRegion(raw->decoded_width, raw->decoded_height, orientation, options.center_crop_size);
    if (raw->region.width < raw->decoded_width) {
      JDIMENSION x = static_cast<JDIMENSION>(raw->region.x), width = static_cast<JDIMENSION>(raw->region.width);
      jpeg_crop_scanline(cinfo, &x, &width);  // widens to iMCU boundaries
      raw->region.x = static_cast<int>(x);
      raw->region.width = static_cast<int>(width);
    }
    if (raw->region.y > 0 &&
        jpeg_skip_scanlines(cinfo, static_cast<JDIMENSION>(raw->region.y)) != static_cast<JDIMENSION>(raw->region.y)) {
      return NoProgress(dec);
    }
  }
  const int width = static_cast<int>(cinfo->output_width);
  const int height = raw->region.height;
  const JDIMENSION first_row = static_cast<JDIMENSION>(raw->region.y);
  const JDIMENSION end_row = first_row + static_cast<JDIMENSION>(height);
  image->width = width;
  image->height = height;
  image->rgb.resize(static_cast<size_t>(width) * height * 3);
  const size_t stride = static_cast<size_t>(width) * 3;
  if (cmyk) {
    row_buffer->resize(static_cast<size_t>(width) * 4);
    JSAMPROW row = row_buffer->data();
    while (cinfo->output_scanline < end_row) {
      const JDIMENSION y = cinfo->output_scanline - first_row;
      if (jpeg_read_scanlines(cinfo, &row, 1) != 1) return NoProgress(dec);
      CmykRowToRgb(row, width, cinfo->saw_Adobe_marker, image->rgb.data() + y * stride);
    }
  } else {
    JSAMPROW rows[16];
    while (cinfo->output_scanline < end_row) {
      const JDIMENSION y = cinfo->output_scanline - first_row;
      const JDIMENSION n = std::min<JDIMENSION>(16, end_row - cinfo->output_scanline);
      for (JDIMENSION i = 0; i < n; ++i) rows[i] = image->rgb.data() + (y + i) * stride;
      if (jpeg_read_scanlines(cinfo, rows, n) == 0) return NoProgress(dec);
    }
  }
  // Rows below the region are still entropy-decoded, so a truncated or
  // corrupt tail is reported as without a crop: skipping omits their IDCT,
  // but a skip to the very end would stop reading, so the last row is read.
  if (cinfo->output_scanline < cinfo->output_height) {
    const JDIMENSION remaining = cinfo->output_height - cinfo->output_scanline;
    if (remaining > 1 && jpeg_skip_scanlines(cinfo, remaining - 1) != remaining - 1) return NoProgress(dec);
    row_buffer->resize(static_cast<size_t>(width) * (cmyk ? 4 : 3));
    JSAMPROW row = row_buffer->data();
    if (jpeg_read_scanlines(cinfo, &row, 1) != 1) return NoProgress(dec);
  }
  // No jpeg_finish_decompress: every pixel is in, and a file whose only
  // missing bytes are the EOI marker is complete enough.
  return true;
}

// Sets the DCT scale DecodeJpeg would choose after ReadHeader; false after a
// libjpeg error.
bool ScaleAsDecoding(Decompressor* dec, const CodecOptions& options) {
  if (setjmp(dec->err.jump)) return false;
  ChooseScale(&dec->cinfo, options);
  return true;
}

}  // namespace

absl::StatusOr<DecodeFootprint> JpegFootprint(absl::string_view bytes, const CodecOptions& options) {
  Decompressor dec;
  if (!ReadHeader(&dec, bytes, /*keep_exif=*/false)) return ErrorFromManager(dec.err);
  const jpeg_decompress_struct& cinfo = dec.cinfo;
  if (absl::Status s = CheckCanvas(Codec::kJpeg, cinfo.image_width, cinfo.image_height, options.max_pixels);
      !s.ok()) {
    return s;
  }
  if (!ScaleAsDecoding(&dec, options)) return ErrorFromManager(dec.err);
  DecodeFootprint out;
  out.decoded_width = static_cast<int>(cinfo.output_width);
  out.decoded_height = static_cast<int>(cinfo.output_height);
  const int64_t decoded = int64_t{out.decoded_width} * out.decoded_height * 3;
  // The pixels, their EXIF-rotated copy, libjpeg's MCU-row buffers (16 rows
  // of every component at full width, CMYK counted) ...
  out.bytes = 2 * decoded + int64_t{cinfo.image_width} * 16 * 4 * 2 + (int64_t{64} << 10);
  // ... and a progressive file's whole-image coefficient buffer (2 bytes per
  // coefficient, 64 per block, blocks rounded up to the sampling factors).
  if (cinfo.progressive_mode) {
    for (int ci = 0; ci < cinfo.num_components; ++ci) {
      const jpeg_component_info& c = cinfo.comp_info[ci];
      const int64_t bw = (c.width_in_blocks + c.h_samp_factor - 1) / c.h_samp_factor * c.h_samp_factor;
      const int64_t bh = (c.height_in_blocks + c.v_samp_factor - 1) / c.v_samp_factor * c.v_samp_factor;
      out.bytes += bw * bh * 64 * 2;
    }
  }
  return out;
}

absl::StatusOr<ImageInfo> ProbeJpeg(absl::string_view bytes) {
  Decompressor dec;
  if (!ReadHeader(&dec, bytes, /*keep_exif=*/false)) return ErrorFromManager(dec.err);
  ImageInfo info;
  info.codec = Codec::kJpeg;
  info.width = static_cast<int>(dec.cinfo.image_width);
  info.height = static_cast<int>(dec.cinfo.image_height);
  return info;
}

absl::StatusOr<RawDecode> DecodeJpeg(absl::string_view bytes, const CodecOptions& options, Image* pixels) {
  Decompressor dec;
  if (!ReadHeader(&dec, bytes, /*keep_exif=*/true)) return ErrorFromManager(dec.err);
  RawDecode out;
  out.stored_width = static_cast<int>(dec.cinfo.image_width);
  out.stored_height = static_cast<int>(dec.cinfo.image_height);
  if (absl::Status s = CheckCanvas(Codec::kJpeg, out.stored_width, out.stored_height, options.max_pixels);
      !s.ok()) {
    return s;
  }
  out.orientation = OrientationFromMarkers(dec.cinfo);
  std::vector<uint8_t> row_buffer;
  if (!ReadPixels(&dec, options, out.orientation, &out, pixels, &row_buffer)) return ErrorFromManager(dec.err);
  return out;
}

}  // namespace atelier::imaging::internal
