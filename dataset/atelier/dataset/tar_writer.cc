#include "atelier/dataset/tar_writer.h"

#include <string>

#include "atelier/common/status_macros.h"
#include "atelier/dataset/ustar_header.h"

namespace atelier::dataset {
namespace {

const std::string& ZeroBlocks() {
  static const std::string* zeros = new std::string(2 * kTarBlockSize, '\0');
  return *zeros;
}

}  // namespace

absl::Status TarWriter::CheckWritable() const {
  if (failed_) return absl::FailedPreconditionError("tar archive is incomplete after a write error");
  if (finished_) return absl::FailedPreconditionError("tar archive is already finished");
  return absl::OkStatus();
}

absl::Status TarWriter::Write(std::string_view bytes) {
  if (bytes.empty()) return absl::OkStatus();
  absl::Status status = sink_(bytes);
  if (!status.ok()) {
    failed_ = true;
    return status;
  }
  bytes_written_ += bytes.size();
  return absl::OkStatus();
}

absl::Status TarWriter::AddFile(std::string_view name, std::string_view bytes, int64_t mtime) {
  RETURN_IF_ERROR(CheckWritable());
  ASSIGN_OR_RETURN(std::string header, EncodeUstarHeader(name, bytes.size(), mtime));
  RETURN_IF_ERROR(Write(header));
  RETURN_IF_ERROR(Write(bytes));
  const uint64_t padding = TarPaddedSize(bytes.size()) - bytes.size();
  return Write(std::string_view(ZeroBlocks()).substr(0, padding));
}

absl::Status TarWriter::Finish() {
  RETURN_IF_ERROR(CheckWritable());
  RETURN_IF_ERROR(Write(ZeroBlocks()));
  finished_ = true;
  return absl::OkStatus();
}

}  // namespace atelier::dataset
