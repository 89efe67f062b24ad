// StateStore on a kv::KvStore (RocksDB in production: kv::RocksDbKvStore,
// the one RocksDB wrapper, with its damage checks). Key layout:
//   i/<shard:016x>/<item key>    -> ItemResult (binary proto)
//   s/<shard:016x>/<sample key>  -> '@', u64 offset, u64 length (little-endian),
//                                   then SampleMeta JSON; the image bytes are at
//                                   [offset, offset + length) of the shard's spool
//                                   file <dir>/spool/<shard:016x>.spool
//   c/<shard:016x>               -> "" (the shard was accepted by the coordinator)
//   d/<key>                      -> DeadLink (binary proto)
//   m/<name>                     -> worker metadata
// Writes go through RocksDB's WAL without fsync: they survive SIGKILL of the
// worker (not a machine crash).
// The spool is written and read through an Env (env.h; tests inject a FaultEnv).
// Image bytes live outside RocksDB so they are written once (not WAL + memtable
// flush + compaction), and in one append-only file per shard rather than a file
// per sample (creating and unlinking thousands of small files cost more kernel
// time than the writes). A sample's bytes are appended completely before the
// batch that records it, so a record never points at a partial write; bytes of
// a write cut short by a kill are never referenced and go with the file when
// the shard is committed or discarded. Records of the earlier layout (the JSON
// alone, bytes in <dir>/spool/<shard:016x>/<sample key>.<ext>) are still read.
#include <filesystem>
#include <fstream>
#include <map>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "atelier/common/env.h"
#include "atelier/common/little_endian.h"
#include "atelier/crawler/state_store.h"
#include "atelier/dataset/image_format.h"
#include "atelier/kv/rocksdb_kv_store.h"

namespace atelier::crawler {
namespace {

std::string ShardPrefix(char kind, uint64_t shard) { return absl::StrFormat("%c/%016x/", kind, shard); }

// `spool` is the spool directory (<state dir>/spool for the RocksDB state).
std::filesystem::path SpoolDir(const std::filesystem::path& spool, uint64_t shard) {
  return spool / absl::StrFormat("%016x", shard);
}

// The earlier layout: one file per sample.
std::filesystem::path LegacySpoolFile(const std::filesystem::path& dir, uint64_t shard,
                                      const dataset::SampleMeta& meta) {
  return SpoolDir(dir, shard) / absl::StrCat(meta.key, ".", meta.image_format);
}

std::filesystem::path SpoolFile(const std::filesystem::path& spool, uint64_t shard) {
  return spool / absl::StrFormat("%016x.spool", shard);
}

absl::StatusOr<std::string> ReadLegacySpool(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::DataLossError(absl::StrCat("worker state: missing spool file ", path.string()));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return bytes;
}

// Env errors name the file and keep their code (disk_fault.h).
absl::Status WorkerState(const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat("worker state: ", status.message()));
}

constexpr char kSampleRecordTag = '@';
constexpr size_t kSampleRecordHeader = 1 + 8 + 8;

// The per-shard append-only spool files, written through the Env and kept
// open while the shard is being crawled. Thread-safe.
class SpoolFiles {
 public:
  SpoolFiles(std::filesystem::path dir, Env* env) : dir_(std::move(dir)), env_(env) {}

  // Appends `bytes` to the shard's file and hands them to the operating system
  // (they survive a kill); returns the offset they start at.
  absl::StatusOr<uint64_t> Append(uint64_t shard, const std::string& bytes) {
    absl::MutexLock lock(&mu_);
    auto it = files_.find(shard);
    if (it == files_.end()) {
      const std::filesystem::path path = SpoolFile(dir_, shard);
      absl::Status made = env_->CreateDirs(path.parent_path());
      if (!made.ok()) return WorkerState(made);
      // Appends after whatever is there, including the tail of a write that a
      // kill cut short (nothing references it).
      auto file = env_->NewWritableFile(path, OpenMode::kAppend);
      if (!file.ok()) return WorkerState(file.status());
      it = files_.emplace(shard, *std::move(file)).first;
    }
    const uint64_t offset = it->second->size();
    absl::Status status = it->second->Append(bytes);
    if (status.ok()) status = it->second->Flush();
    if (!status.ok()) {
      files_.erase(it);  // reopened at the file's true end next time
      return WorkerState(status);
    }
    return offset;
  }

  // Reads byte ranges of one shard's spool file through the Env, opened on
  // the first read and closed with the reader. Not thread-safe; one per
  // LoadSamples call.
  class Reader {
   public:
    Reader(std::filesystem::path path, Env* env) : path_(std::move(path)), env_(env) {}

