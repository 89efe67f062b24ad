#include "atelier/dataset/shard_reader.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "atelier/common/status_matchers.h"
#include "atelier/dataset/sha256.h"
#include "atelier/dataset/shard_writer.h"
#include "atelier/dataset/tar_reader.h"
#include "atelier/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_samples.h"

namespace atelier::dataset {
namespace {

using ::atelier::testing::StatusIs;
using ::atelier::testing::TempDir;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using test_data::ExpectedMeta;
using test_data::MakeSample;

// Reads samples until the end or an error; returns them and the final status.
std::pair<std::vector<Sample>, absl::Status> ReadAll(const std::filesystem::path& shard,
                                                     ShardReaderOptions options = {}) {
  std::vector<Sample> samples;
  auto reader = ShardReader::Open(shard, options);
  if (!reader.ok()) return {samples, reader.status()};
  while (true) {
    auto sample = (*reader)->Next();
    if (!sample.ok()) return {std::move(samples), sample.status()};
    if (!sample->has_value()) return {std::move(samples), absl::OkStatus()};
    samples.push_back(std::move(**sample));
  }
}

std::vector<TarEntry> TarEntries(const std::filesystem::path& tar) {
  std::vector<TarEntry> entries;
  auto reader = TarReader::Open(tar);
  EXPECT_OK(reader.status());
  while (true) {
    auto entry = (*reader)->Next();
    EXPECT_OK(entry.status());
    if (!entry.ok() || !entry->has_value()) return entries;
    entries.push_back(std::move(**entry));
  }
}

TEST(ShardReaderTest, RoundTripsAThousandMixedSamples) {
  TempDir root("shard");
  constexpr int kSamples = 1000;
  ASSERT_OK_AND_ASSIGN(CommittedShard shard, test_data::WriteTestShard(root.path(), 0, kSamples));
  ASSERT_OK_AND_ASSIGN(auto reader, ShardReader::Open(shard.tar_path));
  uint64_t previous_offset = 0;
  for (int i = 0; i < kSamples; ++i) {
    ASSERT_OK_AND_ASSIGN(std::optional<Sample> sample, reader->Next());
    ASSERT_TRUE(sample.has_value()) << i;
    const Sample expected = MakeSample(i);
    EXPECT_EQ(sample->meta, ExpectedMeta(expected)) << i;
    EXPECT_EQ(sample->format, expected.format) << i;
    EXPECT_EQ(sample->image_bytes, expected.image_bytes) << i;
    if (i > 0) {
      EXPECT_GT(reader->sample_offset(), previous_offset);
    }
    previous_offset = reader->sample_offset();
  }
  for (int i = 0; i < 2; ++i) {
    ASSERT_OK_AND_ASSIGN(std::optional<Sample> end, reader->Next());
    EXPECT_FALSE(end.has_value());
  }
}

TEST(ShardReaderTest, WritesImageThenJsonForEachKey) {
  TempDir root("shard");
  ASSERT_OK_AND_ASSIGN(CommittedShard shard, test_data::WriteTestShard(root.path(), 0, 6));
  const std::vector<TarEntry> entries = TarEntries(shard.tar_path);
  ASSERT_EQ(entries.size(), 12u);
  for (int i = 0; i < 6; ++i) {
    const Sample sample = MakeSample(i);
    EXPECT_EQ(entries[2 * i].name, sample.meta.key + "." + std::string(ImageExtension(sample.format)));
    EXPECT_EQ(entries[2 * i + 1].name, sample.meta.key + ".json");
    EXPECT_EQ(entries[2 * i + 1].data, SampleMetaToJson(ExpectedMeta(sample)));
  }
}

// Truncated copies of a 10-sample shard: every sample before the cut comes back
// intact, then DataLoss naming the file, the broken sample's key and an offset.
TEST(ShardReaderTest, TruncatedShardYieldsIntactSamplesThenDataLoss) {
  TempDir root("shard");
  ASSERT_OK_AND_ASSIGN(CommittedShard shard, test_data::WriteTestShard(root.path(), 0, 10));
  const std::vector<TarEntry> entries = TarEntries(shard.tar_path);
  ASSERT_EQ(entries.size(), 20u);
  const TarEntry& image = entries[8];  // sample 4
  const TarEntry& json = entries[9];
  const std::string key = MakeSample(4).meta.key;
  ASSERT_NE(json.size % 512, 0u) << "the padding cut below needs padding";
  struct Cut {
    std::string what;
    uint64_t length;
    std::vector<std::string> message_parts;  // besides the file path
  };
  const std::vector<Cut> cuts = {
      {"mid image header", image.offset_of_header + 100,
       {absl::StrCat("truncated tar header at offset ", image.offset_of_header)}},
      {"mid image data", image.offset_of_header + 512 + image.size / 2,
       {key, absl::StrCat("offset ", image.offset_of_header), "truncated"}},
      {"between image and json", json.offset_of_header,
       {key, absl::StrCat("offset ", image.offset_of_header), "no .json entry"}},
      {"mid json header", json.offset_of_header + 511,
       {key, absl::StrCat("truncated tar header at offset ", json.offset_of_header)}},
      {"mid json data", json.offset_of_header + 512 + json.size / 2,
       {key, absl::StrCat("offset ", json.offset_of_header), "truncated"}},
      {"mid json padding", json.offset_of_header + 512 + json.size,
       {key, absl::StrCat("offset ", json.offset_of_header), "truncated"}},
  };
  for (const Cut& cut : cuts) {
    SCOPED_TRACE(cut.what);
    const auto path = root.path() / ("cut-" + std::to_string(cut.length) + ".tar");
    test_data::WriteTruncatedCopy(shard.tar_path, path, cut.length);
    auto [samples, status] = ReadAll(path);
    ASSERT_EQ(samples.size(), 4u);
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(samples[i].meta, ExpectedMeta(MakeSample(i)));
      EXPECT_EQ(samples[i].image_bytes, MakeSample(i).image_bytes);
    }
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kDataLoss, HasSubstr(path.string())));
    for (const std::string& part : cut.message_parts) {
      EXPECT_THAT(std::string(status.message()), HasSubstr(part));
    }
  }
}

