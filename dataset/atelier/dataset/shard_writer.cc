#include "atelier/dataset/shard_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <random>
#include <system_error>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "atelier/common/status_macros.h"
#include "atelier/dataset/image_format.h"
#include "atelier/dataset/sample_key.h"
#include "atelier/dataset/shard_paths.h"

namespace fs = std::filesystem;

namespace atelier::dataset {
namespace {

// ".tmp-<pid>-<random hex>": unique per process and per attempt.
std::string TemporarySuffix() {
  std::random_device random;
  const uint64_t bits = (uint64_t{random()} << 32) | random();
  return absl::StrFormat(".tmp-%d-%016x", getpid(), bits);
}

absl::Status WriteAll(int fd, std::string_view bytes, const fs::path& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot write ", path.string()));
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status FsyncDirectory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open directory ", dir.string()));
  const int result = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (result != 0) return absl::ErrnoToStatus(error, absl::StrCat("cannot fsync directory ", dir.string()));
  return absl::OkStatus();
}

// Writes `contents` to a temporary beside `path`, fsyncs it and renames it over `path`.
absl::Status WriteFileAtomically(const fs::path& path, std::string_view contents) {
  const fs::path tmp = path.string() + TemporarySuffix();
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot create ", tmp.string()));
  absl::Status status = WriteAll(fd, contents, tmp);
  if (status.ok() && ::fsync(fd) != 0) {
    status = absl::ErrnoToStatus(errno, absl::StrCat("cannot fsync ", tmp.string()));
  }
  if (::close(fd) != 0 && status.ok()) {
    status = absl::ErrnoToStatus(errno, absl::StrCat("cannot close ", tmp.string()));
  }
  if (status.ok() && std::rename(tmp.c_str(), path.c_str()) != 0) {
    status = absl::ErrnoToStatus(errno, absl::StrCat("cannot rename ", tmp.string(), " to ", path.string()));
  }
  if (!status.ok()) ::unlink(tmp.c_str());
  return status;
}

// Renames `from` to `to` unless `to` exists (AlreadyExists). Uses link()+unlink()
// where the file system lacks RENAME_NOREPLACE (e.g. NFS); link never replaces either.
absl::Status RenameNoReplace(const fs::path& from, const fs::path& to) {
  const auto exists = [&to] {
    return absl::AlreadyExistsError(
        absl::StrCat(to.string(), " already exists: a committed shard never changes"));
  };
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
    return absl::OkStatus();
  }
  if (errno == EEXIST) return exists();
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot rename ", from.string(), " to ", to.string()));
  }
  if (::link(from.c_str(), to.c_str()) != 0) {
    if (errno == EEXIST) return exists();
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot link ", from.string(), " to ", to.string()));
  }
  ::unlink(from.c_str());
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ShardWriter>> ShardWriter::Open(const fs::path& dataset_root,
                                                               uint64_t shard_index) {
  std::error_code error;
  fs::create_directories(ShardsDir(dataset_root), error);
  if (error) {
    return absl::ErrnoToStatus(error.value(),
                               absl::StrCat("cannot create ", ShardsDir(dataset_root).string()));
  }
  const fs::path final_path = ShardPath(dataset_root, shard_index);
  if (fs::exists(final_path, error)) {
    return absl::AlreadyExistsError(
        absl::StrCat(final_path.string(), " already exists: a committed shard never changes"));
  }
  const fs::path tmp_path = final_path.string() + TemporarySuffix();
  const int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot create ", tmp_path.string()));
  std::unique_ptr<std::FILE, FileCloser> file(::fdopen(fd, "wb"));
  if (file == nullptr) {
    const int fdopen_error = errno;
    ::close(fd);
    ::unlink(tmp_path.c_str());
    return absl::ErrnoToStatus(fdopen_error, absl::StrCat("cannot open ", tmp_path.string()));
  }
  return std::unique_ptr<ShardWriter>(
      new ShardWriter(dataset_root, shard_index, tmp_path, std::move(file)));
}

ShardWriter::ShardWriter(fs::path root, uint64_t index, fs::path tmp_path,
                         std::unique_ptr<std::FILE, FileCloser> file)
    : root_(std::move(root)),
      index_(index),
      tmp_path_(std::move(tmp_path)),
      final_path_(ShardPath(root_, index_)),
      file_(std::move(file)),
      tar_([this](std::string_view bytes) { return WriteBytes(bytes); }),
      mtime_(static_cast<int64_t>(std::time(nullptr))) {}

ShardWriter::~ShardWriter() { Abort(); }

absl::Status ShardWriter::WriteBytes(std::string_view bytes) {
  sha256_.Update(bytes);
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_.get()) != bytes.size()) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot write ", tmp_path_.string()));
  }
  return absl::OkStatus();
}

