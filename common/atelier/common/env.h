// Env: the file system, behind one small interface (leveldb's Env is the model),
// so that every writer of durable files (shards, their stats, the crawler's
// spool, previews, pulled checkpoints) can be run against a fault-injecting
// fake in tests (atelier/common/testing/fault_env.h, target atelier_env_testing).
//
//   Env* env = Env::Default();  // POSIX; lives forever
//   ASSIGN_OR_RETURN(auto file, env->NewWritableFile(path, OpenMode::kCreateNew));
//   RETURN_IF_ERROR(file->Append(bytes));
//   RETURN_IF_ERROR(file->Sync());
//   RETURN_IF_ERROR(file->Close());
//
// Atomic replacement of a file goes through atomic_file.h, never through these
// calls directly.
//
// Errors are absl::Status whose message names the path and whose code is
// FileSystemError's for the errno (the one mapping; crawler/disk_fault.h
// relies on it): ENOSPC and EDQUOT -> RESOURCE_EXHAUSTED, EIO -> UNAVAILABLE,
// ENOENT -> NOT_FOUND, EEXIST -> ALREADY_EXISTS, EACCES -> PERMISSION_DENIED.
//
// Env methods are thread-safe. A WritableFile belongs to one thread at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace atelier {

// A file being written. Append may buffer; Flush hands the buffer to the
// operating system (the bytes survive a kill of the process, not a machine
// crash); Sync also makes them durable. Close flushes and closes; destroying an
// open file closes it and drops any error. After a failed Append/Flush/Sync the
// file's contents are unspecified: the caller abandons it.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual absl::Status Append(absl::string_view data) = 0;
  virtual absl::Status Flush() = 0;
  virtual absl::Status Sync() = 0;
  virtual absl::Status Close() = 0;
  // The file's size as this writer sees it: its size when opened (kAppend) plus
  // everything appended, buffered or not.
  virtual uint64_t size() const = 0;
  virtual const std::filesystem::path& path() const = 0;
};

// A file read at any offset (the crawler's spool). Read() fills `out` with
// exactly `n` bytes from `offset`, or fails: OUT_OF_RANGE naming the file when
// it ends before offset + n (a cut file), the errno's status otherwise.
// Thread-safe (pread).
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  virtual absl::Status Read(uint64_t offset, size_t n, std::string* out) const = 0;
  virtual const std::filesystem::path& path() const = 0;
};

enum class OpenMode {
  kCreateNew,  // create; ALREADY_EXISTS if the path exists
  kTruncate,   // create or truncate
  kAppend,     // create or append to what is there
};

class Env {
 public:
  virtual ~Env() = default;

  // The POSIX file system. Never null; never destroyed.
  static Env* Default();

  virtual absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::filesystem::path& path,
                                                                        OpenMode mode) = 0;
  // rename(2): replaces `to` if it exists.
  virtual absl::Status RenameFile(const std::filesystem::path& from, const std::filesystem::path& to) = 0;
  // Renames unless `to` exists: ALREADY_EXISTS naming `to`, `from` left in
  // place. Falls back to link+unlink where RENAME_NOREPLACE is not supported
  // (e.g. NFS); neither ever replaces `to`.
  virtual absl::Status RenameFileNoReplace(const std::filesystem::path& from, const std::filesystem::path& to) = 0;
  // NOT_FOUND naming the file if it does not exist.
  virtual absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::filesystem::path& path) = 0;
  // NOT_FOUND if it does not exist.
  virtual absl::Status RemoveFile(const std::filesystem::path& path) = 0;
  virtual bool FileExists(const std::filesystem::path& path) = 0;
  virtual absl::StatusOr<uint64_t> GetFileSize(const std::filesystem::path& path) = 0;
  // The last modification time (stat's st_mtim).
  virtual absl::StatusOr<absl::Time> GetModificationTime(const std::filesystem::path& path) = 0;
  // Names of the entries of `dir` (not "." or ".."), in no particular order.
  virtual absl::StatusOr<std::vector<std::string>> GetChildren(const std::filesystem::path& dir) = 0;
  // Creates `dir` and its missing parents; OK if it exists.
  virtual absl::Status CreateDirs(const std::filesystem::path& dir) = 0;
  // fsync of a directory, so that a rename or a new entry in it is durable.
  virtual absl::Status SyncDir(const std::filesystem::path& dir) = 0;
  virtual absl::StatusOr<std::string> ReadFile(const std::filesystem::path& path) = 0;
};

// absl::ErrnoToStatus(error, message), except that EIO is UNAVAILABLE (a
// flaky volume may recover; Debian's abseil says UNKNOWN).
absl::Status FileSystemError(int error, absl::string_view message);

// The directory whose SyncDir makes an entry of `path` durable ("." for a bare name).
std::filesystem::path ParentDir(const std::filesystem::path& path);

}  // namespace atelier
