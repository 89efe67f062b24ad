// PNG decoding through libpng: probe and decode (palette, 1..16-bit, gray,
// gray+alpha, RGBA, tRNS transparency composited on white, interlaced).
//
// libpng reports errors through png_error, which longjmps to png_jmpbuf; the
// functions that call setjmp hold no C++ objects with destructors, and every
// buffer they fill belongs to their caller.
#include <png.h>

#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "atelier/imaging/image.h"
#include "atelier/imaging/internal/codec_internal.h"
#include "atelier/common/status_macros.h"

namespace atelier::imaging::internal {
namespace {

struct PngReadState {
  const uint8_t* data = nullptr;
  size_t size = 0;
  size_t pos = 0;
  bool truncated = false;
  char message[256] = {};
};

[[noreturn]] void PngError(png_structp png, png_const_charp message) {
  auto* state = static_cast<PngReadState*>(png_get_error_ptr(png));
  std::snprintf(state->message, sizeof(state->message), "%s", message);
  png_longjmp(png, 1);
}

void PngIgnoreWarning(png_structp, png_const_charp) {}

void PngRead(png_structp png, png_bytep out, png_size_t length) {
  auto* state = static_cast<PngReadState*>(png_get_io_ptr(png));
  if (length > state->size - state->pos) {
    state->truncated = true;
    png_error(png, "unexpected end of PNG data");
  }
  std::memcpy(out, state->data + state->pos, length);
  state->pos += length;
}

struct PngReader {
  PngReadState state;
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngReader() { png_destroy_read_struct(&png, info != nullptr ? &info : nullptr, nullptr); }
};

absl::Status ErrorFromState(const PngReadState& state) {
  if (state.truncated) return ImageError(kReasonTruncated, absl::StrCat("truncated PNG: ", state.message));
  return ImageError(kReasonCorrupt, absl::StrCat("corrupt PNG: ", state.message));
}

// Creates the reader and reads everything up to the image data.
bool ReadInfo(PngReader* reader, absl::string_view bytes) {
  reader->state.data = reinterpret_cast<const uint8_t*>(bytes.data());
  reader->state.size = bytes.size();
  reader->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &reader->state, PngError, PngIgnoreWarning);
  if (reader->png == nullptr) {
    std::snprintf(reader->state.message, sizeof(reader->state.message), "cannot create the PNG reader");
    return false;
  }
  reader->info = png_create_info_struct(reader->png);
  if (reader->info == nullptr) {
    std::snprintf(reader->state.message, sizeof(reader->state.message), "cannot create the PNG info");
    return false;
  }
  if (setjmp(png_jmpbuf(reader->png))) return false;
  png_set_read_fn(reader->png, &reader->state, PngRead);
  // The canvas limit is ours (DecodeOptions::max_pixels), not libpng's 1e6.
  png_set_user_limits(reader->png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
  png_read_info(reader->png, reader->info);
  return true;
}

// Decodes the pixels after ReadInfo into `image`, with `scratch` for RGBA.
bool ReadPixels(PngReader* reader, Image* image, std::vector<uint8_t>* scratch) {
  png_structp png = reader->png;
  png_infop info = reader->info;
  if (setjmp(png_jmpbuf(png))) return false;
  const int color_type = png_get_color_type(png, info);
  const int bit_depth = png_get_bit_depth(png, info);
  const bool has_trns = png_get_valid(png, info, PNG_INFO_tRNS) != 0;
  const bool has_alpha = (color_type & PNG_COLOR_MASK_ALPHA) != 0 || has_trns;
  if (color_type == PNG_COLOR_TYPE_PALETTE || bit_depth < 8 || has_trns) png_set_expand(png);
  if (bit_depth == 16) png_set_scale_16(png);
  if ((color_type & PNG_COLOR_MASK_COLOR) == 0) png_set_gray_to_rgb(png);
  const int passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);

