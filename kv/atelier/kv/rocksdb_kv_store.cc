#include "atelier/kv/rocksdb_kv_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "atelier/common/little_endian.h"
#include "atelier/common/status_macros.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/transaction_log.h"
#include "rocksdb/write_batch.h"

namespace atelier::kv {
namespace {

namespace fs = std::filesystem;

// Seal file: the sequence number and the number of the write-ahead log
// that was current, then their bitwise complements (a torn or damaged seal
// never reads as a valid one).
constexpr size_t kSealSize = 32;

struct Seal {
  uint64_t sequence = 0;
  uint64_t wal = 0;
};

std::string WalPath(const std::string& dir, uint64_t number) {
  return (fs::path(dir) / absl::StrFormat("%06d.log", number)).string();
}

// The files that hold the state's recent history, for error messages.
std::string DescribeFiles(const std::string& dir) {
  std::string newest_wal;
  uint64_t newest = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    uint64_t number = 0;
    if (absl::EndsWith(name, ".log") &&
        absl::SimpleAtoi(absl::StripSuffix(name, ".log"), &number) && number >= newest) {
      newest = number;
      newest_wal = entry.path().string();
    }
  }
  std::string manifest;
  const fs::path current_path = fs::path(dir) / "CURRENT";
  std::ifstream current(current_path);
  std::getline(current, manifest);
  const std::string wal =
      absl::StrCat("newest write-ahead log '", newest_wal.empty() ? "(none)" : newest_wal, "'");
  if (manifest.empty()) {
    return absl::StrCat(wal, ", CURRENT '", current_path.string(),
                        "' is empty or missing, so the MANIFEST is unknown");
  }
  return absl::StrCat(wal, ", MANIFEST '", (fs::path(dir) / manifest).string(), "'");
}

absl::Status Damaged(const std::string& dir, const RocksDbKvOptions& options, absl::string_view what) {
  return absl::DataLossError(absl::StrCat(options.what, " '", dir, "' is damaged: ", what, " (", DescribeFiles(dir),
                                          "); nothing was changed. ", options.remedy));
}

// Opening failed for a reason other than damage (a missing permission, a file
// where the directory should be): nothing to retry, the setup is wrong.
absl::Status CannotOpen(const rocksdb::Status& s, const std::string& dir, const RocksDbKvOptions& options) {
  return absl::FailedPreconditionError(absl::StrCat("cannot open ", options.what, " '", dir, "': ", s.ToString()));
}

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what, absl::string_view dir) {
  if (s.ok()) return absl::OkStatus();
  std::string message = absl::StrCat("RocksDB ", what, " in '", dir, "': ", s.ToString());
  if (s.IsCorruption()) return absl::DataLossError(message);
  if (s.IsNoSpace()) return absl::ResourceExhaustedError(message);  // as ErrnoToStatus(ENOSPC)
  if (s.IsIOError()) return absl::UnavailableError(message);        // as ErrnoToStatus(EIO)
  return absl::InternalError(message);
}

rocksdb::Slice ToSlice(absl::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

rocksdb::Options StoreOptions() {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.paranoid_checks = true;
  // Stop at the first damaged WAL record; what that drops is then compared
  // with the seal, so only writes that were never synced may go.
  options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  options.IncreaseParallelism(2);
  return options;
}

// The seal in `path`; nullopt when there is no seal file.
absl::StatusOr<std::optional<Seal>> ReadSeal(const std::string& path, const std::string& dir,
                                             const RocksDbKvOptions& options) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::optional<Seal>();
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InternalError(absl::StrCat("cannot read '", path, "'"));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() != kSealSize ||
      ReadU64LittleEndian(bytes.data()) != ~ReadU64LittleEndian(bytes.data() + 16) ||
      ReadU64LittleEndian(bytes.data() + 8) != ~ReadU64LittleEndian(bytes.data() + 24)) {
    return Damaged(dir, options, absl::StrCat("the seal file '", path, "' is damaged"));
  }
  return std::optional<Seal>(
      Seal{ReadU64LittleEndian(bytes.data()), ReadU64LittleEndian(bytes.data() + 8)});
}

