// TarWriter: writes a POSIX ustar archive of regular files to a byte sink.
//
//   TarWriter tar([&](std::string_view bytes) { return WriteAll(fd, bytes); });
//   RETURN_IF_ERROR(tar.AddFile("bam-1.jpg", jpeg_bytes, mtime));
//   RETURN_IF_ERROR(tar.Finish());  // end-of-archive: two 512-byte zero blocks
//
// Each entry is a 512-byte header (see ustar_header.h) followed by the data padded
// with zeros to a multiple of 512 bytes. Names longer than 100 bytes are refused
// (InvalidArgument) before anything is written. The sink is where the bytes go (a
// file, a hash plus a file, a string in tests); once it fails, the archive is
// incomplete and every later call returns FailedPrecondition, as do calls after
// Finish(). Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <utility>

#include "absl/status/status.h"

namespace atelier::dataset {

class TarWriter {
 public:
  // Writes all of `bytes` or returns an error.
  using Sink = std::function<absl::Status(std::string_view bytes)>;

  explicit TarWriter(Sink sink) : sink_(std::move(sink)) {}

  absl::Status AddFile(std::string_view name, std::string_view bytes, int64_t mtime);
  absl::Status Finish();

  // Bytes handed to the sink so far.
  uint64_t bytes_written() const { return bytes_written_; }

 private:
  absl::Status CheckWritable() const;
  absl::Status Write(std::string_view bytes);

  Sink sink_;
  uint64_t bytes_written_ = 0;
  bool failed_ = false;
  bool finished_ = false;
};

}  // namespace atelier::dataset