  const int width = static_cast<int>(png_get_image_width(png, info));
  const int height = static_cast<int>(png_get_image_height(png, info));
  const size_t channels = has_alpha ? 4 : 3;
  if (png_get_rowbytes(png, info) != static_cast<size_t>(width) * channels) {
    png_error(png, "unexpected row layout after transformations");
  }
  image->width = width;
  image->height = height;
  image->rgb.resize(static_cast<size_t>(width) * height * 3);
  const size_t rgb_stride = static_cast<size_t>(width) * 3;
  if (!has_alpha) {
    for (int pass = 0; pass < passes; ++pass) {
      for (int y = 0; y < height; ++y) png_read_row(png, image->rgb.data() + y * rgb_stride, nullptr);
    }
    return true;
  }
  const size_t rgba_stride = static_cast<size_t>(width) * 4;
  if (passes == 1) {
    scratch->resize(rgba_stride);
    for (int y = 0; y < height; ++y) {
      png_read_row(png, scratch->data(), nullptr);
      CompositeRgbaOnWhite(scratch->data(), width, image->rgb.data() + y * rgb_stride);
    }
    return true;
  }
  // Interlaced (Adam7): each pass brings some pixels of some rows, and
  // png_read_row writes only those into the row it is given, so each pixel
  // is composited into the RGB image as it arrives: one RGBA row of scratch,
  // not a whole RGBA image.
  scratch->resize(rgba_stride);
  for (int pass = 0; pass < passes; ++pass) {
    const int first_col = PNG_PASS_START_COL(pass);
    const int col_step = 1 << PNG_PASS_COL_SHIFT(pass);
    for (int y = 0; y < height; ++y) {
      png_read_row(png, scratch->data(), nullptr);
      if (!PNG_ROW_IN_INTERLACE_PASS(y, pass)) continue;
      uint8_t* out = image->rgb.data() + y * rgb_stride;
      for (int x = first_col; x < width; x += col_step) {
        CompositeRgbaOnWhite(scratch->data() + static_cast<size_t>(x) * 4, 1, out + static_cast<size_t>(x) * 3);
      }
    }
  }
  return true;
}

uint32_t BigEndian32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}

}  // namespace

absl::StatusOr<ImageInfo> ProbePng(absl::string_view bytes) {
  // Signature (8), IHDR length (4), "IHDR" (4), width (4), height (4).
  if (bytes.size() < 24) return ImageError(kReasonTruncated, "truncated PNG: no complete IHDR chunk");
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  if (std::memcmp(p + 12, "IHDR", 4) != 0) return ImageError(kReasonCorrupt, "corrupt PNG: first chunk is not IHDR");
  ImageInfo info;
  info.codec = Codec::kPng;
  const uint32_t width = BigEndian32(p + 16), height = BigEndian32(p + 20);
  if (width == 0 || height == 0 || width > PNG_UINT_31_MAX || height > PNG_UINT_31_MAX) {
    return ImageError(kReasonCorrupt, absl::StrCat("corrupt PNG: invalid size ", width, "x", height));
  }
  info.width = static_cast<int>(width);
  info.height = static_cast<int>(height);
  return info;
}

absl::StatusOr<DecodeFootprint> PngFootprint(absl::string_view bytes, const CodecOptions& options) {
  ASSIGN_OR_RETURN(ImageInfo info, ProbePng(bytes));
  RETURN_IF_ERROR(CheckCanvas(Codec::kPng, info.width, info.height, options.max_pixels));
  DecodeFootprint out;
  out.decoded_width = info.width;
  out.decoded_height = info.height;
  const int64_t pixels = static_cast<int64_t>(info.width) * info.height;
  // The RGB image, one RGBA row of ours, libpng's current and previous rows
  // (up to 8 bytes a pixel for 16-bit RGBA) and zlib's window.
  out.bytes = pixels * 3 + int64_t{info.width} * (4 + 2 * 8) + (int64_t{64} << 10);
  return out;
}

absl::StatusOr<RawDecode> DecodePng(absl::string_view bytes, const CodecOptions& options, Image* pixels) {
  PngReader reader;
  if (!ReadInfo(&reader, bytes)) return ErrorFromState(reader.state);
  RawDecode out;
  out.stored_width = static_cast<int>(png_get_image_width(reader.png, reader.info));
  out.stored_height = static_cast<int>(png_get_image_height(reader.png, reader.info));
  if (absl::Status s = CheckCanvas(Codec::kPng, out.stored_width, out.stored_height, options.max_pixels);
      !s.ok()) {
    return s;
  }
  std::vector<uint8_t> scratch;
  if (!ReadPixels(&reader, pixels, &scratch)) return ErrorFromState(reader.state);
  return out;
}

}  // namespace atelier::imaging::internal