TEST(ShardReaderTest, CutExactlyBetweenSamplesIsACleanEnd) {
  TempDir root("shard");
  ASSERT_OK_AND_ASSIGN(CommittedShard shard, test_data::WriteTestShard(root.path(), 0, 10));
  const std::vector<TarEntry> entries = TarEntries(shard.tar_path);
  const auto path = root.path() / "cut.tar";
  test_data::WriteTruncatedCopy(shard.tar_path, path, entries[8].offset_of_header);
  auto [samples, status] = ReadAll(path);
  EXPECT_OK(status);
  EXPECT_EQ(samples.size(), 4u);
}

TEST(ShardReaderTest, CutInsideTheEndMarkerIsDataLossAfterAllSamples) {
  TempDir root("shard");
  ASSERT_OK_AND_ASSIGN(CommittedShard shard, test_data::WriteTestShard(root.path(), 0, 3));
  const auto path = root.path() / "cut.tar";
  test_data::WriteTruncatedCopy(shard.tar_path, path, shard.bytes - 1024 + 200);
  auto [samples, status] = ReadAll(path);
  EXPECT_EQ(samples.size(), 3u);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kDataLoss,
                               HasSubstr(absl::StrCat("truncated tar header at offset ", shard.bytes - 1024))));
  // One complete zero block is an end marker, as GNU tar and Python accept.
  test_data::WriteTruncatedCopy(shard.tar_path, path, shard.bytes - 512);
  EXPECT_OK(ReadAll(path).second);
}

