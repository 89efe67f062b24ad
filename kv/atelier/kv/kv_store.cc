#include "atelier/kv/kv_store.h"

namespace atelier::kv {

absl::Status DeletePrefix(KvStore& store, absl::string_view prefix) {
  constexpr size_t kBatch = 10000;
  while (true) {
    WriteBatch batch;
    absl::Status scan = store.Scan(prefix, "", [&](absl::string_view key, absl::string_view) {
      batch.Delete(std::string(key));
      return batch.size() < kBatch;
    });
    if (!scan.ok()) return scan;
    if (batch.empty()) return absl::OkStatus();
    absl::Status write = store.Write(batch);
    if (!write.ok()) return write;
  }
}

}  // namespace atelier::kv
