#include "test_samples.h"

#include <algorithm>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "atelier/common/status_macros.h"
#include "atelier/dataset/sample_key.h"
#include "atelier/dataset/sha256.h"
#include "atelier/dataset/tar_writer.h"
#include "atelier/testing/temp_dir.h"

namespace atelier::dataset::test_data {

std::string FakeImage(ImageFormat format, size_t size, uint32_t seed) {
  std::string magic;
  switch (format) {
    case ImageFormat::kJpeg:
      magic = std::string("\xFF\xD8\xFF\xE0", 4);
      break;
    case ImageFormat::kPng:
      magic = std::string("\x89PNG\r\n\x1A\n", 8);
      break;
    case ImageFormat::kWebp: {
      const uint32_t riff_size = static_cast<uint32_t>(std::max<size_t>(size, 12) - 8);
      magic = "RIFF";
      for (int shift = 0; shift < 32; shift += 8) magic.push_back(static_cast<char>(riff_size >> shift));
      magic += "WEBP";
      break;
    }
  }
  std::string bytes = magic;
  uint32_t state = seed * 2654435761u + 1;
  while (bytes.size() < size) {
    state = state * 1664525u + 1013904223u;
    bytes.push_back(static_cast<char>(state >> 24));
  }
  return bytes;
}

Sample MakeSample(int i) {
  // Sizes around block boundaries; 0 means "just the magic bytes".
  static constexpr size_t kSizes[] = {0, 511, 512, 513, 1024, 100, 1536, 2047, 2048, 3000, 4096, 7};
  static constexpr ImageFormat kFormats[] = {ImageFormat::kJpeg, ImageFormat::kPng, ImageFormat::kWebp};
  Sample sample;
  sample.format = kFormats[i % 3];
  sample.image_bytes = FakeImage(sample.format, kSizes[(i / 3) % std::size(kSizes)] + (i / 36) % 3,
                                 static_cast<uint32_t>(i));
  SampleMeta& meta = sample.meta;
  switch (i % 3) {
    case 0:
      meta.key = BamKey(100000 + i);
      meta.source = "bam";
      meta.url = absl::StrCat("https://mir-s3-cdn-cf.behance.net/project_modules/disp/", i, ".jpg");
      meta.labels = {{"media", i % 2 ? "oilpaint" : "watercolor"}, {"emotion", "happy"}};
      break;
    case 1:
      meta.key = MetKey(436535 + i, i % 4);
      meta.source = "met";
      meta.url = absl::StrCat("https://images.metmuseum.org/CRDImages/ci/original/", i, ".png");
      meta.labels = {{"country", "France"}, {"decade", absl::StrCat(1800 + (i % 10) * 10, "s")}};
      meta.extra = {{"title", absl::StrCat("Robe à la française \"n°", i, "\"\n")},
                    {"object_date", "ca. 1760"}};
      break;
    default:
      meta.url = absl::StrCat("https://example.org/art?id=", i, "&q=日本");
      meta.key = UrlKey(meta.url);
      meta.source = "url";
      break;
  }
  meta.width = 224 + i % 7;
  meta.height = 224 - i % 5;
  meta.original_width = 4000 + i;
  meta.original_height = 3000 + 2 * i;
  if (i % 4 == 0) meta.sha256 = Sha256Hex(sample.image_bytes);
  if (i % 5 == 0) meta.image_format = std::string(ImageExtension(sample.format));
  return sample;
}

SampleMeta ExpectedMeta(const Sample& sample) {
  SampleMeta meta = sample.meta;
  meta.sha256 = Sha256Hex(sample.image_bytes);
  meta.image_format = std::string(ImageExtension(sample.format));
  return meta;
}

absl::StatusOr<CommittedShard> WriteTestShard(const std::filesystem::path& root, uint64_t index,
                                              int count) {
  ASSIGN_OR_RETURN(auto writer, ShardWriter::Open(root, index));
  for (int i = 0; i < count; ++i) RETURN_IF_ERROR(writer->Add(MakeSample(i)));
  ShardStats stats;
  stats.items_total = stats.ok = count;
  return writer->Commit(stats);
}

absl::Status WriteTar(const std::filesystem::path& path,
                      const std::vector<std::pair<std::string, std::string>>& entries, bool finish) {
  std::string bytes;
  TarWriter tar([&bytes](std::string_view data) {
    bytes.append(data);
    return absl::OkStatus();
  });
  for (const auto& [name, data] : entries) RETURN_IF_ERROR(tar.AddFile(name, data, 1700000000));
  if (finish) RETURN_IF_ERROR(tar.Finish());
  atelier::testing::WriteFileOrDie(path, bytes);
  return absl::OkStatus();
}

void WriteTruncatedCopy(const std::filesystem::path& from, const std::filesystem::path& to,
                        uint64_t length) {
  const std::string bytes = atelier::testing::ReadFileOrEmpty(from);
  atelier::testing::WriteFileOrDie(to, bytes.substr(0, length));
}

ShardRead ReadShard(const std::filesystem::path& shard, ShardReaderOptions options) {
  ShardRead result;
  auto reader = ShardReader::Open(shard, std::move(options));
  if (!reader.ok()) {
    result.status = reader.status();
    return result;
  }
  while (true) {
    auto sample = (*reader)->Next();
    if (!sample.ok()) result.status = sample.status();
    if (!sample.ok() || !sample->has_value()) break;
    result.samples.push_back(std::move(**sample));
  }
  result.report = (*reader)->report();
  return result;
}

std::vector<std::string> FileNames(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace atelier::dataset::test_data
