#include "atelier/common/atomic_file.h"
#include "atelier/trainer/packed_cache.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "atelier/common/little_endian.h"
#include "atelier/common/status_macros.h"
#include "atelier/dataset/sha256.h"
#include "atelier/dataset/shard_paths.h"

namespace atelier::trainer {
namespace fs = std::filesystem;
namespace {

constexpr char kMagic[8] = {'A', 'T', 'P', 'A', 'C', 'K', '0', '1'};
constexpr uint64_t kAlignment = 4096;
constexpr uint64_t kMaxHeaderBytes = uint64_t{1} << 32;

// The images of `set` with `wanted` channels (1 or 3), as LoadDatasetRoot
// would give them: grey from RGB is (R+G+B)/3 rounded; RGB from grey repeats
// the value (exact: a cache holds grey only when every image was grey).
ImageSet ConvertChannels(const ImageSet& set, int wanted) {
  ImageSet out = set;
  out.mapped.reset();
  out.channels = wanted;
  const size_t pixels = static_cast<size_t>(set.size()) * set.image_size * set.image_size;
  const uint8_t* in = set.pixel_data();
  out.pixels.resize(pixels * wanted);
  for (size_t p = 0; p < pixels; ++p) {
    if (wanted == 3) {
      out.pixels[3 * p] = out.pixels[3 * p + 1] = out.pixels[3 * p + 2] = in[p];
    } else {
      const int sum = in[3 * p] + in[3 * p + 1] + in[3 * p + 2];
      out.pixels[p] = static_cast<uint8_t>((sum + 1) / 3);
    }
  }
  return out;
}

// Where the pixels start: after the magic, the length and the header,
// rounded up to a page.
uint64_t PixelOffset(uint64_t header_length) {
  return (sizeof(kMagic) + 8 + header_length + kAlignment - 1) / kAlignment * kAlignment;
}

// A read-only map of a whole file; unmapped when the last reference goes.
absl::StatusOr<std::shared_ptr<const uint8_t>> MapFile(const fs::path& file, uint64_t* size) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("no packed cache at ", file.string()));
    return absl::UnavailableError(absl::StrCat("cannot open ", file.string(), ": ", std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size == 0) {
    ::close(fd);
    return absl::DataLossError(absl::StrCat("packed cache ", file.string(), " is empty"));
  }
  const size_t length = static_cast<size_t>(st.st_size);
  void* base = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (base == MAP_FAILED) {
    return absl::UnavailableError(absl::StrCat("cannot map ", file.string(), ": ", std::strerror(errno)));
  }
  *size = length;
  return std::shared_ptr<const uint8_t>(static_cast<const uint8_t*>(base),
                                        [length](const uint8_t* p) { ::munmap(const_cast<uint8_t*>(p), length); });
}

}  // namespace

fs::path PackedCachePath(const fs::path& cache_dir, const LoadOptions& options) {
  return cache_dir / absl::StrCat("packed-", options.image_size, "px.atpack");
}

absl::StatusOr<std::string> DatasetFingerprint(const fs::path& root, const LoadOptions& options) {
  ASSIGN_OR_RETURN(auto shards, dataset::FindShards(root), _.prefix("--data"));
  dataset::Sha256 hash;
  hash.Update(absl::StrCat("image_size=", options.image_size, "\n"));
  hash.Update(absl::StrCat("label_fields=", dataset::LabelFieldsToString(options.label_fields), "\n"));
  for (const fs::path& shard : shards) {
    struct stat st {};
    if (::stat(shard.c_str(), &st) != 0) {
      hash.Update(absl::StrCat(shard.filename().string(), " unreadable\n"));  // the loader names it
      continue;
    }
    hash.Update(absl::StrCat(shard.filename().string(), " ", st.st_size, " ", st.st_mtim.tv_sec, ".",
                             st.st_mtim.tv_nsec, "\n"));
  }
  return hash.FinishHex();
}

absl::Status WritePackedCache(const ImageSet& set, const std::string& fingerprint, const fs::path& file) {
  const uint64_t pixel_bytes = static_cast<uint64_t>(set.size()) * static_cast<uint64_t>(set.image_bytes());
  nlohmann::json header;
  header["image_size"] = set.image_size;
  header["channels"] = set.channels;
  header["count"] = set.size();
  header["fingerprint"] = fingerprint;
  header["skipped_by_reason"] = set.read_report.skipped_by_reason;
  header["skip_examples"] = set.read_report.examples;
  header["bad_shards"] = set.read_report.bad_shards;
  header["keys"] = set.keys;
  header["labels"] = set.labels;
  header["extra"] = set.extra;
  const std::string text = header.dump();
  const uint64_t pixel_offset = PixelOffset(text.size());

  std::string prefix(kMagic, sizeof(kMagic));
  AppendU64LittleEndian(prefix, text.size());
  prefix += text;
  prefix.resize(pixel_offset, '\0');

  Env& env = *Env::Default();
  RETURN_IF_ERROR(env.CreateDirs(file.parent_path()));
  ASSIGN_OR_RETURN(std::unique_ptr<AtomicFile> out, AtomicFile::Create(env, file));
  RETURN_IF_ERROR(out->Append(prefix));
  RETURN_IF_ERROR(out->Append(absl::string_view(reinterpret_cast<const char*>(set.pixel_data()), pixel_bytes)));
  return out->Commit();
}