    absl::StatusOr<std::string> Read(uint64_t offset, uint64_t length) {
      if (file_ == nullptr) {
        auto file = env_->NewRandomAccessFile(path_);
        if (absl::IsNotFound(file.status())) {
          return absl::DataLossError(absl::StrCat("worker state: missing spool file ", path_.string()));
        }
        if (!file.ok()) return WorkerState(file.status());
        file_ = *std::move(file);
      }
      std::string bytes;
      absl::Status status = file_->Read(offset, length, &bytes);
      if (absl::IsOutOfRange(status)) {
        return absl::DataLossError(absl::StrCat("worker state: spool file ", path_.string(), " ends before byte ",
                                                offset + length));
      }
      if (!status.ok()) return WorkerState(status);
      return bytes;
    }

   private:
    const std::filesystem::path path_;
    Env* const env_;
    std::unique_ptr<RandomAccessFile> file_;
  };

  Reader ReaderFor(uint64_t shard) const { return Reader(SpoolFile(dir_, shard), env_); }

  // Closes and deletes the shard's spool (and any of the earlier layout).
  void Remove(uint64_t shard) {
    absl::MutexLock lock(&mu_);
    files_.erase(shard);
    (void)env_->RemoveFile(SpoolFile(dir_, shard));
    std::error_code ec;
    std::filesystem::remove_all(SpoolDir(dir_, shard), ec);
  }

 private:
  const std::filesystem::path dir_;
  Env* const env_;
  absl::Mutex mu_;
  std::map<uint64_t, std::unique_ptr<WritableFile>> files_ ABSL_GUARDED_BY(mu_);
};

class KvStateStore final : public StateStore {
 public:
  KvStateStore(std::unique_ptr<kv::KvStore> store, std::filesystem::path spool_dir, Env* env)
      : store_(std::move(store)), spool_dir_(std::move(spool_dir)), spool_(spool_dir_, env) {}

  absl::StatusOr<std::optional<v1::ItemResult>> GetItem(uint64_t shard, const std::string& key) override {
    auto value = store_->Get(ShardPrefix('i', shard) + key);
    if (!value.ok()) return value.status();
    if (!value->has_value()) return std::optional<v1::ItemResult>();
    v1::ItemResult result;
    if (!result.ParseFromString(**value)) return absl::DataLossError(absl::StrCat("worker state: item ", key));
    return std::optional<v1::ItemResult>(std::move(result));
  }

  absl::Status PutItems(uint64_t shard, const std::vector<v1::ItemResult>& results,
                        const std::vector<dataset::Sample>& samples,
                        const std::vector<v1::DeadLink>& dead_links) override {
    kv::WriteBatch batch = Unsynced();
    for (const auto& result : results) batch.Put(ShardPrefix('i', shard) + result.key(), result.SerializeAsString());
    for (const auto& sample : samples) {
      auto offset = spool_.Append(shard, sample.image_bytes);
      if (!offset.ok()) return offset.status();
      std::string record(1, kSampleRecordTag);
      AppendU64LittleEndian(record, *offset);
      AppendU64LittleEndian(record, sample.image_bytes.size());
      record += dataset::SampleMetaToJson(sample.meta);
      batch.Put(ShardPrefix('s', shard) + sample.meta.key, record);
    }
    for (const auto& dead : dead_links) batch.Put("d/" + dead.key(), dead.SerializeAsString());
    return store_->Write(batch);
  }

