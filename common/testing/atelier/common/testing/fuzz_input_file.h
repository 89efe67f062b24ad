// FuzzInputFile: a fuzzer's input written to a file, for parsers that read a
// path (tar shards, URL lists, SQLite). One file per process under the temp
// folder, rewritten by each Write() and removed with the object. Not
// thread-safe; fuzzers and their corpus replays only (docs/fuzzing.md).
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace atelier::testing {

class FuzzInputFile {
 public:
  // `suffix` ends the file name (".txt", ".csv", ".tar", ...).
  explicit FuzzInputFile(const std::string& suffix)
      : path_(std::filesystem::temp_directory_path() /
              ("atelier-fuzz-" + std::to_string(::getpid()) + suffix)) {}
  ~FuzzInputFile() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  FuzzInputFile(const FuzzInputFile&) = delete;
  FuzzInputFile& operator=(const FuzzInputFile&) = delete;

  // Replaces the file's content with `size` bytes at `data`.
  const std::filesystem::path& Write(const uint8_t* data, size_t size) {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    return path_;
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace atelier::testing
