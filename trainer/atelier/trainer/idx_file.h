// Reader for IDX files (the MNIST family: MNIST, Fashion-MNIST, KMNIST), plain
// or gzip-compressed (read through zlib, which also reads uncompressed files).
//
// An IDX file is: 0x00 0x00 <type> <ndims>, ndims big-endian uint32 sizes, then
// the data. Only type 0x08 (unsigned byte) is supported, which is what the
// datasets use. Errors are InvalidArgument / NotFound naming the file.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "absl/status/statusor.h"

namespace atelier::trainer {

struct IdxArray {
  std::vector<uint32_t> dims;  // e.g. {60000, 28, 28} for images, {60000} for labels
  std::vector<uint8_t> data;   // product(dims) bytes, row-major
};

absl::StatusOr<IdxArray> ReadIdxFile(const std::filesystem::path& path);

}  // namespace atelier::trainer
