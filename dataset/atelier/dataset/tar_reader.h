// TarReader: streams the regular-file entries of a tar archive (POSIX ustar,
// pax and GNU), one at a time, and reads on past damage.
//
//   ASSIGN_OR_RETURN(auto tar, TarReader::Open(path));
//   while (true) {
//     ASSIGN_OR_RETURN(std::optional<TarItem> item, tar->Next());
//     if (!item) break;  // end of the archive
//     if (const auto* entry = std::get_if<TarEntry>(&*item)) { ...entry->name, entry->data... }
//     else { ...std::get<TarDamage>(*item): bytes skipped; reading goes on... }
//   }
//
// Entries: regular files (type '0', '\0' or '7'). A pax extended header ('x')
// gives the next entry its "path" and "size"; a GNU long name ('L') its name;
// global pax headers ('g'), GNU long link names ('K'), directories, links,
// devices, FIFOs and other types are skipped with their data, as WebDataset
// and tar do. Memory is bounded by one entry.
//
// Every header's checksum, magic and size field are verified (ustar_header.h).
// Damage is a TarDamage item, after which Next() goes on:
// * a header that fails verification: the reader scans the following 512-byte
//   blocks for the next one that is a valid header and resumes there
//   (entry_lost; if none follows, the archive ends);
// * zero blocks followed by a valid header (a zeroed header, or archives
//   concatenated with `cat`): resumes at that header (entry_lost only when
//   non-zero bytes that are not a header were skipped too);
// * a header or data running past the end of the file: truncated, entry_lost,
//   and the archive ends;
// * the file ending exactly where a header would start, without the
//   end-of-archive zero block: truncated, not entry_lost (Python's tarfile
//   and atelier's writer always write the marker); a 0-byte file is an empty
//   archive, not damage;
// * non-zero bytes after the end-of-archive zero block that hold no header.
// The archive ends cleanly at a zero block followed only by zero bytes. A
// TarDamage message names the file, the byte offsets and what was wrong.
// Errors (not damage) are I/O failures only; after one, Next() returns it
// again. Not thread-safe.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace atelier::dataset {

struct TarEntry {
  std::string name;
  uint64_t size = 0;
  uint64_t offset_of_header = 0;  // byte offset of its ustar header (after any pax or GNU one)
  std::string data;
};

struct TarDamage {
  uint64_t offset = 0;         // where the damaged bytes start
  uint64_t resume_offset = 0;  // where reading goes on: a valid header, or the end of the file
  bool entry_lost = true;      // bytes of some entry were skipped
  bool truncated = false;      // the file ends inside the archive: nothing follows
  std::string message;
};

using TarItem = std::variant<TarEntry, TarDamage>;

class TarReader {
 public:
  // NotFound (or another errno-derived error) naming the path if it cannot be
  // opened; InvalidArgument if it is not a regular file.
  static absl::StatusOr<std::unique_ptr<TarReader>> Open(const std::filesystem::path& path);

  absl::StatusOr<std::optional<TarItem>> Next();

  const std::filesystem::path& path() const { return path_; }
  uint64_t file_size() const { return file_size_; }

 private:
  struct FileCloser {
    void operator()(std::FILE* file) const { std::fclose(file); }
  };
  // Pax or GNU header fields that apply to the next entry.
  struct Extended {
    std::optional<std::string> name;
    std::optional<uint64_t> size;
  };
  TarReader(std::filesystem::path path, std::unique_ptr<std::FILE, FileCloser> file,
            uint64_t file_size);

  absl::StatusOr<std::optional<TarItem>> ReadItem();
  // Reads up to one block at offset_; returns the bytes read (512 unless the file ends).
  absl::StatusOr<size_t> ReadBlock(std::string& block);
  absl::Status ReadData(uint64_t padded, std::string& out);
  // Scans from offset_ for the next valid header; `damage` gets its resume offset.
  absl::StatusOr<TarItem> Resync(TarDamage damage);
  absl::StatusOr<std::optional<TarItem>> AfterZeroBlock(uint64_t zero_offset);
  TarDamage Truncated(uint64_t offset, std::string message);

  std::filesystem::path path_;
  std::unique_ptr<std::FILE, FileCloser> file_;
  uint64_t file_size_ = 0;
  uint64_t offset_ = 0;  // of the next byte read from the file
  std::optional<std::string> pending_header_;  // a valid header found by a scan, not yet used
  uint64_t pending_offset_ = 0;
  Extended extended_;
  bool ended_ = false;
  absl::Status error_;
};

}  // namespace atelier::dataset
