// WebP decoding through libwebp: probe and decode (lossy, lossless, alpha
// composited on white; an animation decodes to its first frame).
#include <webp/decode.h>
#include <webp/demux.h>

#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "atelier/imaging/image.h"
#include "atelier/imaging/internal/codec_internal.h"

namespace atelier::imaging::internal {
namespace {

absl::Status StatusFromVp8(VP8StatusCode code, absl::string_view what) {
  if (code == VP8_STATUS_NOT_ENOUGH_DATA) {
    return ImageError(kReasonTruncated, absl::StrCat("truncated WebP: not enough data ", what));
  }
  return ImageError(kReasonCorrupt, absl::StrCat("corrupt WebP: libwebp status ", static_cast<int>(code), " ", what));
}

// The RIFF header declares the file size; fewer bytes than that is a cut file.
absl::Status CheckRiffSize(absl::string_view bytes) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const uint64_t riff_size = static_cast<uint64_t>(p[4]) | (static_cast<uint64_t>(p[5]) << 8) |
                             (static_cast<uint64_t>(p[6]) << 16) | (static_cast<uint64_t>(p[7]) << 24);
  if (riff_size + 8 > bytes.size()) {
    return ImageError(kReasonTruncated, absl::StrCat("truncated WebP: RIFF header declares ", riff_size + 8,
                                                     " bytes, got ", bytes.size()));
  }
  return absl::OkStatus();
}

absl::StatusOr<WebPBitstreamFeatures> Features(absl::string_view bytes) {
  WebPBitstreamFeatures features;
  const VP8StatusCode code =
      WebPGetFeatures(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &features);
  if (code != VP8_STATUS_OK) return StatusFromVp8(code, "in the header");
  return features;
}

struct AnimDecoderDeleter {
  void operator()(WebPAnimDecoder* dec) const { WebPAnimDecoderDelete(dec); }
};

absl::Status DecodeFirstFrame(absl::string_view bytes, Image* image) {
  WebPAnimDecoderOptions options;
  if (!WebPAnimDecoderOptionsInit(&options)) return absl::InternalError("libwebp version mismatch");
  options.color_mode = MODE_RGBA;
  options.use_threads = 0;
  WebPData data{reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()};
  std::unique_ptr<WebPAnimDecoder, AnimDecoderDeleter> dec(WebPAnimDecoderNew(&data, &options));
  if (dec == nullptr) return ImageError(kReasonCorrupt, "corrupt WebP: cannot parse the animation");
  WebPAnimInfo info;
  if (!WebPAnimDecoderGetInfo(dec.get(), &info)) return ImageError(kReasonCorrupt, "corrupt WebP animation");
  uint8_t* frame = nullptr;
  int timestamp = 0;
  if (!WebPAnimDecoderHasMoreFrames(dec.get()) || !WebPAnimDecoderGetNext(dec.get(), &frame, &timestamp)) {
    return ImageError(kReasonCorrupt, "corrupt WebP: the animation has no decodable frame");
  }
  image->width = static_cast<int>(info.canvas_width);
  image->height = static_cast<int>(info.canvas_height);
  image->rgb.resize(static_cast<size_t>(image->width) * image->height * 3);
  CompositeRgbaOnWhite(frame, static_cast<int64_t>(image->width) * image->height, image->rgb.data());
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ImageInfo> ProbeWebp(absl::string_view bytes) {
  absl::StatusOr<WebPBitstreamFeatures> features = Features(bytes);
  if (!features.ok()) return features.status();
  ImageInfo info;
  info.codec = Codec::kWebp;
  info.width = features->width;
  info.height = features->height;
  return info;
}

absl::StatusOr<DecodeFootprint> WebpFootprint(absl::string_view bytes, const CodecOptions& options) {
  absl::StatusOr<WebPBitstreamFeatures> features = Features(bytes);
  if (!features.ok()) return features.status();
  if (absl::Status s = CheckCanvas(Codec::kWebp, features->width, features->height, options.max_pixels); !s.ok()) {
    return s;
  }
  DecodeFootprint out;
  out.decoded_width = features->width;
  out.decoded_height = features->height;
  const int64_t pixels = static_cast<int64_t>(features->width) * features->height;
  // The RGB image, our RGBA copy (alpha), libwebp's own ARGB/YUV buffers
  // (taken as another RGBA image), and for an animation its two RGBA canvases.
  out.bytes = pixels * 3 + pixels * 4 + (features->has_alpha ? pixels * 4 : 0) +
              (features->has_animation ? pixels * 8 : 0) + (int64_t{64} << 10);
  return out;
}

absl::StatusOr<RawDecode> DecodeWebp(absl::string_view bytes, const CodecOptions& options, Image* pixels) {
  if (absl::Status s = CheckRiffSize(bytes); !s.ok()) return s;
  absl::StatusOr<WebPBitstreamFeatures> features = Features(bytes);
  if (!features.ok()) return features.status();
  RawDecode out;
  out.stored_width = features->width;
  out.stored_height = features->height;
  if (absl::Status s = CheckCanvas(Codec::kWebp, out.stored_width, out.stored_height, options.max_pixels);
      !s.ok()) {
    return s;
  }
  if (features->has_animation) {
    if (absl::Status s = DecodeFirstFrame(bytes, pixels); !s.ok()) return s;
    return out;
  }
  const int width = features->width, height = features->height;
  const bool alpha = features->has_alpha != 0;
  const int channels = alpha ? 4 : 3;
  std::vector<uint8_t> rgba;
  pixels->width = width;
  pixels->height = height;
  pixels->rgb.resize(static_cast<size_t>(width) * height * 3);
  if (alpha) rgba.resize(static_cast<size_t>(width) * height * 4);

  WebPDecoderConfig config;
  if (!WebPInitDecoderConfig(&config)) return absl::InternalError("libwebp version mismatch");
  config.output.colorspace = alpha ? MODE_RGBA : MODE_RGB;
  config.output.is_external_memory = 1;
  config.output.u.RGBA.rgba = alpha ? rgba.data() : pixels->rgb.data();
  config.output.u.RGBA.stride = width * channels;
  config.output.u.RGBA.size = static_cast<size_t>(width) * height * channels;
  const VP8StatusCode code = WebPDecode(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &config);
  WebPFreeDecBuffer(&config.output);  // frees nothing but libwebp's bookkeeping for external memory
  if (code != VP8_STATUS_OK) return StatusFromVp8(code, "in the image data");
  if (alpha) CompositeRgbaOnWhite(rgba.data(), static_cast<int64_t>(width) * height, pixels->rgb.data());
  return out;
}

}  // namespace atelier::imaging::internal
