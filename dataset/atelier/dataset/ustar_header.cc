#include "atelier/dataset/ustar_header.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace atelier::dataset {
namespace {

// Field offsets and lengths of the ustar header.
constexpr size_t kNameOff = 0, kNameLen = 100;
constexpr size_t kModeOff = 100, kUidOff = 108, kGidOff = 116;
constexpr size_t kSizeOff = 124, kSizeLen = 12;
constexpr size_t kMtimeOff = 136;
constexpr size_t kChecksumOff = 148, kChecksumLen = 8;
constexpr size_t kTypeOff = 156;
constexpr size_t kMagicOff = 257;
constexpr size_t kUnameOff = 265, kGnameOff = 297;
constexpr size_t kDevMajorOff = 329, kDevMinorOff = 337;
constexpr size_t kPrefixOff = 345, kPrefixLen = 155;
constexpr uint64_t kMaxOctal11 = (uint64_t{1} << 33) - 1;  // 11 octal digits

void Put(std::string& block, size_t offset, std::string_view value) {
  std::memcpy(block.data() + offset, value.data(), value.size());
}

// The field as text up to its first NUL.
std::string_view CString(std::string_view block, size_t offset, size_t length) {
  std::string_view field = block.substr(offset, length);
  return field.substr(0, std::min(field.find('\0'), field.size()));
}

// An octal number field: optional leading spaces, digits, then NULs/spaces only.
std::optional<uint64_t> ParseOctal(std::string_view field) {
  size_t i = 0;
  while (i < field.size() && field[i] == ' ') ++i;
  uint64_t value = 0;
  size_t digits = 0;
  for (; i < field.size() && field[i] >= '0' && field[i] <= '7'; ++i, ++digits) {
    if (digits >= 21) return std::nullopt;  // would overflow 64 bits
    value = value * 8 + static_cast<uint64_t>(field[i] - '0');
  }
  if (digits == 0) return std::nullopt;
  for (; i < field.size(); ++i) {
    if (field[i] != '\0' && field[i] != ' ') return std::nullopt;
  }
  return value;
}

std::string Shown(std::string_view field) { return absl::CEscape(std::string(field)); }

}  // namespace

uint32_t UstarChecksum(std::string_view block) {
  uint32_t sum = 0;
  for (size_t i = 0; i < kTarBlockSize; ++i) {
    const bool in_field = i >= kChecksumOff && i < kChecksumOff + kChecksumLen;
    sum += in_field ? uint32_t{' '} : static_cast<unsigned char>(block[i]);
  }
  return sum;
}

bool IsZeroBlock(std::string_view block) {
  return std::all_of(block.begin(), block.end(), [](char c) { return c == '\0'; });
}

absl::StatusOr<std::string> EncodeUstarHeader(std::string_view name, uint64_t size, int64_t mtime) {
  if (name.empty() || name.size() > kNameLen || name.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("tar entry name \"", Shown(name.substr(0, 120)),
                                                   "\" must be 1..100 bytes without NUL"));
  }
  if (size > kMaxOctal11) {
    return absl::InvalidArgumentError(
        absl::StrCat("tar entry \"", std::string(name), "\": size ", size, " exceeds ", kMaxOctal11));
  }
  if (mtime < 0 || static_cast<uint64_t>(mtime) > kMaxOctal11) {
    return absl::InvalidArgumentError(
        absl::StrCat("tar entry \"", std::string(name), "\": mtime ", mtime, " out of range"));
  }
  std::string block(kTarBlockSize, '\0');
  Put(block, kNameOff, name);
  Put(block, kModeOff, "0000644");
  Put(block, kUidOff, "0000000");
  Put(block, kGidOff, "0000000");
  Put(block, kSizeOff, absl::StrFormat("%011o", size));
  Put(block, kMtimeOff, absl::StrFormat("%011o", static_cast<uint64_t>(mtime)));
  block[kTypeOff] = '0';
  Put(block, kMagicOff, std::string_view("ustar\0" "00", 8));
  Put(block, kUnameOff, "atelier");
  Put(block, kGnameOff, "atelier");
  Put(block, kDevMajorOff, "0000000");
  Put(block, kDevMinorOff, "0000000");
  Put(block, kChecksumOff, absl::StrFormat("%06o", UstarChecksum(block)));
  block[kChecksumOff + 6] = '\0';
  block[kChecksumOff + 7] = ' ';
  return block;
}

absl::StatusOr<UstarHeader> DecodeUstarHeader(std::string_view block) {
  if (block.size() != kTarBlockSize) {
    return absl::DataLossError(absl::StrCat("tar header is ", block.size(), " bytes, not 512"));
  }
  const std::string_view checksum_field = block.substr(kChecksumOff, kChecksumLen);
  const std::optional<uint64_t> stored = ParseOctal(checksum_field);
  if (!stored.has_value()) {
    return absl::DataLossError(absl::StrCat("tar header checksum field \"", Shown(checksum_field),
                                            "\" is not an octal number"));
  }
  int64_t signed_sum = 0;
  for (size_t i = 0; i < kTarBlockSize; ++i) {
    const bool in_field = i >= kChecksumOff && i < kChecksumOff + kChecksumLen;
    signed_sum += in_field ? int64_t{' '} : static_cast<signed char>(block[i]);
  }
  const uint32_t unsigned_sum = UstarChecksum(block);
  if (*stored != unsigned_sum && static_cast<int64_t>(*stored) != signed_sum) {
    return absl::DataLossError(absl::StrFormat(
        "tar header checksum mismatch: stored %o, computed %o", *stored, unsigned_sum));
  }
  const std::string_view magic = block.substr(kMagicOff, 8);
  if (magic != std::string_view("ustar\0" "00", 8) && magic != std::string_view("ustar  \0", 8)) {
    return absl::DataLossError(
        absl::StrCat("tar header magic \"", Shown(magic), "\" is not ustar"));
  }
  UstarHeader header;
  header.name = std::string(CString(block, kNameOff, kNameLen));
  const std::string_view prefix = CString(block, kPrefixOff, kPrefixLen);
  if (!prefix.empty() && magic[5] == '\0') header.name = absl::StrCat(std::string(prefix), "/", header.name);
  header.type = block[kTypeOff];
  if (header.name.empty()) return absl::DataLossError("tar header has an empty name");
  const std::string_view size_field = block.substr(kSizeOff, kSizeLen);
  const std::optional<uint64_t> size = ParseOctal(size_field);
  if (!size.has_value()) {
    return absl::DataLossError(absl::StrCat("tar entry \"", Shown(header.name), "\": size field \"",
                                            Shown(size_field), "\" is not an octal number"));
  }
  header.size = *size;
  return header;
}

}  // namespace atelier::dataset
