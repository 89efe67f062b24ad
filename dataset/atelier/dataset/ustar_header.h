// The 512-byte POSIX ustar header, shared by TarWriter and TarReader.
//
// Encoded headers describe a regular file: mode 0644, uid/gid 0, uname/gname
// "atelier", magic "ustar\0" version "00", name <= 100 bytes (no prefix field),
// size and mtime in octal, checksum = unsigned byte sum with the checksum field
// counted as spaces. Decoding accepts what POSIX and GNU tar write for regular
// files: "ustar\0"+"00" or GNU "ustar  " magic, signed or unsigned checksums,
// octal numbers padded with spaces or NULs, and a prefix field joined with "/";
// the entry type is returned as is (TarReader decides what to do with links,
// directories and pax or GNU extension headers). Errors carry no file or
// offset: callers add them. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace atelier::dataset {

inline constexpr uint64_t kTarBlockSize = 512;

// Size rounded up to whole 512-byte blocks.
inline constexpr uint64_t TarPaddedSize(uint64_t size) {
  return (size + kTarBlockSize - 1) / kTarBlockSize * kTarBlockSize;
}

// The checksum of a 512-byte header: unsigned byte sum, checksum field as spaces.
uint32_t UstarChecksum(std::string_view block);

// A 512-byte header for a regular file. InvalidArgument if the name is empty,
// longer than 100 bytes or contains NUL, or size/mtime do not fit 11 octal digits.
absl::StatusOr<std::string> EncodeUstarHeader(std::string_view name, uint64_t size, int64_t mtime);

struct UstarHeader {
  std::string name;
  uint64_t size = 0;
  char type = '0';  // the typeflag byte: '0' or '\0' regular file, 'x' pax, 'L' GNU long name...
};

bool IsZeroBlock(std::string_view block);

// DataLoss for a bad checksum, magic, size field or an empty name.
absl::StatusOr<UstarHeader> DecodeUstarHeader(std::string_view block);

}  // namespace atelier::dataset