absl::StatusOr<ImageSet> MapPackedCache(const fs::path& file, const std::string& fingerprint) {
  uint64_t size = 0;
  ASSIGN_OR_RETURN(std::shared_ptr<const uint8_t> map, MapFile(file, &size));
  auto damaged = [&](const std::string& why) {
    return absl::DataLossError(absl::StrCat("packed cache ", file.string(), " is damaged: ", why));
  };
  if (size < sizeof(kMagic) + 8 || std::memcmp(map.get(), kMagic, sizeof(kMagic)) != 0) {
    return damaged("not a packed cache (bad magic)");
  }
  const uint64_t header_length = ReadU64LittleEndian(map.get() + sizeof(kMagic));
  if (header_length > kMaxHeaderBytes || sizeof(kMagic) + 8 + header_length > size) {
    return damaged("header runs past the end of the file");
  }
  const char* text = reinterpret_cast<const char*>(map.get()) + sizeof(kMagic) + 8;
  nlohmann::json header = nlohmann::json::parse(text, text + header_length, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object()) return damaged("header is not JSON");
  ImageSet set;
  int64_t count = 0;
  try {
    if (header.at("fingerprint").get<std::string>() != fingerprint) {
      return absl::FailedPreconditionError(
          absl::StrCat("packed cache ", file.string(), " is stale: the shards or load options changed"));
    }
    set.image_size = header.at("image_size").get<int>();
    set.channels = header.at("channels").get<int>();
    count = header.at("count").get<int64_t>();
    set.read_report.skipped_by_reason = header.at("skipped_by_reason").get<std::map<std::string, int64_t>>();
    set.read_report.examples = header.at("skip_examples").get<std::vector<std::string>>();
    set.read_report.bad_shards = header.at("bad_shards").get<std::vector<std::string>>();
    set.keys = header.at("keys").get<std::vector<std::string>>();
    set.labels = header.at("labels").get<std::vector<std::map<std::string, std::string>>>();
    set.extra = header.at("extra").get<std::vector<std::map<std::string, std::string>>>();
  } catch (const nlohmann::json::exception& e) {
    return damaged(absl::StrCat("header field: ", e.what()));
  }
  if (set.image_size <= 0 || (set.channels != 1 && set.channels != 3) || count < 0 ||
      static_cast<int64_t>(set.keys.size()) != count || static_cast<int64_t>(set.labels.size()) != count ||
      static_cast<int64_t>(set.extra.size()) != count) {
    return damaged("inconsistent header");
  }
  const uint64_t pixel_offset = PixelOffset(header_length);
  const uint64_t pixel_bytes = static_cast<uint64_t>(count) * static_cast<uint64_t>(set.image_bytes());
  if (pixel_offset + pixel_bytes != size) {
    return damaged(absl::StrCat("expected ", pixel_offset + pixel_bytes, " bytes, found ", size));
  }
  set.mapped = std::shared_ptr<const uint8_t>(map, map.get() + pixel_offset);
  return set;
}

absl::StatusOr<ImageSet> LoadWithPackedCache(const fs::path& root, const LoadOptions& options,
                                             const fs::path& cache_dir, CacheUse* use) {
  ASSIGN_OR_RETURN(std::string fingerprint, DatasetFingerprint(root, options));
  const fs::path file = PackedCachePath(cache_dir, options);
  auto mapped = MapPackedCache(file, fingerprint);
  if (mapped.ok()) {
    if (use != nullptr) *use = CacheUse::kMapped;
    spdlog::info("packed cache: mapped {} images from {}", mapped->size(), file.string());
    if (options.channels != 0 && options.channels != mapped->channels) {
      spdlog::info("packed cache: converting {} channel(s) to {}", mapped->channels, options.channels);
      return ConvertChannels(*mapped, options.channels);
    }
    return mapped;
  }
  if (!absl::IsNotFound(mapped.status())) spdlog::warn("{}; rebuilding it", std::string(mapped.status().message()));
  ASSIGN_OR_RETURN(ImageSet set, LoadDatasetRoot(root, options));
  RETURN_IF_ERROR(WritePackedCache(set, fingerprint, file));
  spdlog::info("packed cache: wrote {} images to {}", set.size(), file.string());
  if (use != nullptr) *use = CacheUse::kBuilt;
  // Map what was written, so that this run and later ones read the same bytes
  // and the decoded copy is freed.
  return MapPackedCache(file, fingerprint);
}

}  // namespace atelier::trainer
