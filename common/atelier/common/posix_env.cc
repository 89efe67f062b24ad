// Env::Default(): the POSIX file system (see env.h).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "atelier/common/env.h"

namespace fs = std::filesystem;

namespace atelier {
namespace {

absl::Status PathError(int error, absl::string_view what, const fs::path& path) {
  return FileSystemError(error, absl::StrCat(what, " ", path.string()));
}

absl::Status WriteAll(int fd, const char* data, size_t size, const fs::path& path) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return PathError(errno, "cannot write", path);
    data += n;
    size -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

class PosixWritableFile final : public WritableFile {
 public:
  static constexpr size_t kBufferSize = 64 * 1024;

  PosixWritableFile(fs::path path, int fd, uint64_t size) : path_(std::move(path)), fd_(fd), size_(size) {
    buffer_.reserve(kBufferSize);
  }
  ~PosixWritableFile() override {
    if (fd_ >= 0) {
      (void)Flush();
      ::close(fd_);
    }
  }

  absl::Status Append(absl::string_view data) override {
    if (fd_ < 0) return Closed();
    size_ += data.size();
    if (buffer_.size() + data.size() <= kBufferSize) {
      buffer_.append(data.data(), data.size());
      return absl::OkStatus();
    }
    absl::Status status = Flush();
    if (!status.ok()) return status;
    if (data.size() <= kBufferSize) {
      buffer_.append(data.data(), data.size());
      return absl::OkStatus();
    }
    return WriteAll(fd_, data.data(), data.size(), path_);
  }

  absl::Status Flush() override {
    if (fd_ < 0) return Closed();
    absl::Status status = WriteAll(fd_, buffer_.data(), buffer_.size(), path_);
    buffer_.clear();
    return status;
  }

  absl::Status Sync() override {
    absl::Status status = Flush();
    if (!status.ok()) return status;
    if (::fsync(fd_) != 0) return PathError(errno, "cannot fsync", path_);
    return absl::OkStatus();
  }

  absl::Status Close() override {
    if (fd_ < 0) return Closed();
    absl::Status status = Flush();
    if (::close(fd_) != 0 && status.ok()) status = PathError(errno, "cannot close", path_);
    fd_ = -1;
    return status;
  }

  uint64_t size() const override { return size_; }
  const fs::path& path() const override { return path_; }

 private:
  absl::Status Closed() const {
    return absl::FailedPreconditionError(absl::StrCat(path_.string(), ": the file is closed"));
  }

  const fs::path path_;
  int fd_;
  uint64_t size_;
  std::string buffer_;
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(fs::path path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }

  absl::Status Read(uint64_t offset, size_t n, std::string* out) const override {
    out->resize(n);
    size_t done = 0;
    while (done < n) {
      const ssize_t got = ::pread(fd_, out->data() + done, n - done, static_cast<off_t>(offset + done));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return PathError(errno, "cannot read", path_);
      if (got == 0) break;
      done += static_cast<size_t>(got);
    }
    if (done != n) {
      out->resize(done);
      return absl::OutOfRangeError(absl::StrCat(path_.string(), " ends before byte ", offset + n));
    }
    return absl::OkStatus();
  }
  const fs::path& path() const override { return path_; }

