#include "atelier/coordinator/rocksdb_kv_store.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace atelier::coordinator {
namespace {

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what, absl::string_view dir) {
  if (s.ok()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("RocksDB ", what, " in '", dir, "': ", s.ToString()));
}

rocksdb::Slice ToSlice(absl::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

}  // namespace

RocksDbKvStore::RocksDbKvStore(std::unique_ptr<rocksdb::DB> db, std::string dir, bool sync)
    : db_(std::move(db)), dir_(std::move(dir)), sync_(sync) {}

RocksDbKvStore::~RocksDbKvStore() {
  if (db_) db_->Close().PermitUncheckedError();
}

absl::StatusOr<std::unique_ptr<RocksDbKvStore>> RocksDbKvStore::Open(const std::string& dir,
                                                                     bool sync) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.IncreaseParallelism(2);
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) return FromRocks(s, "open", dir);
  return std::unique_ptr<RocksDbKvStore>(
      new RocksDbKvStore(std::unique_ptr<rocksdb::DB>(raw), dir, sync));
}

absl::StatusOr<std::optional<std::string>> RocksDbKvStore::Get(absl::string_view key) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), ToSlice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "get", dir_);
  return std::optional<std::string>(std::move(value));
}

absl::Status RocksDbKvStore::Put(absl::string_view key, absl::string_view value) {
  rocksdb::WriteOptions wo;
  wo.sync = sync_;
  return FromRocks(db_->Put(wo, ToSlice(key), ToSlice(value)), "put", dir_);
}

absl::Status RocksDbKvStore::Delete(absl::string_view key) {
  rocksdb::WriteOptions wo;
  wo.sync = sync_;
  return FromRocks(db_->Delete(wo, ToSlice(key)), "delete", dir_);
}

absl::Status RocksDbKvStore::Write(const WriteBatch& batch) {
  rocksdb::WriteBatch wb;
  for (const auto& op : batch.ops()) {
    rocksdb::Status s = op.is_delete ? wb.Delete(op.key) : wb.Put(op.key, op.value);
    if (!s.ok()) return FromRocks(s, "batch", dir_);
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync_ && batch.sync();
  return FromRocks(db_->Write(wo, &wb), "write", dir_);
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
  if (!sync_) return absl::OkStatus();
  return FromRocks(db_->SyncWAL(), "sync", dir_);
}

}  // namespace atelier::coordinator
