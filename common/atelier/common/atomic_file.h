// The one way atelier writes a file atomically: readers see the old file or the
// whole new one, never part of it.
//
//   RETURN_IF_ERROR(WriteFileAtomically(*env, "out/preview.html", html));
//
//   ASSIGN_OR_RETURN(auto file, AtomicFile::Create(*env, shard_path, {.no_replace = true}));
//   RETURN_IF_ERROR(file->Append(bytes));  // as often as needed
//   RETURN_IF_ERROR(file->Commit());
//
// The bytes go to a temporary beside the target, "<path>.tmp-<pid>-<16 hex>"
// (created exclusively; the dataset's shard housekeeping recognises the
// pattern), which Commit() fsyncs, closes and renames to `path`: over an
// existing file, or with `no_replace` only if `path` does not exist
// (ALREADY_EXISTS naming `path`); then it fsyncs the directory. Any failure
// before the rename removes the temporary and leaves an existing `path`
// untouched; a failure of the directory fsync is returned, but the file is in
// place. Abort(), or destroying an uncommitted AtomicFile, removes the
// temporary. Errors as env.h (ENOSPC -> RESOURCE_EXHAUSTED, EIO -> UNAVAILABLE).
// The parent directory must exist. Not thread-safe: one thread per AtomicFile.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "atelier/common/env.h"

namespace atelier {

struct AtomicWriteOptions {
  bool no_replace = false;  // refuse to replace an existing file (ALREADY_EXISTS)
};

// ".tmp-<pid>-<16 hex>": unique per process and per call.
std::string TemporarySuffix();

class AtomicFile {
 public:
  static absl::StatusOr<std::unique_ptr<AtomicFile>> Create(Env& env, const std::filesystem::path& path,
                                                            AtomicWriteOptions options = {});
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // An error abandons the file: it is aborted, later calls fail.
  absl::Status Append(absl::string_view data);
  // Hands the appended bytes to the operating system, so the temporary can be
  // read back before Commit() (or never committed: a scratch file). Errors as Append.
  absl::Status Flush();
  // Finishes the file, whatever the outcome (see above).
  absl::Status Commit();
  // Removes the temporary; no-op once committed or aborted.
  void Abort();

  const std::filesystem::path& path() const { return path_; }
  const std::filesystem::path& temporary_path() const { return temporary_path_; }
  // Bytes appended so far.
  uint64_t size() const { return size_; }

 private:
  AtomicFile(Env& env, std::filesystem::path path, std::filesystem::path temporary_path,
             std::unique_ptr<WritableFile> file, AtomicWriteOptions options);
  absl::Status Finished() const;

  Env& env_;
  const std::filesystem::path path_, temporary_path_;
  std::unique_ptr<WritableFile> file_;  // null once committed or aborted
  const AtomicWriteOptions options_;
  uint64_t size_ = 0;
};

absl::Status WriteFileAtomically(Env& env, const std::filesystem::path& path, absl::string_view contents,
                                 AtomicWriteOptions options = {});

// The last step of the atomic write, for a file that had to be written under a
// name of its own (a resumable download's "<path>.part"), already fsynced and
// closed: renames `from` to `to` (over an existing file, or with `no_replace`
// only if `to` does not exist) and fsyncs the directory. A failed rename
// leaves both files as they were.
absl::Status PublishFile(Env& env, const std::filesystem::path& from, const std::filesystem::path& to,
                         AtomicWriteOptions options = {});

}  // namespace atelier
