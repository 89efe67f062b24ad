// KvStore: the narrow key-value interface all coordinator state goes through.
//
// Keys and values are byte strings. Write() applies a WriteBatch atomically
// (all or nothing; durable when it returns OK, unless the batch has sync off).
// Scan()
// visits keys with a prefix in ascending byte order, starting at `start`
// (inclusive; empty: the first key of the prefix), until the visitor returns
// false.
//
// Implementations: MemoryKvStore (tests), RocksDbKvStore (production).
// Thread safety: every method may be called concurrently from any thread.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace atelier::kv {

// An ordered list of puts and deletes applied together by KvStore::Write.
class WriteBatch {
 public:
  struct Op {
    bool is_delete = false;
    std::string key;
    std::string value;
  };
  void Put(std::string key, std::string value) {
    ops_.push_back({false, std::move(key), std::move(value)});
  }
  void Delete(std::string key) { ops_.push_back({true, std::move(key), {}}); }
  const std::vector<Op>& ops() const { return ops_; }
  bool empty() const { return ops_.empty(); }
  size_t size() const { return ops_.size(); }
  void Clear() { ops_.clear(); }
  // Durable batches (the default) are on disk when Write returns. A batch
  // with sync off may be lost on a machine crash (not on a process kill); it
  // becomes durable with the next durable write.
  void set_sync(bool sync) { sync_ = sync; }
  bool sync() const { return sync_; }

 private:
  std::vector<Op> ops_;
  bool sync_ = true;
};

class KvStore {
 public:
  using Visitor = std::function<bool(absl::string_view key, absl::string_view value)>;
  virtual ~KvStore() = default;

  // The value of `key`, std::nullopt when absent, or an error from the store.
  virtual absl::StatusOr<std::optional<std::string>> Get(absl::string_view key) = 0;
  virtual absl::Status Put(absl::string_view key, absl::string_view value) = 0;
  virtual absl::Status Delete(absl::string_view key) = 0;
  virtual absl::Status Write(const WriteBatch& batch) = 0;
  virtual absl::Status Scan(absl::string_view prefix, absl::string_view start,
                            const Visitor& visit) = 0;
  // Makes every write so far durable (fsync of the log). Concurrent callers
  // share syncs, which is how callers batch durability ("group commit").
  virtual absl::Status Sync() = 0;
};

// Deletes every key that starts with `prefix`, in batches. Not atomic as a whole.
absl::Status DeletePrefix(KvStore& store, absl::string_view prefix);

}  // namespace atelier::kv
