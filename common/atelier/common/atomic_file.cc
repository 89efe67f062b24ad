#include "atelier/common/atomic_file.h"

#include <unistd.h>

#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace fs = std::filesystem;

namespace atelier {

std::string TemporarySuffix() {
  std::random_device random;
  const uint64_t bits = (uint64_t{random()} << 32) | random();
  return absl::StrFormat(".tmp-%d-%016x", getpid(), bits);
}

absl::StatusOr<std::unique_ptr<AtomicFile>> AtomicFile::Create(Env& env, const fs::path& path,
                                                              AtomicWriteOptions options) {
  if (options.no_replace && env.FileExists(path)) {
    return absl::AlreadyExistsError(absl::StrCat(path.string(), " already exists"));
  }
  fs::path temporary = path.string() + TemporarySuffix();
  absl::StatusOr<std::unique_ptr<WritableFile>> file = env.NewWritableFile(temporary, OpenMode::kCreateNew);
  if (!file.ok()) return file.status();
  return std::unique_ptr<AtomicFile>(new AtomicFile(env, path, std::move(temporary), *std::move(file), options));
}

AtomicFile::AtomicFile(Env& env, fs::path path, fs::path temporary_path, std::unique_ptr<WritableFile> file,
                       AtomicWriteOptions options)
    : env_(env),
      path_(std::move(path)),
      temporary_path_(std::move(temporary_path)),
      file_(std::move(file)),
      options_(options) {}

AtomicFile::~AtomicFile() { Abort(); }

absl::Status AtomicFile::Finished() const {
  return absl::FailedPreconditionError(absl::StrCat(path_.string(), ": the file is already committed or aborted"));
}

absl::Status AtomicFile::Append(absl::string_view data) {
  if (file_ == nullptr) return Finished();
  absl::Status status = file_->Append(data);
  if (!status.ok()) {
    Abort();
    return status;
  }
  size_ += data.size();
  return absl::OkStatus();
}

absl::Status AtomicFile::Flush() {
  if (file_ == nullptr) return Finished();
  absl::Status status = file_->Flush();
  if (!status.ok()) Abort();
  return status;
}

absl::Status AtomicFile::Commit() {
  if (file_ == nullptr) return Finished();
  absl::Status status = file_->Sync();
  if (status.ok()) status = file_->Close();
  if (!status.ok()) {
    Abort();
    return status;
  }
  file_.reset();
  status = PublishFile(env_, temporary_path_, path_, options_);
  if (!status.ok()) (void)env_.RemoveFile(temporary_path_);  // NOT_FOUND once renamed
  return status;
}

absl::Status PublishFile(Env& env, const fs::path& from, const fs::path& to, AtomicWriteOptions options) {
  absl::Status status = options.no_replace ? env.RenameFileNoReplace(from, to) : env.RenameFile(from, to);
  if (!status.ok()) return status;
  return env.SyncDir(ParentDir(to));
}

void AtomicFile::Abort() {
  if (file_ == nullptr) return;
  file_.reset();
  (void)env_.RemoveFile(temporary_path_);
}

absl::Status WriteFileAtomically(Env& env, const fs::path& path, absl::string_view contents,
                                 AtomicWriteOptions options) {
  absl::StatusOr<std::unique_ptr<AtomicFile>> file = AtomicFile::Create(env, path, options);
  if (!file.ok()) return file.status();
  absl::Status status = (*file)->Append(contents);
  if (!status.ok()) return status;
  return (*file)->Commit();
}

}  // namespace atelier
