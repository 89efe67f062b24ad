// JPEG encoding through libjpeg-turbo: EncodeJpeg (baseline, 4:2:0).
// Errors longjmp to the setjmp in Compress, which holds no C++ objects with
// destructors; the output buffer belongs to the caller's Compressor.
#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <jpeglib.h>

#include "absl/strings/str_cat.h"
#include "atelier/imaging/image.h"
#include "atelier/imaging/internal/codec_internal.h"
#include "atelier/imaging/internal/jpeg_errors.h"

namespace atelier::imaging {
namespace {

struct Compressor {
  jpeg_compress_struct cinfo;
  internal::JpegErrorManager err;
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  bool created = false;
  ~Compressor() {
    if (created) jpeg_destroy_compress(&cinfo);
    std::free(buffer);
  }
};

bool Compress(Compressor* enc, const Image& image, int quality) {
  enc->cinfo.err = &enc->err.pub;
  internal::InstallErrorManager(&enc->err);
  if (setjmp(enc->err.jump)) return false;
  jpeg_create_compress(&enc->cinfo);
  enc->created = true;
  jpeg_mem_dest(&enc->cinfo, &enc->buffer, &enc->size);
  enc->cinfo.image_width = static_cast<JDIMENSION>(image.width);
  enc->cinfo.image_height = static_cast<JDIMENSION>(image.height);
  enc->cinfo.input_components = 3;
  enc->cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults(&enc->cinfo);
  jpeg_set_quality(&enc->cinfo, quality, TRUE);
  jpeg_start_compress(&enc->cinfo, TRUE);
  const size_t stride = static_cast<size_t>(image.width) * 3;
  JSAMPROW rows[16];
  while (enc->cinfo.next_scanline < enc->cinfo.image_height) {
    const JDIMENSION y = enc->cinfo.next_scanline;
    const JDIMENSION n = std::min<JDIMENSION>(16, enc->cinfo.image_height - y);
    for (JDIMENSION i = 0; i < n; ++i) {
      rows[i] = const_cast<JSAMPROW>(image.rgb.data() + (y + i) * stride);
    }
    jpeg_write_scanlines(&enc->cinfo, rows, n);
  }
  jpeg_finish_compress(&enc->cinfo);
  return true;
}

}  // namespace

absl::StatusOr<std::string> EncodeJpeg(const Image& image, int quality) {
  if (quality < 1 || quality > 100) {
    return absl::InvalidArgumentError(absl::StrCat("JPEG quality must be in 1..100, got ", quality));
  }
  if (absl::Status s = internal::ValidateImage(image, "JPEG encoding"); !s.ok()) return s;
  if (image.width > JPEG_MAX_DIMENSION || image.height > JPEG_MAX_DIMENSION) {
    return absl::InvalidArgumentError(absl::StrCat("image ", image.width, "x", image.height,
                                                   " is larger than JPEG allows (", JPEG_MAX_DIMENSION, ")"));
  }
  Compressor enc;
  if (!Compress(&enc, image, quality)) {
    return absl::InternalError(absl::StrCat("JPEG encoding failed: ", enc.err.message));
  }
  return std::string(reinterpret_cast<const char*>(enc.buffer), enc.size);
}

}  // namespace atelier::imaging
