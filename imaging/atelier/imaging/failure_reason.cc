// FailureReason, CodecName and the error constructor shared by the codecs.
#include <string>

#include "absl/strings/cord.h"
#include "atelier/imaging/image.h"
#include "atelier/imaging/internal/codec_internal.h"

namespace atelier::imaging {

absl::string_view CodecName(Codec codec) {
  switch (codec) {
    case Codec::kJpeg:
      return "jpg";
    case Codec::kPng:
      return "png";
    case Codec::kWebp:
      return "webp";
  }
  return "unknown";
}

std::string FailureReason(const absl::Status& status) {
  if (status.ok()) return "";
  auto payload = status.GetPayload(kFailureReasonTypeUrl);
  if (!payload.has_value()) return "error";
  return std::string(*payload);
}

namespace internal {

absl::Status ImageError(absl::string_view reason, absl::string_view message) {
  absl::StatusCode code = absl::StatusCode::kDataLoss;
  if (reason == kReasonNotAnImage) code = absl::StatusCode::kInvalidArgument;
  if (reason == kReasonTooLarge) code = absl::StatusCode::kResourceExhausted;
  absl::Status status(code, message);
  status.SetPayload(kFailureReasonTypeUrl, absl::Cord(reason));
  return status;
}

}  // namespace internal
}  // namespace atelier::imaging