absl::Status LostWrites(const std::string& dir, const RocksDbKvOptions& options, uint64_t recovered,
                        const Seal& sealed) {
  return Damaged(dir, options, absl::StrCat("RocksDB recovered writes up to sequence number ", recovered,
                                   ", but writes up to ", sealed.sequence,
                                   " were committed while the write-ahead log '",
                                   WalPath(dir, sealed.wal),
                                   "' was current: a write-ahead log or the MANIFEST lost them"));
}

// Replays the database read-only (changing nothing), verifies its SST
// checksums and checks that it holds every sealed write.
absl::Status VerifyBeforeOpen(const std::string& dir, const RocksDbKvOptions& options, std::optional<Seal> sealed) {
  std::error_code ec;
  const bool exists = fs::exists(fs::path(dir) / "CURRENT", ec);
  if (!exists) {
    if (sealed.has_value() && sealed->sequence > 0) {
      return Damaged(dir, options, absl::StrCat("its CURRENT file '", (fs::path(dir) / "CURRENT").string(),
                                       "' is missing, but the seal says writes up to ",
                                       sealed->sequence, " were committed"));
    }
    return absl::OkStatus();  // a new database
  }
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::OpenForReadOnly(StoreOptions(), dir, &raw);
  if (s.IsCorruption()) return Damaged(dir, options, s.ToString());
  if (!s.ok()) return CannotOpen(s, dir, options);
  std::unique_ptr<rocksdb::DB> db(raw);
  s = db->VerifyChecksum();
  if (s.IsCorruption()) return Damaged(dir, options, s.ToString());
  if (!s.ok()) return FromRocks(s, "verify", dir);
  const uint64_t recovered = db->GetLatestSequenceNumber();
  if (!sealed.has_value()) {
    if (recovered > 0 && !options.accept_unsealed) {
      return Damaged(dir, options, absl::StrCat("the seal file '", RocksDbKvStore::SealPath(dir),
                                       "' is missing (a state made by an older atelier, or "
                                       "copied without it)"));
    }
  } else if (recovered < sealed->sequence) {
    return LostWrites(dir, options, recovered, *sealed);
  }
  db->Close().PermitUncheckedError();
  return absl::OkStatus();
}

// The number of `db`'s current write-ahead log (0 if it cannot say).
uint64_t CurrentWal(rocksdb::DB& db) {
  std::unique_ptr<rocksdb::LogFile> wal;
  if (!db.GetCurrentWalFile(&wal).ok() || wal == nullptr) return 0;
  return wal->LogNumber();
}

