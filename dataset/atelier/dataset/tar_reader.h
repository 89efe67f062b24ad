// TarReader: streams the entries of a POSIX ustar archive file, one at a time.
//
//   ASSIGN_OR_RETURN(auto tar, TarReader::Open(path));
//   while (true) {
//     ASSIGN_OR_RETURN(std::optional<TarEntry> entry, tar->Next());
//     if (!entry) break;  // clean end of archive
//     ...entry->name, entry->data...
//   }
//
// Memory is bounded by one entry. Validation is strict: each header's checksum,
// magic and octal size are checked (ustar_header.h), and an entry whose header,
// data or padding runs past the end of the file is DataLoss. Errors name the file,
// the entry (when its header was readable) and the byte offset of its header.
// The archive ends cleanly at a zero block, provided every byte after it is zero
// too (so a zeroed header mid-file is not mistaken for the end), or when the file
// ends exactly where a header would start. After an error, Next() returns that
// same error again; after the end, std::nullopt again. Only regular-file entries
// are supported (Unimplemented otherwise). Not thread-safe.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace atelier::dataset {

struct TarEntry {
  std::string name;
  uint64_t size = 0;
  uint64_t offset_of_header = 0;  // byte offset of the entry's header in the file
  std::string data;
};

class TarReader {
 public:
  // NotFound (or another errno-derived error) naming the path if it cannot be opened.
  static absl::StatusOr<std::unique_ptr<TarReader>> Open(const std::filesystem::path& path);

  absl::StatusOr<std::optional<TarEntry>> Next();

  const std::filesystem::path& path() const { return path_; }
  // Byte offset where the next header is expected.
  uint64_t offset() const { return offset_; }

 private:
  struct FileCloser {
    void operator()(std::FILE* file) const { std::fclose(file); }
  };
  TarReader(std::filesystem::path path, std::unique_ptr<std::FILE, FileCloser> file,
            uint64_t file_size);

  absl::StatusOr<std::optional<TarEntry>> ReadEntry();
  absl::Status CheckZeroTail();
  absl::Status Fail(absl::Status status);

  std::filesystem::path path_;
  std::unique_ptr<std::FILE, FileCloser> file_;
  uint64_t file_size_ = 0;
  uint64_t offset_ = 0;
  bool ended_ = false;
  absl::Status error_;
};

}  // namespace atelier::dataset