TEST(ShardReaderTest, ErrorIsStickyAfterwards) {
  TempDir root("shard");
  ASSERT_OK_AND_ASSIGN(CommittedShard shard, test_data::WriteTestShard(root.path(), 0, 3));
  const auto path = root.path() / "cut.tar";
  test_data::WriteTruncatedCopy(shard.tar_path, path, 700);
  ASSERT_OK_AND_ASSIGN(auto reader, ShardReader::Open(path));
  const absl::Status first = reader->Next().status();
  EXPECT_THAT(first, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_EQ(reader->Next().status(), first);
  EXPECT_EQ(reader->Next().status(), first);
}

TEST(ShardReaderTest, SampleMissingItsJsonIsAClearError) {
  TempDir dir("shard");
  const Sample a = MakeSample(0), b = MakeSample(3), c = MakeSample(6);
  auto image = [](const Sample& s) {
    return std::make_pair(s.meta.key + "." + std::string(ImageExtension(s.format)), s.image_bytes);
  };
  auto json = [](const Sample& s) {
    return std::make_pair(s.meta.key + ".json", SampleMetaToJson(ExpectedMeta(s)));
  };
  ASSERT_OK(test_data::WriteTar(dir / "mid.tar", {image(a), json(a), image(b), image(c), json(c)}));
  auto [samples, status] = ReadAll(dir / "mid.tar");
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].meta.key, a.meta.key);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kDataLoss,
                               AllOf(HasSubstr((dir / "mid.tar").string()),
                                     HasSubstr("sample " + b.meta.key), HasSubstr("no .json entry"),
                                     HasSubstr("the next entry is " + c.meta.key + ".jpg"))));

  ASSERT_OK(test_data::WriteTar(dir / "last.tar", {json(a), image(a), image(b)}));
  auto [last_samples, last_status] = ReadAll(dir / "last.tar");
  EXPECT_EQ(last_samples.size(), 1u) << "json before image is accepted";
  EXPECT_THAT(last_status, StatusIs(absl::StatusCode::kDataLoss,
                                    AllOf(HasSubstr(b.meta.key), HasSubstr("the archive ends"))));

  ASSERT_OK(test_data::WriteTar(dir / "orphan.tar", {json(b), json(c), image(c)}));
  EXPECT_THAT(ReadAll(dir / "orphan.tar").second,
              StatusIs(absl::StatusCode::kDataLoss, AllOf(HasSubstr(b.meta.key), HasSubstr("no image entry"))));
}

TEST(ShardReaderTest, DetectsSha256Mismatch) {
  TempDir dir("shard");
  Sample s = MakeSample(1);
  SampleMeta meta = ExpectedMeta(s);
  std::string tampered = s.image_bytes;
  tampered.back() ^= 1;
  ASSERT_OK(test_data::WriteTar(dir / "bad.tar", {{s.meta.key + ".png", tampered},
                                                  {s.meta.key + ".json", SampleMetaToJson(meta)}}));
  EXPECT_THAT(ReadAll(dir / "bad.tar").second,
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr((dir / "bad.tar").string()), HasSubstr(s.meta.key),
                             HasSubstr("sha256 mismatch"), HasSubstr(Sha256Hex(tampered)))));
  auto [samples, status] = ReadAll(dir / "bad.tar", ShardReaderOptions{.verify_sha256 = false});
  EXPECT_OK(status);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].image_bytes, tampered);

  meta.sha256.clear();
  ASSERT_OK(test_data::WriteTar(dir / "nohash.tar", {{s.meta.key + ".png", s.image_bytes},
                                                     {s.meta.key + ".json", SampleMetaToJson(meta)}}));
  EXPECT_THAT(ReadAll(dir / "nohash.tar").second,
              StatusIs(absl::StatusCode::kDataLoss, AllOf(HasSubstr(s.meta.key), HasSubstr("sha256"))));
}

TEST(ShardReaderTest, RejectsEntriesThatDisagree) {
  TempDir dir("shard");
  const Sample s = MakeSample(0);
  SampleMeta other_key = ExpectedMeta(s);
  other_key.key = "bam-999";
  SampleMeta other_format = ExpectedMeta(s);
  other_format.image_format = "png";
  const std::string image_name = s.meta.key + ".jpg";
  const std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>> cases = {
      {"says key \"bam-999\"", {{image_name, s.image_bytes}, {s.meta.key + ".json", SampleMetaToJson(other_key)}}},
      {"says image_format \"png\"",
       {{image_name, s.image_bytes}, {s.meta.key + ".json", SampleMetaToJson(other_format)}}},
      {"invalid JSON", {{image_name, s.image_bytes}, {s.meta.key + ".json", "{\"key\":"}}},
      {"expected .json or an image", {{s.meta.key + ".txt", "hello"}}},
      {"not a <key>.<ext> sample entry", {{"README", "hello"}}},
      {"invalid sample key", {{"a b.jpg", s.image_bytes}}},
  };
  for (const auto& [expected, entries] : cases) {
    ASSERT_OK(test_data::WriteTar(dir / "x.tar", entries));
    EXPECT_THAT(ReadAll(dir / "x.tar").second,
                StatusIs(absl::StatusCode::kDataLoss, AllOf(HasSubstr("x.tar"), HasSubstr(expected))));
  }
}

