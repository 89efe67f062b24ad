#include "atelier/dataset/tar_reader.h"

#include <sys/stat.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "atelier/common/status_macros.h"
#include "atelier/dataset/ustar_header.h"

namespace atelier::dataset {

absl::StatusOr<std::unique_ptr<TarReader>> TarReader::Open(const std::filesystem::path& path) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (file == nullptr) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", path.string()));
  struct stat info;
  if (fstat(fileno(file.get()), &info) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot stat ", path.string()));
  }
  if (!S_ISREG(info.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), " is not a regular file"));
  }
  return std::unique_ptr<TarReader>(
      new TarReader(path, std::move(file), static_cast<uint64_t>(info.st_size)));
}

TarReader::TarReader(std::filesystem::path path, std::unique_ptr<std::FILE, FileCloser> file,
                     uint64_t file_size)
    : path_(std::move(path)), file_(std::move(file)), file_size_(file_size) {}

absl::Status TarReader::Fail(absl::Status status) {
  error_ = std::move(status);
  return error_;
}

absl::StatusOr<std::optional<TarEntry>> TarReader::Next() {
  if (!error_.ok()) return error_;
  if (ended_) return std::nullopt;
  auto entry = ReadEntry();
  if (!entry.ok()) return Fail(entry.status());
  if (!entry->has_value()) ended_ = true;
  return entry;
}

absl::StatusOr<std::optional<TarEntry>> TarReader::ReadEntry() {
  const uint64_t header_offset = offset_;
  if (header_offset == file_size_) return std::nullopt;  // ends on an entry boundary
  std::string block(kTarBlockSize, '\0');
  const size_t got = std::fread(block.data(), 1, block.size(), file_.get());
  offset_ += got;
  if (got != block.size()) {
    return absl::DataLossError(absl::StrCat(path_.string(), ": truncated tar header at offset ",
                                            header_offset, ": the file ends after ", got,
                                            " of its 512 bytes"));
  }
  if (IsZeroBlock(block)) {
    RETURN_IF_ERROR(CheckZeroTail());
    return std::nullopt;
  }
  ASSIGN_OR_RETURN(UstarHeader header, DecodeUstarHeader(block),
                   _.prefix(absl::StrCat(path_.string(), ": tar header at offset ", header_offset)));
  const std::string where = absl::StrCat(path_.string(), ": entry \"", header.name,
                                         "\" (header at offset ", header_offset, ")");
  const uint64_t padded = TarPaddedSize(header.size);
  if (padded > file_size_ - offset_) {
    return absl::DataLossError(absl::StrCat(where, ": truncated: ", header.size,
                                            " bytes of data (", padded, " with padding) expected, ",
                                            file_size_ - offset_, " left in the file"));
  }
  TarEntry entry{std::move(header.name), header.size, header_offset, std::string(padded, '\0')};
  const size_t read = std::fread(entry.data.data(), 1, padded, file_.get());
  offset_ += read;
  if (read != padded) {
    return absl::DataLossError(absl::StrCat(where, ": read only ", read, " of ", padded,
                                            " bytes of data: the file shrank or failed"));
  }
  entry.data.resize(entry.size);
  return entry;
}

absl::Status TarReader::CheckZeroTail() {
  char buffer[64 * 1024];
  while (true) {
    const uint64_t chunk_offset = offset_;
    const size_t got = std::fread(buffer, 1, sizeof(buffer), file_.get());
    for (size_t i = 0; i < got; ++i) {
      if (buffer[i] != '\0') {
        return absl::DataLossError(absl::StrCat(path_.string(), ": non-zero byte at offset ",
                                                chunk_offset + i,
                                                " after the end-of-archive zero block"));
      }
    }
    offset_ += got;
    if (got < sizeof(buffer)) break;
  }
  if (std::ferror(file_.get())) {
    return absl::DataLossError(absl::StrCat(path_.string(), ": read error at offset ", offset_));
  }
  return absl::OkStatus();
}

}  // namespace atelier::dataset