absl::Status ShardWriter::Add(const Sample& sample) {
  const std::string& key = sample.meta.key;
  const std::string context = absl::StrCat(final_path_.string(), ": sample ", key);
  if (done_) return absl::FailedPreconditionError(context + ": the writer is committed or aborted");
  RETURN_IF_ERROR(Annotate(ValidateKey(key), final_path_.string()));
  if (keys_.contains(key)) return absl::AlreadyExistsError(context + ": duplicate key in this shard");
  const std::string_view ext = ImageExtension(sample.format);
  ASSIGN_OR_RETURN(ImageFormat sniffed, SniffImageFormat(sample.image_bytes), _.prefix(context));
  if (sniffed != sample.format) {
    return absl::InvalidArgumentError(absl::StrCat(context, ": the image bytes are ",
                                                   std::string(ImageExtension(sniffed)),
                                                   ", not ", std::string(ext)));
  }
  SampleMeta meta = sample.meta;
  if (!meta.image_format.empty()) {
    auto declared = ImageFormatFromExtension(meta.image_format);
    if (!declared.ok() || *declared != sample.format) {
      return absl::InvalidArgumentError(absl::StrCat(context, ": meta.image_format \"", meta.image_format,
                                                     "\" disagrees with the image format ", std::string(ext)));
    }
  }
  meta.image_format = std::string(ext);
  const std::string hash = Sha256Hex(sample.image_bytes);
  if (!meta.sha256.empty() && absl::AsciiStrToLower(meta.sha256) != hash) {
    return absl::InvalidArgumentError(absl::StrCat(context, ": meta.sha256 ", meta.sha256,
                                                   " does not match the image bytes (", hash, ")"));
  }
  meta.sha256 = hash;
  RETURN_IF_ERROR(Annotate(tar_.AddFile(absl::StrCat(key, ".", std::string(ext)), sample.image_bytes, mtime_),
                           context));
  RETURN_IF_ERROR(Annotate(tar_.AddFile(key + ".json", SampleMetaToJson(meta), mtime_), context));
  keys_.insert(key);
  ++samples_;
  return absl::OkStatus();
}

absl::Status ShardWriter::FinishFile() {
  RETURN_IF_ERROR(Annotate(tar_.Finish(), tmp_path_.string()));
  std::FILE* file = file_.release();
  absl::Status status;
  if (std::fflush(file) != 0) {
    status = absl::ErrnoToStatus(errno, absl::StrCat("cannot flush ", tmp_path_.string()));
  } else if (::fsync(fileno(file)) != 0) {
    status = absl::ErrnoToStatus(errno, absl::StrCat("cannot fsync ", tmp_path_.string()));
  }
  if (std::fclose(file) != 0 && status.ok()) {
    status = absl::ErrnoToStatus(errno, absl::StrCat("cannot close ", tmp_path_.string()));
  }
  return status;
}

absl::StatusOr<CommittedShard> ShardWriter::Commit() {
  if (done_) {
    return absl::FailedPreconditionError(
        absl::StrCat(final_path_.string(), ": the writer is already committed or aborted"));
  }
  absl::Status status = FinishFile();
  if (status.ok()) status = RenameNoReplace(tmp_path_, final_path_);
  if (!status.ok()) {
    Abort();
    return status;
  }
  done_ = true;
  CommittedShard shard{final_path_, ShardStatsPath(root_, index_), tar_.bytes_written(),
                       sha256_.FinishHex(), samples_};
  RETURN_IF_ERROR(FsyncDirectory(final_path_.parent_path()));
  return shard;
}

absl::StatusOr<CommittedShard> ShardWriter::Commit(const ShardStats& stats) {
  ASSIGN_OR_RETURN(CommittedShard shard, Commit());
  ShardStats final_stats = stats;
  final_stats.shard_index = index_;
  final_stats.bytes_written = static_cast<int64_t>(shard.bytes);
  RETURN_IF_ERROR(WriteShardStats(root_, final_stats));
  return shard;
}

absl::Status WriteShardStats(const fs::path& dataset_root, const ShardStats& stats) {
  const fs::path path = ShardStatsPath(dataset_root, stats.shard_index);
  RETURN_IF_ERROR(WriteFileAtomically(path, ShardStatsToJson(stats)));
  return FsyncDirectory(path.parent_path());
}

void ShardWriter::Abort() {
  if (done_) return;
  done_ = true;
  file_.reset();
  ::unlink(tmp_path_.c_str());
}

}  // namespace atelier::dataset
