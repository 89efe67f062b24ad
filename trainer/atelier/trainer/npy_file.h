// A float32 matrix as a NumPy .npy file (format version 1.0), the format of
// `atelier embed --out feats.npy`, readable by numpy.load:
//
//   "\x93NUMPY" 0x01 0x00 <u16 LE header length>
//   "{'descr': '<f4', 'fortran_order': False, 'shape': (ROWS, COLS), }" spaces "\n"
//   ROWS x COLS little-endian float32, row-major
//
// (the magic, version, length and header together a multiple of 64 bytes, as
// numpy writes them). No LibTorch.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "atelier/common/atomic_file.h"
#include "atelier/common/env.h"

namespace atelier::trainer {

// The .npy header (magic to the header's final newline) of a float32 matrix.
std::string NpyHeader(int64_t rows, int64_t cols);

// Streams rows into `path`. The row count is known only at the end, so rows go
// to a scratch file beside `path` first; Close() writes `path` atomically
// (atomic_file.h) and removes the scratch file. Nothing is written to `path`
// before Close(); an abandoned writer leaves no file. Not thread-safe.
class NpyMatrixWriter {
 public:
  static absl::StatusOr<std::unique_ptr<NpyMatrixWriter>> Open(Env& env, const std::filesystem::path& path,
                                                               int64_t cols);
  // InvalidArgument unless row.size() == cols.
  absl::Status AppendRow(absl::Span<const float> row);
  absl::Status Close();
  int64_t rows() const { return rows_; }

 private:
  NpyMatrixWriter(Env& env, std::filesystem::path path, int64_t cols, std::unique_ptr<AtomicFile> scratch);
  Env& env_;
  const std::filesystem::path path_;
  const int64_t cols_;
  std::unique_ptr<AtomicFile> scratch_;
  int64_t rows_ = 0;
};

struct NpyMatrix {
  int64_t rows = 0, cols = 0;
  std::vector<float> values;  // row-major, rows x cols
  const float* row(int64_t r) const { return values.data() + r * cols; }
};

// Reads a 2-D C-order little-endian float32 or float64 .npy file (numpy.save
// of such an array, versions 1.0-3.0); float64 is converted. InvalidArgument
// naming `path` for anything else (another dtype, Fortran order, another rank,
// a cut file).
absl::StatusOr<NpyMatrix> ReadNpyMatrix(Env& env, const std::filesystem::path& path);

}  // namespace atelier::trainer
