// TempDir: a fresh directory under $TMPDIR (or /tmp) removed with everything in
// it when the object is destroyed. Not copyable; movable. Not thread-safe.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

namespace atelier::testing {

class TempDir {
 public:
  // Creates "<tmp>/atelier-<prefix>-XXXXXX"; aborts the test binary on failure.
  explicit TempDir(const std::string& prefix = "test");
  ~TempDir();
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&&) = delete;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Reads a whole file; empty string if it cannot be read.
std::string ReadFileOrEmpty(const std::filesystem::path& path);
// Writes `contents` to `path`, creating parent directories; aborts on failure.
void WriteFileOrDie(const std::filesystem::path& path, const std::string& contents);
// Regular files anywhere below `dir` (0 when it does not exist).
size_t CountFilesUnder(const std::filesystem::path& dir);

}  // namespace atelier::testing
