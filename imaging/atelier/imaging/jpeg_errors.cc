// libjpeg error handling shared by the JPEG decoder and encoder.
#include "atelier/imaging/internal/jpeg_errors.h"

#include <jerror.h>

#include "absl/strings/str_cat.h"
#include "atelier/imaging/image.h"
#include "atelier/imaging/internal/codec_internal.h"

namespace atelier::imaging::internal {
namespace {

// More scans than any sane progressive JPEG has (libjpeg-turbo's own limit in
// TurboJPEG is 500); refusing them stops CPU bombs made of empty scans.
constexpr int kMaxProgressiveScans = 1000;

[[noreturn]] void JpegErrorExit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Warnings (level -1) are tolerated, except entropy-coded data cut short by
// the end of the file: libjpeg would pad it with grey and carry on.
void JpegEmitMessage(j_common_ptr cinfo, int msg_level) {
  if (msg_level >= 0) return;  // trace messages
  auto* err = reinterpret_cast<JpegErrorManager*>(cinfo->err);
  if (cinfo->err->msg_code == JWRN_JPEG_EOF) err->ran_out = true;
  if (cinfo->err->msg_code == JWRN_HIT_MARKER && err->ran_out) {
    err->truncated = true;
    (*cinfo->err->format_message)(cinfo, err->message);
    std::longjmp(err->jump, 1);
  }
  cinfo->err->num_warnings++;
}

}  // namespace

void JpegScanLimitMonitor(j_common_ptr cinfo) {
  if (!cinfo->is_decompressor) return;
  auto* dinfo = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (dinfo->input_scan_number > kMaxProgressiveScans) {
    auto* err = reinterpret_cast<JpegErrorManager*>(cinfo->err);
    std::snprintf(err->message, sizeof(err->message), "more than %d progressive scans",
                  kMaxProgressiveScans);
    std::longjmp(err->jump, 1);
  }
}

void InstallErrorManager(JpegErrorManager* err) {
  jpeg_std_error(&err->pub);
  err->pub.error_exit = JpegErrorExit;
  err->pub.emit_message = JpegEmitMessage;
}

absl::Status ErrorFromManager(const JpegErrorManager& err) {
  if (err.truncated) return ImageError(kReasonTruncated, absl::StrCat("truncated JPEG: ", err.message));
  return ImageError(kReasonCorrupt, absl::StrCat("corrupt JPEG: ", err.message));
}

}  // namespace atelier::imaging::internal