absl::Status WriteSeal(int fd, const Seal& seal, const std::string& path) {
  std::string bytes;
  AppendU64LittleEndian(bytes, seal.sequence);
  AppendU64LittleEndian(bytes, seal.wal);
  AppendU64LittleEndian(bytes, ~seal.sequence);
  AppendU64LittleEndian(bytes, ~seal.wal);
  if (::pwrite(fd, bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size()) ||
      ::fdatasync(fd) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot write the seal '", path, "': ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

std::string RocksDbKvStore::SealPath(const std::string& dir) {
  return (fs::path(dir) / "ATELIER_SEAL").string();
}

RocksDbKvStore::RocksDbKvStore(std::unique_ptr<rocksdb::DB> db, std::string dir, RocksDbKvOptions options,
                               int seal_fd, uint64_t sealed)
    : db_(std::move(db)), dir_(std::move(dir)), options_(std::move(options)), seal_fd_(seal_fd), sealed_(sealed) {}

RocksDbKvStore::~RocksDbKvStore() {
  if (db_) {
    absl::Status sealed = SyncAndSeal();
    (void)sealed;  // a seal that could not advance makes the next open refuse, never lose
    db_->Close().PermitUncheckedError();
  }
  absl::MutexLock lock(&seal_mu_);
  if (seal_fd_ >= 0) ::close(seal_fd_);
}

absl::StatusOr<std::unique_ptr<RocksDbKvStore>> RocksDbKvStore::Open(const std::string& dir,
                                                                     RocksDbKvOptions options) {
  const std::string seal_path = SealPath(dir);
  ASSIGN_OR_RETURN(std::optional<Seal> sealed, ReadSeal(seal_path, dir, options));
  RETURN_IF_ERROR(VerifyBeforeOpen(dir, options, sealed));
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(StoreOptions(), dir, &raw);
  if (s.IsCorruption()) return Damaged(dir, options, s.ToString());
  if (!s.ok()) return CannotOpen(s, dir, options);
  std::unique_ptr<rocksdb::DB> db(raw);
  const uint64_t seq = db->GetLatestSequenceNumber();
  if (sealed.has_value() && seq < sealed->sequence) return LostWrites(dir, options, seq, *sealed);
  const int fd = ::open(seal_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("cannot open the seal '", seal_path, "': ", std::strerror(errno)));
  }
  if (!sealed.has_value()) {
    if (absl::Status w = WriteSeal(fd, Seal{seq, CurrentWal(*db)}, seal_path); !w.ok()) {
      ::close(fd);
      return w;
    }
    // Make the new seal file's name durable.
    const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
      ::fsync(dir_fd);
      ::close(dir_fd);
    }
  }
  return std::unique_ptr<RocksDbKvStore>(
      new RocksDbKvStore(std::move(db), dir, std::move(options), fd,
                         sealed.has_value() ? sealed->sequence : seq));
}

absl::StatusOr<std::optional<std::string>> RocksDbKvStore::Get(absl::string_view key) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), ToSlice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "get", dir_);
  return std::optional<std::string>(std::move(value));
}

absl::Status RocksDbKvStore::Put(absl::string_view key, absl::string_view value) {
  WriteBatch batch;
  batch.Put(std::string(key), std::string(value));
  return Write(batch);
}

absl::Status RocksDbKvStore::Delete(absl::string_view key) {
  WriteBatch batch;
  batch.Delete(std::string(key));
  return Write(batch);
}

absl::Status RocksDbKvStore::Write(const WriteBatch& batch) {
  rocksdb::WriteBatch wb;
  for (const auto& op : batch.ops()) {
    rocksdb::Status s = op.is_delete ? wb.Delete(op.key) : wb.Put(op.key, op.value);
    if (!s.ok()) return FromRocks(s, "batch", dir_);
  }
  RETURN_IF_ERROR(FromRocks(db_->Write(rocksdb::WriteOptions(), &wb), "write", dir_));
  // Durable batches are synced and sealed together with every write before them.
  if (batch.sync()) return Sync();
  return absl::OkStatus();
}

absl::Status RocksDbKvStore::Scan(absl::string_view prefix, absl::string_view start,
                                  const Visitor& visit) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  absl::string_view from = start.empty() || start < prefix ? prefix : start;
  for (it->Seek(ToSlice(from)); it->Valid(); it->Next()) {
    absl::string_view key(it->key().data(), it->key().size());
    if (!absl::StartsWith(key, prefix)) break;
    if (!visit(key, absl::string_view(it->value().data(), it->value().size()))) break;
  }
  return FromRocks(it->status(), "scan", dir_);
}

absl::Status RocksDbKvStore::Sync() {
  if (!options_.sync) return absl::OkStatus();
  return SyncAndSeal();
}

absl::Status RocksDbKvStore::SyncAndSeal() {
  // Every write up to `seq` is in the WAL file already; SyncWAL makes it durable.
  const uint64_t seq = db_->GetLatestSequenceNumber();
  RETURN_IF_ERROR(FromRocks(db_->SyncWAL(), "sync", dir_));
  absl::MutexLock lock(&seal_mu_);
  if (seq <= sealed_) return absl::OkStatus();
  RETURN_IF_ERROR(WriteSeal(seal_fd_, Seal{seq, CurrentWal(*db_)}, SealPath(dir_)));
  sealed_ = seq;
  return absl::OkStatus();
}

}  // namespace atelier::kv
