#include "atelier/trainer/idx_file.h"

#include <zlib.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace atelier::trainer {
namespace {

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

bool ReadExactly(gzFile file, void* out, size_t n) {
  auto* p = static_cast<uint8_t*>(out);
  while (n > 0) {
    unsigned chunk = static_cast<unsigned>(std::min<size_t>(n, 1u << 30));
    int got = gzread(file, p, chunk);
    if (got <= 0) return false;
    p += got;
    n -= static_cast<size_t>(got);
  }
  return true;
}

}  // namespace

absl::StatusOr<IdxArray> ReadIdxFile(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return absl::NotFoundError(absl::StrCat("IDX file ", path.string(), " does not exist"));
  }
  std::unique_ptr<gzFile_s, GzCloser> file(gzopen(path.c_str(), "rb"));
  if (!file) return absl::NotFoundError(absl::StrCat("cannot open IDX file ", path.string()));
  uint8_t header[4];
  if (!ReadExactly(file.get(), header, 4)) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": too short for an IDX header"));
  }
  if (header[0] != 0 || header[1] != 0) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": not an IDX file (bad magic)"));
  }
  if (header[2] != 0x08) {
    return absl::InvalidArgumentError(
        absl::StrCat(path.string(), ": IDX element type 0x", absl::Hex(header[2]), " is not unsigned byte (0x08)"));
  }
  int ndims = header[3];
  if (ndims < 1 || ndims > 4) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": IDX with ", ndims, " dimensions"));
  }
  IdxArray array;
  uint64_t total = 1;
  for (int i = 0; i < ndims; ++i) {
    uint8_t b[4];
    if (!ReadExactly(file.get(), b, 4)) {
      return absl::InvalidArgumentError(absl::StrCat(path.string(), ": truncated IDX header"));
    }
    uint32_t dim = (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
    array.dims.push_back(dim);
    total *= dim;
  }
  if (total > (uint64_t{1} << 34)) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": IDX too large (", total, " bytes)"));
  }
  array.data.resize(total);
  if (total > 0 && !ReadExactly(file.get(), array.data.data(), total)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path.string(), ": truncated IDX data (expected ", total, " bytes)"));
  }
  return array;
}

}  // namespace atelier::trainer
