// RocksDB implementation of StateStore. Key layout (one default column family):
//   i/<shard:016x>/<item key>    -> ItemResult (binary proto)
//   s/<shard:016x>/<sample key>  -> SampleMeta JSON; the image bytes are in the spool
//                                   file <dir>/spool/<shard:016x>/<sample key>.<ext>
//   c/<shard:016x>               -> "" (the shard was accepted by the coordinator)
//   d/<key>                      -> DeadLink (binary proto)
//   m/<name>                     -> worker metadata
// Writes go through the WAL (not fsynced): they survive SIGKILL of the worker. A
// spool file is written completely before the batch that records its item, so a
// record never points at a partial file. Image bytes live outside RocksDB so they
// are written once (not WAL + memtable flush + compaction).
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "atelier/crawler/state_store.h"
#include "atelier/dataset/image_format.h"

namespace atelier::crawler {
namespace {

std::string ShardPrefix(char kind, uint64_t shard) { return absl::StrFormat("%c/%016x/", kind, shard); }

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("worker state: ", what, ": ", s.ToString()));
}

std::filesystem::path SpoolDir(const std::filesystem::path& dir, uint64_t shard) {
  return dir / "spool" / absl::StrFormat("%016x", shard);
}

std::filesystem::path SpoolFile(const std::filesystem::path& dir, uint64_t shard, const dataset::SampleMeta& meta) {
  return SpoolDir(dir, shard) / absl::StrCat(meta.key, ".", meta.image_format);
}

absl::Status WriteSpool(const std::filesystem::path& path, const std::string& bytes) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("worker state: cannot write ", path.string()));
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadSpool(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::DataLossError(absl::StrCat("worker state: missing spool file ", path.string()));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return bytes;
}

class RocksDbStateStore final : public StateStore {
 public:
  RocksDbStateStore(std::unique_ptr<rocksdb::DB> db, std::filesystem::path dir) : db_(std::move(db)), dir_(std::move(dir)) {}

  absl::StatusOr<std::optional<v1::ItemResult>> GetItem(uint64_t shard, const std::string& key) override {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), ShardPrefix('i', shard) + key, &value);
    if (s.IsNotFound()) return std::optional<v1::ItemResult>();
    if (!s.ok()) return FromRocks(s, "get item");
    v1::ItemResult result;
    if (!result.ParseFromString(value)) return absl::DataLossError(absl::StrCat("worker state: item ", key));
    return std::optional<v1::ItemResult>(std::move(result));
  }

  absl::Status PutItem(uint64_t shard, const v1::ItemResult& result, const std::vector<dataset::Sample>& samples,
                       const std::vector<v1::DeadLink>& dead_links) override {
    rocksdb::WriteBatch batch;
    batch.Put(ShardPrefix('i', shard) + result.key(), result.SerializeAsString());
    for (const auto& sample : samples) {
      absl::Status written = WriteSpool(SpoolFile(dir_, shard, sample.meta), sample.image_bytes);
      if (!written.ok()) return written;
      batch.Put(ShardPrefix('s', shard) + sample.meta.key, dataset::SampleMetaToJson(sample.meta));
    }
    for (const auto& dead : dead_links) batch.Put("d/" + dead.key(), dead.SerializeAsString());
    return FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), "put item");
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

  absl::StatusOr<std::vector<dataset::Sample>> LoadSamples(uint64_t shard) override {
    std::vector<dataset::Sample> out;
    absl::Status status = Scan(ShardPrefix('s', shard), [&](const std::string& key, const std::string& value) {
      auto meta = dataset::SampleMetaFromJson(value, key);
      if (!meta.ok()) return meta.status();
      dataset::Sample sample;
      sample.meta = *std::move(meta);
      auto format = dataset::ImageFormatFromExtension(sample.meta.image_format);
      if (!format.ok()) return format.status();
      sample.format = *format;
      auto bytes = ReadSpool(SpoolFile(dir_, shard, sample.meta));
      if (!bytes.ok()) return bytes.status();
      sample.image_bytes = *std::move(bytes);
      out.push_back(std::move(sample));
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    return out;
  }

  absl::Status MarkCommitted(uint64_t shard) override {
    rocksdb::WriteBatch batch;
    const std::string prefix = ShardPrefix('s', shard);
    batch.DeleteRange(prefix, prefix + "\xff");
    batch.Put(absl::StrFormat("c/%016x", shard), "");
    absl::Status status = FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), "mark committed");
    if (status.ok()) RemoveSpool(shard);
    return status;
  }

  absl::StatusOr<bool> IsCommitted(uint64_t shard) override {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), absl::StrFormat("c/%016x", shard), &value);
    if (s.IsNotFound()) return false;
    if (!s.ok()) return FromRocks(s, "is committed");
    return true;
  }

  absl::Status DiscardShard(uint64_t shard) override {
    rocksdb::WriteBatch batch;
    const std::string prefix = ShardPrefix('s', shard);
    batch.DeleteRange(prefix, prefix + "\xff");
    absl::Status status = Scan(ShardPrefix('i', shard), [&](const std::string& key, const std::string& value) {
      v1::ItemResult result;
      if (result.ParseFromString(value) && result.outcome() == v1::ITEM_OUTCOME_OK) batch.Delete(key);
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    status = FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), "discard shard");
    if (status.ok()) RemoveSpool(shard);
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
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), "m/" + name, &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return FromRocks(s, "get meta");
    return std::optional<std::string>(std::move(value));
  }

  absl::Status PutMeta(const std::string& name, const std::string& value) override {
    return FromRocks(db_->Put(rocksdb::WriteOptions(), "m/" + name, value), "put meta");
  }

 private:
  // Calls fn(full key, value) for every key starting with `prefix`, in order.
  template <typename Fn>
  absl::Status Scan(const std::string& prefix, Fn fn) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      absl::Status status = fn(it->key().ToString(), it->value().ToString());
      if (!status.ok()) return status;
    }
    return FromRocks(it->status(), "scan");
  }

  void RemoveSpool(uint64_t shard) {
    std::error_code ec;
    std::filesystem::remove_all(SpoolDir(dir_, shard), ec);
  }

  std::unique_ptr<rocksdb::DB> db_;
  const std::filesystem::path dir_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<StateStore>> OpenRocksDbStateStore(const std::string& dir) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.max_background_jobs = 1;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &db);
  if (!s.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("cannot open worker state '", dir, "': ", s.ToString()));
  }
  return std::unique_ptr<StateStore>(new RocksDbStateStore(std::unique_ptr<rocksdb::DB>(db), dir));
}

}  // namespace atelier::crawler