TEST(ShardReaderTest, MissingShardIsNotFound) {
  TempDir dir("shard");
  EXPECT_THAT(ShardReader::Open(dir / "000001.tar"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("000001.tar")));
  EXPECT_THAT(ListShard(dir / "000001.tar"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ReadSampleMeta(dir / "000001.tar", "bam-1"), StatusIs(absl::StatusCode::kNotFound));
}

TEST(ShardReaderTest, ListShardSummarisesGoodAndTruncatedShards) {
  TempDir root("shard");
  ASSERT_OK_AND_ASSIGN(CommittedShard shard, test_data::WriteTestShard(root.path(), 0, 12));
  const std::vector<TarEntry> entries = TarEntries(shard.tar_path);
  ASSERT_OK_AND_ASSIGN(ShardListing listing, ListShard(shard.tar_path));
  EXPECT_OK(listing.error);
  ASSERT_EQ(listing.samples.size(), 12u);
  for (int i = 0; i < 12; ++i) {
    const Sample s = MakeSample(i);
    EXPECT_EQ(listing.samples[i].key, s.meta.key);
    EXPECT_EQ(listing.samples[i].image_format, ImageExtension(s.format));
    EXPECT_EQ(listing.samples[i].image_bytes, s.image_bytes.size());
    EXPECT_EQ(listing.samples[i].offset, entries[2 * i].offset_of_header);
  }

  const auto cut = root.path() / "cut.tar";
  test_data::WriteTruncatedCopy(shard.tar_path, cut, entries[15].offset_of_header + 600);
  ASSERT_OK_AND_ASSIGN(ShardListing partial, ListShard(cut));
  EXPECT_EQ(partial.samples.size(), 7u);
  EXPECT_THAT(partial.error, StatusIs(absl::StatusCode::kDataLoss,
                                      AllOf(HasSubstr(cut.string()), HasSubstr(MakeSample(7).meta.key))));
}

TEST(ShardReaderTest, ReadSampleMetaFindsKeysOrNamesWhatIsMissing) {
  TempDir root("shard");
  ASSERT_OK_AND_ASSIGN(CommittedShard shard, test_data::WriteTestShard(root.path(), 0, 12));
  ASSERT_OK_AND_ASSIGN(SampleMeta meta, ReadSampleMeta(shard.tar_path, MakeSample(10).meta.key));
  EXPECT_EQ(meta, ExpectedMeta(MakeSample(10)));
  EXPECT_THAT(ReadSampleMeta(shard.tar_path, "bam-424242"),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("bam-424242"), HasSubstr(shard.tar_path.string()))));

  const std::vector<TarEntry> entries = TarEntries(shard.tar_path);
  const auto cut = root.path() / "cut.tar";
  test_data::WriteTruncatedCopy(shard.tar_path, cut, entries[15].offset_of_header + 600);
  ASSERT_OK_AND_ASSIGN(SampleMeta intact, ReadSampleMeta(cut, MakeSample(2).meta.key));
  EXPECT_EQ(intact, ExpectedMeta(MakeSample(2)));
  EXPECT_THAT(ReadSampleMeta(cut, MakeSample(10).meta.key),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr(MakeSample(10).meta.key), HasSubstr(cut.string()))));
  EXPECT_THAT(ReadSampleMeta(cut, "bam-424242"), Not(StatusIs(absl::StatusCode::kNotFound)));
}

}  // namespace
}  // namespace atelier::dataset
