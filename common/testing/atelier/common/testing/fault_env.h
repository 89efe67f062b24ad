// FaultEnv: an Env for tests that forwards to another Env (the real file
// system by default) and fails chosen operations the way a sick disk does,
// with the errno's status (FileSystemError, as env.h), and counts calls.
//
//   FaultEnv env;
//   env.FailAppendsAfter(4096);                         // a disk with 4 KiB free: ENOSPC
//   env.Fail(FaultEnv::Op::kSync, EIO);                 // every fsync of a file: EIO
//   env.Fail(FaultEnv::Op::kRename, EIO, ".tar", 1);    // the next rename to a path containing ".tar"
//   auto writer = dataset::ShardWriter::Open(root, 3, &env);
//   ...
//   env.Heal();                                         // the disk is fine again
//
// A fault matches the paths that contain `path_contains` (empty: every path;
// for renames the target, for a file's Append/Sync/Close the file's path). A
// failed operation does nothing, except a failing Append past the byte limit,
// which writes the bytes that still fit first (as a full disk does).
// Thread-safe.
#pragma once

#include <array>
#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "atelier/common/env.h"

namespace atelier::testing {

class FaultEnv final : public Env {
 public:
  enum class Op {
    kCreate,  // NewWritableFile
    kAppend,
    kSync,
    kClose,
    kRename,  // RenameFile and RenameFileNoReplace
    kRemove,
    kGetChildren,
    kCreateDirs,
    kSyncDir,
    kReadFile,
    kRead,  // RandomAccessFile::Read (the path is the file's)
    kCount,
  };

  explicit FaultEnv(Env* base = Env::Default()) : base_(base) {}

  // Fails the next `times` matching calls of `op` (-1: every one) with `error`.
  void Fail(Op op, int error, std::string path_contains = "", int times = -1);
  // Appends to matching files succeed until `bytes` bytes were appended to
  // them in all (counted from this call); then ENOSPC (or `error`).
  void FailAppendsAfter(int64_t bytes, int error = ENOSPC, std::string path_contains = "");
  // Clears every fault (the counts stay).
  void Heal();

  // Calls of `op` so far, failed ones included.
  int calls(Op op) const;
  // Calls of `op` that were failed.
  int failures(Op op) const;

  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::filesystem::path& path,
                                                                OpenMode mode) override;
  absl::Status RenameFile(const std::filesystem::path& from, const std::filesystem::path& to) override;
  absl::Status RenameFileNoReplace(const std::filesystem::path& from, const std::filesystem::path& to) override;
  absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::filesystem::path& path) override;
  absl::Status RemoveFile(const std::filesystem::path& path) override;
  absl::StatusOr<absl::Time> GetModificationTime(const std::filesystem::path& path) override {
    return base_->GetModificationTime(path);
  }
  bool FileExists(const std::filesystem::path& path) override { return base_->FileExists(path); }
  absl::StatusOr<uint64_t> GetFileSize(const std::filesystem::path& path) override {
    return base_->GetFileSize(path);
  }
  absl::StatusOr<std::vector<std::string>> GetChildren(const std::filesystem::path& dir) override;
  absl::Status CreateDirs(const std::filesystem::path& dir) override;
  absl::Status SyncDir(const std::filesystem::path& dir) override;
  absl::StatusOr<std::string> ReadFile(const std::filesystem::path& path) override;

 private:
  class File;
  class ReadFileHandle;
  struct Fault {
    Op op;
    int error;
    std::string path_contains;
    int times;  // -1: forever
  };
  struct ByteLimit {
    int64_t bytes_left;
    int error;
    std::string path_contains;
  };

  // Counts the call; the status of a matching fault (consumed) or OK.
  absl::Status Check(Op op, const std::filesystem::path& path, absl::string_view what);
  // For Append: how many of `size` bytes may be written (all when no limit
  // matches), and the error for the rest.
  size_t AllowedBytes(const std::filesystem::path& path, size_t size, int& error);

  Env* const base_;
  mutable absl::Mutex mu_;
  std::vector<Fault> faults_ ABSL_GUARDED_BY(mu_);
  std::optional<ByteLimit> byte_limit_ ABSL_GUARDED_BY(mu_);
  std::array<int, static_cast<size_t>(Op::kCount)> calls_ ABSL_GUARDED_BY(mu_){};
  std::array<int, static_cast<size_t>(Op::kCount)> failures_ ABSL_GUARDED_BY(mu_){};
};

}  // namespace atelier::testing
