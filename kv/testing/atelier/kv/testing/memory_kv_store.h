// MemoryKvStore: an in-memory KvStore (a std::map under a mutex) for tests.
// Nothing is persisted. Thread-safe. Scan() visits a snapshot taken under the
// lock, so the visitor may call back into the store.
#pragma once

#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "atelier/kv/kv_store.h"

namespace atelier::kv {

class MemoryKvStore final : public KvStore {
 public:
  absl::StatusOr<std::optional<std::string>> Get(absl::string_view key) override;
  absl::Status Put(absl::string_view key, absl::string_view value) override;
  absl::Status Delete(absl::string_view key) override;
  absl::Status Write(const WriteBatch& batch) override;
  absl::Status Scan(absl::string_view prefix, absl::string_view start,
                    const Visitor& visit) override;
  absl::Status Sync() override { return absl::OkStatus(); }

  size_t size() const;

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, std::string, std::less<>> data_ ABSL_GUARDED_BY(mu_);
};

}  // namespace atelier::kv
