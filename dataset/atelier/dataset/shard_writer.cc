#include "atelier/dataset/shard_writer.h"

#include <ctime>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "atelier/common/status_macros.h"
#include "atelier/dataset/image_format.h"
#include "atelier/dataset/sample_key.h"
#include "atelier/dataset/shard_paths.h"

namespace fs = std::filesystem;

namespace atelier::dataset {
namespace {

absl::Status CommittedShardExists(const fs::path& path) {
  return absl::AlreadyExistsError(absl::StrCat(path.string(), " already exists: a committed shard never changes"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<ShardWriter>> ShardWriter::Open(const fs::path& dataset_root, uint64_t shard_index,
                                                               Env* env) {
  RETURN_IF_ERROR(env->CreateDirs(ShardsDir(dataset_root)));
  const fs::path final_path = ShardPath(dataset_root, shard_index);
  if (env->FileExists(final_path)) return CommittedShardExists(final_path);
  ASSIGN_OR_RETURN(std::unique_ptr<AtomicFile> file, AtomicFile::Create(*env, final_path, {.no_replace = true}));
  return std::unique_ptr<ShardWriter>(new ShardWriter(env, dataset_root, shard_index, final_path, std::move(file)));
}

absl::StatusOr<std::unique_ptr<ShardWriter>> ShardWriter::OpenFile(const fs::path& path, Env* env) {
  RETURN_IF_ERROR(env->CreateDirs(path.parent_path()));
  if (env->FileExists(path)) return CommittedShardExists(path);
  ASSIGN_OR_RETURN(std::unique_ptr<AtomicFile> file, AtomicFile::Create(*env, path, {.no_replace = true}));
  return std::unique_ptr<ShardWriter>(new ShardWriter(env, fs::path(), std::nullopt, path, std::move(file)));
}

ShardWriter::ShardWriter(Env* env, fs::path root, std::optional<uint64_t> index, fs::path final_path,
                         std::unique_ptr<AtomicFile> file)
    : env_(env),
      root_(std::move(root)),
      index_(index),
      tmp_path_(file->temporary_path()),
      final_path_(std::move(final_path)),
      file_(std::move(file)),
      tar_([this](std::string_view bytes) { return WriteBytes(bytes); }),
      mtime_(static_cast<int64_t>(std::time(nullptr))) {}

ShardWriter::~ShardWriter() { Abort(); }

absl::Status ShardWriter::WriteBytes(std::string_view bytes) {
  sha256_.Update(bytes);
  return file_->Append(absl::string_view(bytes.data(), bytes.size()));
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

absl::StatusOr<CommittedShard> ShardWriter::Commit() {
  if (done_) {
    return absl::FailedPreconditionError(
        absl::StrCat(final_path_.string(), ": the writer is already committed or aborted"));
  }
  absl::Status status = Annotate(tar_.Finish(), tmp_path_.string());
  // The temporary is fsynced, renamed without replacing and the directory fsynced;
  // on a failure before the rename the temporary is removed.
  if (status.ok()) status = file_->Commit();
  done_ = true;
  file_.reset();
  if (absl::IsAlreadyExists(status)) return CommittedShardExists(final_path_);
  RETURN_IF_ERROR(status);
  return CommittedShard{final_path_, index_.has_value() ? ShardStatsPath(root_, *index_) : fs::path(),
                        tar_.bytes_written(), sha256_.FinishHex(), samples_};
}

absl::StatusOr<CommittedShard> ShardWriter::Commit(const ShardStats& stats) {
  if (!index_.has_value()) {
    Abort();
    return absl::FailedPreconditionError(absl::StrCat(final_path_.string(), ": not a shard, it has no stats"));
  }
  ASSIGN_OR_RETURN(CommittedShard shard, Commit());
  ShardStats final_stats = stats;
  final_stats.shard_index = *index_;
  final_stats.bytes_written = static_cast<int64_t>(shard.bytes);
  RETURN_IF_ERROR(WriteShardStats(root_, final_stats, env_));
  return shard;
}

absl::Status WriteShardStats(const fs::path& dataset_root, const ShardStats& stats, Env* env) {
  return WriteFileAtomically(*env, ShardStatsPath(dataset_root, stats.shard_index), ShardStatsToJson(stats));
}

void ShardWriter::Abort() {
  if (done_) return;
  done_ = true;
  file_.reset();  // removes the temporary
}

}  // namespace atelier::dataset
