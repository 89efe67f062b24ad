#include "atelier/common/testing/fault_env.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace fs = std::filesystem;

namespace atelier::testing {
namespace {

absl::Status Injected(int error, absl::string_view what, const fs::path& path) {
  return FileSystemError(error, absl::StrCat(what, " ", path.string(), " (injected fault)"));
}

}  // namespace

// Forwards to the base Env's file, failing as the FaultEnv says.
class FaultEnv::File final : public WritableFile {
 public:
  File(FaultEnv& env, std::unique_ptr<WritableFile> base) : env_(env), base_(std::move(base)) {}

  absl::Status Append(absl::string_view data) override {
    absl::Status status = env_.Check(Op::kAppend, path(), "cannot write");
    if (!status.ok()) return status;
    int error = 0;
    const size_t allowed = env_.AllowedBytes(path(), data.size(), error);
    if (allowed > 0) {
      status = base_->Append(data.substr(0, allowed));
      if (!status.ok()) return status;
    }
    if (allowed < data.size()) {
      // What a full disk does: the buffered bytes reach the file, the rest does not.
      (void)base_->Flush();
      return Injected(error, "cannot write", path());
    }
    return absl::OkStatus();
  }
  absl::Status Flush() override { return base_->Flush(); }
  absl::Status Sync() override {
    absl::Status status = env_.Check(Op::kSync, path(), "cannot fsync");
    if (!status.ok()) return status;
    return base_->Sync();
  }
  absl::Status Close() override {
    absl::Status status = env_.Check(Op::kClose, path(), "cannot close");
    if (!status.ok()) return status;
    return base_->Close();
  }
  uint64_t size() const override { return base_->size(); }
  const fs::path& path() const override { return base_->path(); }

 private:
  FaultEnv& env_;
  std::unique_ptr<WritableFile> base_;
};

// Forwards reads to the base Env's file, failing as the FaultEnv says.
class FaultEnv::ReadFileHandle final : public RandomAccessFile {
 public:
  ReadFileHandle(FaultEnv& env, std::unique_ptr<RandomAccessFile> base) : env_(env), base_(std::move(base)) {}

  absl::Status Read(uint64_t offset, size_t n, std::string* out) const override {
    absl::Status status = env_.Check(Op::kRead, path(), "cannot read");
    if (!status.ok()) return status;
    return base_->Read(offset, n, out);
  }
  const fs::path& path() const override { return base_->path(); }

 private:
  FaultEnv& env_;
  std::unique_ptr<RandomAccessFile> base_;
};

absl::StatusOr<std::unique_ptr<RandomAccessFile>> FaultEnv::NewRandomAccessFile(const fs::path& path) {
  auto base = base_->NewRandomAccessFile(path);
  if (!base.ok()) return base.status();
  return std::unique_ptr<RandomAccessFile>(new ReadFileHandle(*this, *std::move(base)));
}

void FaultEnv::Fail(Op op, int error, std::string path_contains, int times) {
  absl::MutexLock lock(&mu_);
  faults_.push_back(Fault{op, error, std::move(path_contains), times});
}

void FaultEnv::FailAppendsAfter(int64_t bytes, int error, std::string path_contains) {
  absl::MutexLock lock(&mu_);
  byte_limit_ = ByteLimit{bytes, error, std::move(path_contains)};
}

void FaultEnv::Heal() {
  absl::MutexLock lock(&mu_);
  faults_.clear();
  byte_limit_.reset();
}

int FaultEnv::calls(Op op) const {
  absl::MutexLock lock(&mu_);
  return calls_[static_cast<size_t>(op)];
}

int FaultEnv::failures(Op op) const {
  absl::MutexLock lock(&mu_);
  return failures_[static_cast<size_t>(op)];
}

absl::Status FaultEnv::Check(Op op, const fs::path& path, absl::string_view what) {
  absl::MutexLock lock(&mu_);
  ++calls_[static_cast<size_t>(op)];
  const std::string name = path.string();
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (it->op != op || name.find(it->path_contains) == std::string::npos) continue;
    const int error = it->error;
    if (it->times > 0 && --it->times == 0) faults_.erase(it);
    ++failures_[static_cast<size_t>(op)];
    return Injected(error, what, path);
  }
  return absl::OkStatus();
}

size_t FaultEnv::AllowedBytes(const fs::path& path, size_t size, int& error) {
  absl::MutexLock lock(&mu_);
  if (!byte_limit_.has_value() || path.string().find(byte_limit_->path_contains) == std::string::npos) return size;
  const size_t allowed = std::min(size, static_cast<size_t>(std::max<int64_t>(0, byte_limit_->bytes_left)));
  byte_limit_->bytes_left -= static_cast<int64_t>(allowed);
  if (allowed < size) {
    error = byte_limit_->error;
    ++failures_[static_cast<size_t>(Op::kAppend)];
  }
  return allowed;
}

absl::StatusOr<std::unique_ptr<WritableFile>> FaultEnv::NewWritableFile(const fs::path& path, OpenMode mode) {
  absl::Status status = Check(Op::kCreate, path, "cannot create");
  if (!status.ok()) return status;
  absl::StatusOr<std::unique_ptr<WritableFile>> file = base_->NewWritableFile(path, mode);
  if (!file.ok()) return file.status();
  return std::unique_ptr<WritableFile>(new File(*this, *std::move(file)));
}

absl::Status FaultEnv::RenameFile(const fs::path& from, const fs::path& to) {
  absl::Status status = Check(Op::kRename, to, absl::StrCat("cannot rename ", from.string(), " to"));
  if (!status.ok()) return status;
  return base_->RenameFile(from, to);
}

absl::Status FaultEnv::RenameFileNoReplace(const fs::path& from, const fs::path& to) {
  absl::Status status = Check(Op::kRename, to, absl::StrCat("cannot rename ", from.string(), " to"));
  if (!status.ok()) return status;
  return base_->RenameFileNoReplace(from, to);
}

absl::Status FaultEnv::RemoveFile(const fs::path& path) {
  absl::Status status = Check(Op::kRemove, path, "cannot remove");
  if (!status.ok()) return status;
  return base_->RemoveFile(path);
}

absl::StatusOr<std::vector<std::string>> FaultEnv::GetChildren(const fs::path& dir) {
  absl::Status status = Check(Op::kGetChildren, dir, "cannot list");
  if (!status.ok()) return status;
  return base_->GetChildren(dir);
}

absl::Status FaultEnv::CreateDirs(const fs::path& dir) {
  absl::Status status = Check(Op::kCreateDirs, dir, "cannot create directory");
  if (!status.ok()) return status;
  return base_->CreateDirs(dir);
}

absl::Status FaultEnv::SyncDir(const fs::path& dir) {
  absl::Status status = Check(Op::kSyncDir, dir, "cannot fsync directory");
  if (!status.ok()) return status;
  return base_->SyncDir(dir);
}

absl::StatusOr<std::string> FaultEnv::ReadFile(const fs::path& path) {
  absl::Status status = Check(Op::kReadFile, path, "cannot read");
  if (!status.ok()) return status;
  return base_->ReadFile(path);
}

}  // namespace atelier::testing