 private:
  const fs::path path_;
  const int fd_;
};

class PosixEnv final : public Env {
 public:
  absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const fs::path& path) override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PathError(errno, "cannot open", path);
    return std::unique_ptr<RandomAccessFile>(new PosixRandomAccessFile(path, fd));
  }

  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const fs::path& path, OpenMode mode) override {
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC;
    if (mode == OpenMode::kCreateNew) flags |= O_EXCL;
    if (mode == OpenMode::kTruncate) flags |= O_TRUNC;
    if (mode == OpenMode::kAppend) flags |= O_APPEND;
    const int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) return PathError(errno, "cannot create", path);
    uint64_t size = 0;
    if (mode == OpenMode::kAppend) {
      const off_t end = ::lseek(fd, 0, SEEK_END);
      if (end < 0) {
        const int error = errno;
        ::close(fd);
        return PathError(error, "cannot seek", path);
      }
      size = static_cast<uint64_t>(end);
    }
    return std::unique_ptr<WritableFile>(new PosixWritableFile(path, fd, size));
  }

  absl::Status RenameFile(const fs::path& from, const fs::path& to) override {
    if (std::rename(from.c_str(), to.c_str()) != 0) return RenameError(errno, from, to);
    return absl::OkStatus();
  }

  absl::Status RenameFileNoReplace(const fs::path& from, const fs::path& to) override {
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
      return absl::OkStatus();
    }
    if (errno == EEXIST) return Exists(to);
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) return RenameError(errno, from, to);
    if (::link(from.c_str(), to.c_str()) != 0) {
      if (errno == EEXIST) return Exists(to);
      return FileSystemError(errno, absl::StrCat("cannot link ", from.string(), " to ", to.string()));
    }
    ::unlink(from.c_str());
    return absl::OkStatus();
  }

  absl::Status RemoveFile(const fs::path& path) override {
    if (::unlink(path.c_str()) != 0) return PathError(errno, "cannot remove", path);
    return absl::OkStatus();
  }

  bool FileExists(const fs::path& path) override { return ::access(path.c_str(), F_OK) == 0; }

  absl::StatusOr<uint64_t> GetFileSize(const fs::path& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return PathError(errno, "cannot stat", path);
    return static_cast<uint64_t>(st.st_size);
  }

  absl::StatusOr<absl::Time> GetModificationTime(const fs::path& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return PathError(errno, "cannot stat", path);
    return absl::TimeFromTimespec(st.st_mtim);
  }

  absl::StatusOr<std::vector<std::string>> GetChildren(const fs::path& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return PathError(errno, "cannot list", dir);
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* entry = ::readdir(d)) {
      const std::string_view name = entry->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
      errno = 0;
    }
    const int error = errno;
    ::closedir(d);
    if (error != 0) return PathError(error, "cannot list", dir);
    return names;
  }

  absl::Status CreateDirs(const fs::path& dir) override {
    std::error_code error;
    fs::create_directories(dir, error);
    if (error) return PathError(error.value(), "cannot create directory", dir);
    return absl::OkStatus();
  }

  absl::Status SyncDir(const fs::path& dir) override {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return PathError(errno, "cannot open directory", dir);
    const int result = ::fsync(fd);
    const int error = errno;
    ::close(fd);
    if (result != 0) return PathError(error, "cannot fsync directory", dir);
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> ReadFile(const fs::path& path) override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PathError(errno, "cannot open", path);
    std::string contents;
    char buffer[64 * 1024];
    while (true) {
      const ssize_t n = ::read(fd, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const int error = errno;
        ::close(fd);
        return PathError(error, "cannot read", path);
      }
      if (n == 0) break;
      contents.append(buffer, static_cast<size_t>(n));
    }
    ::close(fd);
    return contents;
  }

 private:
  static absl::Status RenameError(int error, const fs::path& from, const fs::path& to) {
    return FileSystemError(error, absl::StrCat("cannot rename ", from.string(), " to ", to.string()));
  }
  static absl::Status Exists(const fs::path& to) {
    return absl::AlreadyExistsError(absl::StrCat(to.string(), " already exists"));
  }
};

}  // namespace

absl::Status FileSystemError(int error, absl::string_view message) {
  if (error == EIO) return absl::UnavailableError(absl::StrCat(message, ": ", std::strerror(EIO)));
  return absl::ErrnoToStatus(error, message);
}

Env* Env::Default() {
  static Env* const env = new PosixEnv;
  return env;
}

fs::path ParentDir(const fs::path& path) {
  const fs::path parent = path.parent_path();
  return parent.empty() ? fs::path(".") : parent;
}

}  // namespace atelier
