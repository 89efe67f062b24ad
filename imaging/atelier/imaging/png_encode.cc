// PNG encoding through libpng: EncodePng (8-bit RGB). libpng errors longjmp
// to the setjmp in Write, which holds no C++ objects with destructors; the
// output string belongs to the caller.
#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "atelier/imaging/image.h"
#include "atelier/imaging/internal/codec_internal.h"

namespace atelier::imaging {
namespace {

void PngIgnoreWarning(png_structp, png_const_charp) {}

struct PngWriteState {
  std::string* out = nullptr;
  char message[256] = {};
};

[[noreturn]] void PngWriteError(png_structp png, png_const_charp message) {
  auto* state = static_cast<PngWriteState*>(png_get_error_ptr(png));
  std::snprintf(state->message, sizeof(state->message), "%s", message);
  png_longjmp(png, 1);
}

void PngWrite(png_structp png, png_bytep data, png_size_t length) {
  auto* state = static_cast<PngWriteState*>(png_get_io_ptr(png));
  state->out->append(reinterpret_cast<const char*>(data), length);
}

void PngFlush(png_structp) {}

struct PngWriter {
  PngWriteState state;
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngWriter() { png_destroy_write_struct(&png, info != nullptr ? &info : nullptr); }
};

bool Write(PngWriter* writer, const Image& image) {
  writer->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &writer->state, PngWriteError,
                                        PngIgnoreWarning);
  if (writer->png == nullptr) return false;
  writer->info = png_create_info_struct(writer->png);
  if (writer->info == nullptr) return false;
  if (setjmp(png_jmpbuf(writer->png))) return false;
  png_set_write_fn(writer->png, &writer->state, PngWrite, PngFlush);
  png_set_IHDR(writer->png, writer->info, static_cast<png_uint_32>(image.width),
               static_cast<png_uint_32>(image.height), 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(writer->png, writer->info);
  const size_t stride = static_cast<size_t>(image.width) * 3;
  for (int y = 0; y < image.height; ++y) {
    png_write_row(writer->png, image.rgb.data() + y * stride);
  }
  png_write_end(writer->png, nullptr);
  return true;
}

}  // namespace

absl::StatusOr<std::string> EncodePng(const Image& image) {
  if (absl::Status s = internal::ValidateImage(image, "PNG encoding"); !s.ok()) return s;
  std::string out;
  PngWriter writer;
  writer.state.out = &out;
  if (!Write(&writer, image)) {
    return absl::InternalError(absl::StrCat("PNG encoding failed: ", writer.state.message));
  }
  return out;
}

}  // namespace atelier::imaging