  absl::StatusOr<std::vector<v1::ItemResult>> ListItems(uint64_t shard) override {
    std::vector<v1::ItemResult> out;
    absl::Status status = Scan(ShardPrefix('i', shard), [&](const std::string& key, const std::string& value) {
      v1::ItemResult result;
      if (!result.ParseFromString(value)) return absl::DataLossError(absl::StrCat("worker state: item ", key));
      out.push_back(std::move(result));
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    return out;
  }

  absl::StatusOr<std::vector<dataset::Sample>> LoadSamples(
      uint64_t shard, const std::function<bool(const std::string& key)>& want) override {
    std::vector<dataset::Sample> out;
    SpoolFiles::Reader spool = spool_.ReaderFor(shard);
    const std::string prefix = ShardPrefix('s', shard);
    absl::Status status = Scan(prefix, [&](const std::string& key, const std::string& value) {
      if (want && !want(key.substr(prefix.size()))) return absl::OkStatus();
      const bool appended = !value.empty() && value[0] == kSampleRecordTag;
      if (appended && value.size() < kSampleRecordHeader) {
        return absl::DataLossError(absl::StrCat("worker state: sample record ", key, " is cut short"));
      }
      const std::string json = appended ? value.substr(kSampleRecordHeader) : value;
      auto meta = dataset::SampleMetaFromJson(json, key);
      if (!meta.ok()) return meta.status();
      dataset::Sample sample;
      sample.meta = *std::move(meta);
      auto format = dataset::ImageFormatFromExtension(sample.meta.image_format);
      if (!format.ok()) return format.status();
      sample.format = *format;
      auto bytes = appended ? spool.Read(ReadU64LittleEndian(value.data() + 1), ReadU64LittleEndian(value.data() + 9))
                            : ReadLegacySpool(LegacySpoolFile(spool_dir_, shard, sample.meta));
      if (!bytes.ok()) return bytes.status();
      sample.image_bytes = *std::move(bytes);
      out.push_back(std::move(sample));
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    return out;
  }

  absl::Status MarkCommitted(uint64_t shard) override {
    kv::WriteBatch batch = Unsynced();
    absl::Status status = DeleteAll(ShardPrefix('s', shard), batch);
    if (!status.ok()) return status;
    batch.Put(absl::StrFormat("c/%016x", shard), "");
    status = store_->Write(batch);
    if (status.ok()) spool_.Remove(shard);
    return status;
  }

  absl::StatusOr<bool> IsCommitted(uint64_t shard) override {
    auto value = store_->Get(absl::StrFormat("c/%016x", shard));
    if (!value.ok()) return value.status();
    return value->has_value();
  }

  absl::Status DiscardShard(uint64_t shard) override {
    kv::WriteBatch batch = Unsynced();
    absl::Status status = DeleteAll(ShardPrefix('s', shard), batch);
    if (!status.ok()) return status;
    status = Scan(ShardPrefix('i', shard), [&](const std::string& key, const std::string& value) {
      v1::ItemResult result;
      if (result.ParseFromString(value) && result.outcome() == v1::ITEM_OUTCOME_OK) batch.Delete(key);
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    status = store_->Write(batch);
    if (status.ok()) spool_.Remove(shard);
    return status;
  }

  absl::StatusOr<std::vector<v1::DeadLink>> ListDeadLinks() override {
    std::vector<v1::DeadLink> out;
    absl::Status status = Scan("d/", [&](const std::string& key, const std::string& value) {
      v1::DeadLink dead;
      if (!dead.ParseFromString(value)) return absl::DataLossError(absl::StrCat("worker state: ", key));
      out.push_back(std::move(dead));
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    return out;
  }

  absl::StatusOr<std::optional<std::string>> GetMeta(const std::string& name) override {
    return store_->Get("m/" + name);
  }

  absl::Status PutMeta(const std::string& name, const std::string& value) override {
    kv::WriteBatch batch = Unsynced();
    batch.Put("m/" + name, value);
    return store_->Write(batch);
  }

 private:
  // The worker's writes reach the WAL at once but are not fsynced one by one.
  static kv::WriteBatch Unsynced() {
    kv::WriteBatch batch;
    batch.set_sync(false);
    return batch;
  }

  // Calls fn(full key, value) for every key starting with `prefix`, in order,
  // until fn returns an error.
  template <typename Fn>
  absl::Status Scan(const std::string& prefix, Fn fn) {
    absl::Status inner;
    absl::Status status = store_->Scan(prefix, "", [&](absl::string_view key, absl::string_view value) {
      inner = fn(std::string(key), std::string(value));
      return inner.ok();
    });
    return status.ok() ? inner : status;
  }

  // Adds a delete of every key with `prefix` to `batch`.
  absl::Status DeleteAll(const std::string& prefix, kv::WriteBatch& batch) {
    return store_->Scan(prefix, "", [&](absl::string_view key, absl::string_view) {
      batch.Delete(std::string(key));
      return true;
    });
  }

  std::unique_ptr<kv::KvStore> store_;
  const std::filesystem::path spool_dir_;
  SpoolFiles spool_;
};

}  // namespace

std::unique_ptr<StateStore> MakeKvStateStore(std::unique_ptr<kv::KvStore> store, const std::string& spool_dir,
                                             Env* env) {
  return std::make_unique<KvStateStore>(std::move(store), spool_dir, env);
}

absl::StatusOr<std::unique_ptr<StateStore>> OpenRocksDbStateStore(const std::string& dir, Env* env) {
  kv::RocksDbKvOptions options;
  options.sync = false;  // the WAL without an fsync per item: survives SIGKILL
  options.what = "worker state";
  options.remedy =
      "Move the state directory aside and start the crawler with a new --state: the coordinator leases its "
      "shards again, and no committed shard is lost";
  // A worker state made before seals existed is opened and sealed from now on.
  options.accept_unsealed = true;
  auto store = kv::RocksDbKvStore::Open(dir, std::move(options));
  if (!store.ok()) return store.status();
  return MakeKvStateStore(*std::move(store), (std::filesystem::path(dir) / "spool").string(), env);
}

}  // namespace atelier::crawler
