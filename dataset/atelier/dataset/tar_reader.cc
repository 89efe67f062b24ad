#include "atelier/dataset/tar_reader.h"

#include <sys/stat.h>

#include <cerrno>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "atelier/common/status_macros.h"
#include "atelier/dataset/ustar_header.h"

namespace atelier::dataset {
namespace {

constexpr uint64_t kMaxExtendedHeaderBytes = uint64_t{1} << 20;

bool IsRegularFile(char type) { return type == '0' || type == '\0' || type == '7'; }

// Applies the "path" and "size" records of a pax extended header
// ("<length> <key>=<value>\n" each) to `name` and `size`; malformed records
// end the parse (the ustar fields then stand).
void ApplyPaxRecords(absl::string_view records, std::optional<std::string>& name,
                     std::optional<uint64_t>& size) {
  while (!records.empty()) {
    const size_t space = records.find(' ');
    uint64_t length = 0;
    if (space == absl::string_view::npos || !absl::SimpleAtoi(records.substr(0, space), &length) ||
        length <= space + 1 || length > records.size() || records[length - 1] != '\n') {
      return;
    }
    const absl::string_view record = records.substr(space + 1, length - space - 2);
    records.remove_prefix(length);
    const size_t equals = record.find('=');
    if (equals == absl::string_view::npos) return;
    const absl::string_view key = record.substr(0, equals), value = record.substr(equals + 1);
    uint64_t parsed = 0;
    if (key == "path") name = std::string(value);
    if (key == "size" && absl::SimpleAtoi(value, &parsed)) size = parsed;
  }
}

}  // namespace

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

absl::StatusOr<std::optional<TarItem>> TarReader::Next() {
  if (!error_.ok()) return error_;
  if (ended_) return std::nullopt;
  auto item = ReadItem();
  if (!item.ok()) {
    error_ = item.status();
    return error_;
  }
  if (!item->has_value()) {
    ended_ = true;
  } else if (const auto* damage = std::get_if<TarDamage>(&**item); damage != nullptr && damage->truncated) {
    ended_ = true;
  }
  return item;
}

absl::StatusOr<size_t> TarReader::ReadBlock(std::string& block) {
  block.assign(kTarBlockSize, '\0');
  const size_t got = std::fread(block.data(), 1, block.size(), file_.get());
  offset_ += got;
  if (got < block.size() && std::ferror(file_.get())) {
    return absl::DataLossError(absl::StrCat(path_.string(), ": read error at offset ", offset_));
  }
  return got;
}

absl::Status TarReader::ReadData(uint64_t padded, std::string& out) {
  out.assign(padded, '\0');
  const size_t read = std::fread(out.data(), 1, padded, file_.get());
  offset_ += read;
  if (read != padded) {
    return absl::DataLossError(absl::StrCat(path_.string(), ": read only ", read, " of ", padded,
                                            " bytes at offset ", offset_ - read,
                                            ": the file shrank or failed"));
  }
  return absl::OkStatus();
}

TarDamage TarReader::Truncated(uint64_t offset, std::string message) {
  extended_ = {};
  return TarDamage{offset, file_size_, /*entry_lost=*/true, /*truncated=*/true, std::move(message)};
}

absl::StatusOr<TarItem> TarReader::Resync(TarDamage damage) {
  extended_ = {};
  std::string block;
  while (true) {
    const uint64_t block_offset = offset_;
    ASSIGN_OR_RETURN(size_t got, ReadBlock(block));
    if (got < kTarBlockSize) break;
    if (IsZeroBlock(block) || !DecodeUstarHeader(block).ok()) continue;
    pending_header_ = std::move(block);
    pending_offset_ = block_offset;
    damage.resume_offset = block_offset;
    absl::StrAppend(&damage.message, "; reading resumes at the next valid tar header, offset ", block_offset);
    return damage;
  }
  damage.resume_offset = file_size_;
  damage.truncated = true;
  absl::StrAppend(&damage.message, "; no valid tar header follows up to the end of the file at offset ",
                  file_size_);
  return damage;
}

absl::StatusOr<std::optional<TarItem>> TarReader::AfterZeroBlock(uint64_t zero_offset) {
  std::string block;
  while (true) {
    const uint64_t block_offset = offset_;
    ASSIGN_OR_RETURN(size_t got, ReadBlock(block));
    block.resize(got);
    if (IsZeroBlock(block)) {
      if (got < kTarBlockSize) return std::nullopt;  // only zeros after the end marker
      continue;
    }
    const std::string where = absl::StrCat(path_.string(), ": zero block at offset ", zero_offset);
    if (got == kTarBlockSize && DecodeUstarHeader(block).ok()) {
      pending_header_ = std::move(block);
      pending_offset_ = block_offset;
      return TarDamage{zero_offset, block_offset, /*entry_lost=*/false, /*truncated=*/false,
                       absl::StrCat(where, " is followed by a valid tar header at offset ", block_offset,
                                    " (a zeroed header or concatenated archives): reading goes on")};
    }
    size_t first = 0;
    while (block[first] == '\0') ++first;
    return Resync(TarDamage{zero_offset, 0, /*entry_lost=*/true, /*truncated=*/false,
                            absl::StrCat(where, ": non-zero byte at offset ", block_offset + first,
                                         " after the end-of-archive zero block")});
  }
}

absl::StatusOr<std::optional<TarItem>> TarReader::ReadItem() {
  while (true) {
    uint64_t header_offset = offset_;
    std::string block;
    if (pending_header_.has_value()) {
      block = std::move(*pending_header_);
      header_offset = pending_offset_;
      pending_header_.reset();
    } else {
      if (offset_ == file_size_) {
        if (offset_ == 0) return std::nullopt;  // a 0-byte file: an empty archive
        extended_ = {};
        return TarDamage{offset_, offset_, /*entry_lost=*/false, /*truncated=*/true,
                         absl::StrCat(path_.string(), ": the file ends at offset ", offset_,
                                      " without the end-of-archive zero blocks")};
      }
      ASSIGN_OR_RETURN(size_t got, ReadBlock(block));
      if (got < kTarBlockSize) {
        TarDamage damage = Truncated(header_offset, absl::StrCat(path_.string(), ": truncated tar header at offset ",
                                                                 header_offset, ": the file ends after ", got,
                                                                 " of its 512 bytes"));
        // A cut inside the end-of-archive zero blocks loses no entry.
        damage.entry_lost = !IsZeroBlock(std::string_view(block).substr(0, got));
        return damage;
      }
    }
    if (IsZeroBlock(block)) return AfterZeroBlock(header_offset);
    auto header = DecodeUstarHeader(block);
    if (!header.ok()) {
      return Resync(TarDamage{header_offset, 0, /*entry_lost=*/true, /*truncated=*/false,
                              absl::StrCat(path_.string(), ": tar header at offset ", header_offset, ": ",
                                           header.status().message())});
    }
    const bool regular = IsRegularFile(header->type);
    const uint64_t size = regular && extended_.size ? *extended_.size : header->size;
    std::string name = regular && extended_.name ? *extended_.name : std::move(header->name);
    const std::string where =
        absl::StrCat(path_.string(), ": entry \"", name, "\" (header at offset ", header_offset, ")");
    const uint64_t padded = TarPaddedSize(size);
    if (padded > file_size_ - offset_) {
      return Truncated(header_offset, absl::StrCat(where, ": truncated: ", size, " bytes of data (", padded,
                                                   " with padding) expected, ", file_size_ - offset_,
                                                   " left in the file"));
    }
    const bool extension = header->type == 'x' || header->type == 'L';
    if (extension && size > kMaxExtendedHeaderBytes) {
      return Resync(TarDamage{header_offset, 0, /*entry_lost=*/true, /*truncated=*/false,
                              absl::StrCat(where, ": extended header of ", size, " bytes is implausible")});
    }
    std::string data;
    RETURN_IF_ERROR(ReadData(padded, data));
    data.resize(size);
    if (header->type == 'x') {
      ApplyPaxRecords(data, extended_.name, extended_.size);
      continue;
    }
    if (header->type == 'L') {
      extended_.name = data.substr(0, data.find('\0'));
      continue;
    }
    if (header->type == 'g' || header->type == 'K') continue;
    extended_ = {};
    if (!regular) continue;  // directories, links, devices, FIFOs
    return TarEntry{std::move(name), size, header_offset, std::move(data)};
  }
}

}  // namespace atelier::dataset
