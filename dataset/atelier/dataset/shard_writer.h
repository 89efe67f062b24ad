// ShardWriter: writes one WebDataset shard, shards/NNNNNN.tar, atomically.
//
//   ASSIGN_OR_RETURN(auto writer, ShardWriter::Open(root, 42));
//   for (...) RETURN_IF_ERROR(writer->Add(sample));
//   ASSIGN_OR_RETURN(CommittedShard shard, writer->Commit(stats));
//
// The file goes through the one atomic write (atelier/common/atomic_file.h) on
// the given Env: samples go to a temporary file in the same directory,
// shards/NNNNNN.tar.tmp-<pid>-<random hex>, so the final name only ever names a
// complete shard: Commit() writes the end-of-archive blocks, fsyncs, then
// renames the temporary to NNNNNN.tar without replacing an existing file (a
// committed shard never changes: AlreadyExists, temporary removed), writes
// NNNNNN.stats.json atomically (temporary + fsync + rename) and fsyncs the
// directory. Abort(), destroying an uncommitted writer, or any write error
// removes the temporary. A crash leaves only the temporary, which
// RemoveShardTemporaries() (when the shard is next leased) or
// CleanStaleTemporaries() removes.
//
// Add() writes `<key>.<ext>` then `<key>.json` (SampleMetaToJson) for a sample
// whose meta.key passes ValidateKey, is new in this shard, and whose image bytes
// have the magic of `format`. It fills meta.image_format and meta.sha256 (if
// empty) in the stored JSON; InvalidArgument if either is set and disagrees.
// A rejected sample leaves the writer usable; an I/O error (env.h's codes: a
// full disk is ResourceExhausted, EIO Unavailable) makes every later
// Add/Commit fail. Not thread-safe: one writer per shard, used by one thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "atelier/common/atomic_file.h"
#include "atelier/common/env.h"
#include "atelier/dataset/sample.h"
#include "atelier/dataset/sha256.h"
#include "atelier/dataset/shard_stats.h"
#include "atelier/dataset/tar_writer.h"

namespace atelier::dataset {

struct CommittedShard {
  std::filesystem::path tar_path, stats_path;
  uint64_t bytes = 0;   // size of the .tar
  std::string sha256;   // hex of the whole .tar
  int64_t samples = 0;
};

// Writes root/shards/NNNNNN.stats.json for stats.shard_index atomically
// (WriteFileAtomically: temporary + fsync + rename over an existing file, then
// the directory's fsync).
absl::Status WriteShardStats(const std::filesystem::path& dataset_root, const ShardStats& stats,
                             Env* env = Env::Default());

class ShardWriter {
 public:
  // Creates root/shards if missing. AlreadyExists if the shard is already committed.
  // `env` must outlive the writer.
  static absl::StatusOr<std::unique_ptr<ShardWriter>> Open(const std::filesystem::path& dataset_root,
                                                           uint64_t shard_index, Env* env = Env::Default());
  // The same tar at any `path` (a crawler's sealed segment, shard_paths.h),
  // written the same way; such a writer has no stats: Commit(stats) is
  // FailedPrecondition. Creates the parent directory if missing.
  static absl::StatusOr<std::unique_ptr<ShardWriter>> OpenFile(const std::filesystem::path& path,
                                                               Env* env = Env::Default());
  ~ShardWriter();
  ShardWriter(const ShardWriter&) = delete;
  ShardWriter& operator=(const ShardWriter&) = delete;

  absl::Status Add(const Sample& sample);

  // Commits the shard and writes `stats` with shard_index and bytes_written set to
  // this shard's index and .tar size. The writer is finished afterwards, whatever
  // the outcome. If only the stats file or the directory fsync fails, the error
  // is returned but the .tar stays committed.
  absl::StatusOr<CommittedShard> Commit(const ShardStats& stats);
  // Commits the .tar alone (no stats file; see WriteShardStats), for writers
  // that may only describe the shard once someone else accepted it.
  absl::StatusOr<CommittedShard> Commit();

  // Removes the temporary; no-op once committed or aborted.
  void Abort();

  int64_t samples() const { return samples_; }
  // Bytes of the archive so far, some perhaps still in the write buffer.
  uint64_t bytes_written() const { return tar_.bytes_written(); }
  const std::filesystem::path& temporary_path() const { return tmp_path_; }

 private:
  // `index` is nullopt for OpenFile's writers.
  ShardWriter(Env* env, std::filesystem::path root, std::optional<uint64_t> index, std::filesystem::path final_path,
              std::unique_ptr<AtomicFile> file);

  absl::Status WriteBytes(std::string_view bytes);

  Env* env_;
  std::filesystem::path root_;
  std::optional<uint64_t> index_;
  std::filesystem::path tmp_path_, final_path_;
  std::unique_ptr<AtomicFile> file_;
  Sha256 sha256_;
  TarWriter tar_;
  int64_t mtime_;
  std::set<std::string> keys_;
  int64_t samples_ = 0;
  bool done_ = false;  // committed or aborted
};

}  // namespace atelier::dataset
