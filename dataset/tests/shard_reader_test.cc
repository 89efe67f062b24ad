#include "atelier/dataset/shard_reader.h"

#include <string>
#include <map>
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

using ReadResult = test_data::ShardRead;

ReadResult ReadAll(const std::filesystem::path& shard, ShardReaderOptions options = {}) {
  return test_data::ReadShard(shard, std::move(options));
}

std::vector<TarEntry> TarEntries(const std::filesystem::path& tar) {
  std::vector<TarEntry> entries;
  auto reader = TarReader::Open(tar);
  EXPECT_OK(reader.status());
  while (true) {
    auto item = (*reader)->Next();
    EXPECT_OK(item.status());
    if (!item.ok() || !item->has_value()) return entries;
    if (auto* entry = std::get_if<TarEntry>(&**item)) entries.push_back(std::move(*entry));
  }
}

std::map<std::string, int64_t> Reasons(std::initializer_list<std::pair<const std::string, int64_t>> reasons) {
  return reasons;
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
// intact, and the cut sample is counted as truncated, naming the file, its key and an offset.
TEST(ShardReaderTest, TruncatedShardKeepsEveryIntactSampleAndCountsTheCutOne) {
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
    std::vector<std::string> example_parts;  // besides the file path
  };
  const std::vector<Cut> cuts = {
      {"mid image header", image.offset_of_header + 100,
       {absl::StrCat("truncated tar header at offset ", image.offset_of_header)}},
      {"mid image data", image.offset_of_header + 512 + image.size / 2,
       {key, absl::StrCat("offset ", image.offset_of_header), "truncated"}},
      {"between image and json", json.offset_of_header, {key, absl::StrCat("offset ", image.offset_of_header)}},
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
    ReadResult read = ReadAll(path);
    EXPECT_OK(read.status);
    ASSERT_EQ(read.samples.size(), 4u);
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(read.samples[i].meta, ExpectedMeta(MakeSample(i)));
      EXPECT_EQ(read.samples[i].image_bytes, MakeSample(i).image_bytes);
    }
    EXPECT_EQ(read.report.skipped_by_reason, Reasons({{"truncated", 1}}));
    ASSERT_EQ(read.report.examples.size(), 1u);
    EXPECT_THAT(read.report.examples[0], HasSubstr(path.string()));
    for (const std::string& part : cut.example_parts) EXPECT_THAT(read.report.examples[0], HasSubstr(part));
  }
}

TEST(ShardReaderTest, CutExactlyBetweenSamplesLosesNothing) {
  TempDir root("shard");
  ASSERT_OK_AND_ASSIGN(CommittedShard shard, test_data::WriteTestShard(root.path(), 0, 10));
  const std::vector<TarEntry> entries = TarEntries(shard.tar_path);
  const auto path = root.path() / "cut.tar";
  test_data::WriteTruncatedCopy(shard.tar_path, path, entries[8].offset_of_header);
  ReadResult read = ReadAll(path);
  EXPECT_EQ(read.samples.size(), 4u);
  EXPECT_EQ(read.report.skipped(), 0);
}

TEST(ShardReaderTest, CutInsideTheEndMarkerLosesNothing) {
  TempDir root("shard");
  ASSERT_OK_AND_ASSIGN(CommittedShard shard, test_data::WriteTestShard(root.path(), 0, 3));
  const auto path = root.path() / "cut.tar";
  for (uint64_t cut : {shard.bytes - 1024 + 200, shard.bytes - 512}) {
    test_data::WriteTruncatedCopy(shard.tar_path, path, cut);
    ReadResult read = ReadAll(path);
    EXPECT_EQ(read.samples.size(), 3u) << cut;
    EXPECT_EQ(read.report, ReadReport{}) << cut;
  }
}

// The finding: a stale sha256 or one invalid JSON used to drop the rest of the shard.
TEST(ShardReaderTest, OneBadSampleCostsOneSample) {
  TempDir root("shard");
  constexpr int kSamples = 1200;
  ASSERT_OK_AND_ASSIGN(CommittedShard shard, test_data::WriteTestShard(root.path(), 0, kSamples));
  const std::vector<TarEntry> entries = TarEntries(shard.tar_path);
  std::string bytes = ::atelier::testing::ReadFileOrEmpty(shard.tar_path);
  // Sample 100: a stale sha256 (one hex digit changed, same length).
  const TarEntry& stale = entries[2 * 100 + 1];
  const size_t hash_at = stale.offset_of_header + 512 + stale.data.find("\"sha256\":\"") + 10;
  bytes[hash_at] = bytes[hash_at] == '0' ? '1' : '0';
  // Sample 700: JSON that does not parse.
  bytes[entries[2 * 700 + 1].offset_of_header + 512] = 'X';
  ::atelier::testing::WriteFileOrDie(shard.tar_path, bytes);

  ReadResult read = ReadAll(shard.tar_path);
  EXPECT_OK(read.status);
  ASSERT_EQ(read.samples.size(), 1198u);
  EXPECT_EQ(read.report.skipped_by_reason, Reasons({{"invalid_json", 1}, {"sha256_mismatch", 1}}));
  ASSERT_EQ(read.report.examples.size(), 2u);
  EXPECT_THAT(read.report.examples[0], AllOf(HasSubstr(MakeSample(100).meta.key), HasSubstr("sha256 mismatch")));
  EXPECT_THAT(read.report.examples[1], AllOf(HasSubstr(MakeSample(700).meta.key + ".json"), HasSubstr("invalid JSON")));
  size_t next = 0;
  for (int i = 0; i < kSamples; ++i) {
    if (i == 100 || i == 700) continue;
    ASSERT_EQ(read.samples[next].meta, ExpectedMeta(MakeSample(i))) << i;
    ++next;
  }
  EXPECT_TRUE(read.report.bad_shards.empty());
}

// A damaged tar header: the reader resynchronises on the next valid header and
// only the sample that lost a member is lost.
TEST(ShardReaderTest, DamagedHeaderCostsOnlyTheDamagedSample) {
  TempDir root("shard");
  constexpr int kSamples = 60;
  ASSERT_OK_AND_ASSIGN(CommittedShard shard, test_data::WriteTestShard(root.path(), 0, kSamples));
  const std::vector<TarEntry> entries = TarEntries(shard.tar_path);
  std::string bytes = ::atelier::testing::ReadFileOrEmpty(shard.tar_path);
  bytes[entries[2 * 10].offset_of_header + 1] ^= 0x20;      // sample 10's image header
  bytes[entries[2 * 30 + 1].offset_of_header + 3] ^= 0x01;  // sample 30's JSON header
  bytes[entries[2 * 45].offset_of_header + 148] = 'x';      // sample 45's image header checksum field
  ::atelier::testing::WriteFileOrDie(shard.tar_path, bytes);

  ReadResult read = ReadAll(shard.tar_path);
  EXPECT_OK(read.status);
  std::vector<SampleMeta> metas, expected;
  for (const Sample& sample : read.samples) metas.push_back(sample.meta);
  for (int i = 0; i < kSamples; ++i) {
    if (i != 10 && i != 30 && i != 45) expected.push_back(ExpectedMeta(MakeSample(i)));
  }
  EXPECT_EQ(metas, expected);
  EXPECT_EQ(read.report.skipped_by_reason, Reasons({{"tar_damage", 3}}));
  ASSERT_EQ(read.report.examples.size(), 3u);
  EXPECT_THAT(read.report.examples[0], AllOf(HasSubstr(MakeSample(10).meta.key),
                                             HasSubstr(absl::StrCat("tar header at offset ", entries[20].offset_of_header)),
                                             HasSubstr(absl::StrCat("resumes at the next valid tar header, offset ",
                                                                    entries[21].offset_of_header))));
  EXPECT_THAT(read.report.examples[1], HasSubstr(MakeSample(30).meta.key));
}

TEST(ShardReaderTest, EmptyShardAndShardWithoutSamplesAreNamed) {
  TempDir dir("shard");
  ::atelier::testing::WriteFileOrDie(dir / "empty.tar", "");
  ReadResult empty = ReadAll(dir / "empty.tar");
  EXPECT_TRUE(empty.samples.empty());
  ASSERT_EQ(empty.report.bad_shards.size(), 1u);
  EXPECT_THAT(empty.report.bad_shards[0], AllOf(HasSubstr((dir / "empty.tar").string()), HasSubstr("0 bytes")));

  ASSERT_OK(test_data::WriteTar(dir / "readme.tar", {{"README", "not a sample"}}));
  ReadResult readme = ReadAll(dir / "readme.tar");
  EXPECT_TRUE(readme.samples.empty());
  EXPECT_EQ(readme.report.skipped(), 0) << "entries without a dot are not samples (WebDataset ignores them)";
  ASSERT_EQ(readme.report.bad_shards.size(), 1u);
  EXPECT_THAT(readme.report.bad_shards[0], AllOf(HasSubstr("readme.tar"), HasSubstr("no intact sample")));

  EXPECT_THAT(ShardReader::Open(dir.path()), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a regular file")));
}

TEST(ShardReaderTest, SampleWithoutJsonIsReadAndOneWithoutImageIsSkipped) {
  TempDir dir("shard");
  const Sample a = MakeSample(0), b = MakeSample(3), c = MakeSample(6);
  auto image = [](const Sample& s) {
    return std::make_pair(s.meta.key + "." + std::string(ImageExtension(s.format)), s.image_bytes);
  };
  auto json = [](const Sample& s) {
    return std::make_pair(s.meta.key + ".json", SampleMetaToJson(ExpectedMeta(s)));
  };
  ASSERT_OK(test_data::WriteTar(dir / "mid.tar", {image(a), json(a), image(b), json(c), image(c)}));
  ReadResult mid = ReadAll(dir / "mid.tar");
  ASSERT_EQ(mid.samples.size(), 3u);
  EXPECT_EQ(mid.samples[0].meta, ExpectedMeta(a));
  EXPECT_EQ(mid.samples[1].meta.key, b.meta.key);
  EXPECT_EQ(mid.samples[1].image_bytes, b.image_bytes);
  EXPECT_TRUE(mid.samples[1].meta.labels.empty());
  EXPECT_EQ(mid.samples[2].meta, ExpectedMeta(c)) << "json before image is accepted";
  EXPECT_EQ(mid.report.skipped(), 0);

  ASSERT_OK(test_data::WriteTar(dir / "orphan.tar", {json(b), json(c), image(c)}));
  ReadResult orphan = ReadAll(dir / "orphan.tar");
  ASSERT_EQ(orphan.samples.size(), 1u);
  EXPECT_EQ(orphan.samples[0].meta.key, c.meta.key);
  EXPECT_EQ(orphan.report.skipped_by_reason, Reasons({{"no_image", 1}}));
  EXPECT_THAT(orphan.report.examples[0], HasSubstr(b.meta.key));
}

TEST(ShardReaderTest, DetectsSha256MismatchButDoesNotRequireAHash) {
  TempDir dir("shard");
  Sample s = MakeSample(1);
  SampleMeta meta = ExpectedMeta(s);
  std::string tampered = s.image_bytes;
  tampered.back() ^= 1;
  ASSERT_OK(test_data::WriteTar(dir / "bad.tar", {{s.meta.key + ".png", tampered},
                                                  {s.meta.key + ".json", SampleMetaToJson(meta)}}));
  ReadResult bad = ReadAll(dir / "bad.tar");
  EXPECT_TRUE(bad.samples.empty());
  EXPECT_EQ(bad.report.skipped_by_reason, Reasons({{"sha256_mismatch", 1}}));
  EXPECT_THAT(bad.report.examples[0], AllOf(HasSubstr((dir / "bad.tar").string()), HasSubstr(s.meta.key),
                                            HasSubstr("sha256 mismatch"), HasSubstr(Sha256Hex(tampered))));
  ReadResult unverified = ReadAll(dir / "bad.tar", ShardReaderOptions{.verify_sha256 = false, .label_fields = {}});
  ASSERT_EQ(unverified.samples.size(), 1u);
  EXPECT_EQ(unverified.samples[0].image_bytes, tampered);

  meta.sha256.clear();
  ASSERT_OK(test_data::WriteTar(dir / "nohash.tar", {{s.meta.key + ".png", s.image_bytes},
                                                     {s.meta.key + ".json", SampleMetaToJson(meta)}}));
  ReadResult nohash = ReadAll(dir / "nohash.tar");
  ASSERT_EQ(nohash.samples.size(), 1u) << "a sha256 is verified when present, not required";
  EXPECT_EQ(nohash.report.skipped(), 0);
}

TEST(ShardReaderTest, SkipsEntriesThatDisagree) {
  TempDir dir("shard");
  const Sample s = MakeSample(0);
  SampleMeta other_key = ExpectedMeta(s);
  other_key.key = "bam-999";
  SampleMeta other_format = ExpectedMeta(s);
  other_format.image_format = "png";
  const std::string image_name = s.meta.key + ".jpg";
  const std::string json_name = s.meta.key + ".json";
  struct Case {
    std::string reason, example;
    std::vector<std::pair<std::string, std::string>> entries;
  };
  const std::vector<Case> cases = {
      {"metadata_mismatch", "says key \"bam-999\"", {{image_name, s.image_bytes}, {json_name, SampleMetaToJson(other_key)}}},
      {"metadata_mismatch", "says image_format \"png\"",
       {{image_name, s.image_bytes}, {json_name, SampleMetaToJson(other_format)}}},
      {"invalid_json", "invalid JSON", {{image_name, s.image_bytes}, {json_name, "{\"key\":"}}},
      {"invalid_json", "field \"width\" must be", {{image_name, s.image_bytes}, {json_name, R"({"width": "wide"})"}}},
      {"no_image", "no image member", {{s.meta.key + ".txt", "hello"}}},
      {"several_images", "more than one image member", {{image_name, s.image_bytes}, {s.meta.key + ".png", "x"}}},
      {"duplicate_member", "two members with the extension .jpg", {{image_name, s.image_bytes}, {image_name, "x"}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.reason);
    ASSERT_OK(test_data::WriteTar(dir / "x.tar", c.entries));
    ReadResult read = ReadAll(dir / "x.tar");
    EXPECT_TRUE(read.samples.empty());
    EXPECT_EQ(read.report.skipped_by_reason, Reasons({{c.reason, 1}}));
    ASSERT_EQ(read.report.examples.size(), 1u);
    EXPECT_THAT(read.report.examples[0], AllOf(HasSubstr("x.tar"), HasSubstr(c.example)));
  }
}

TEST(ShardReaderTest, MissingShardIsNotFound) {
  TempDir dir("shard");
  EXPECT_THAT(ShardReader::Open(dir / "000001.tar"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("000001.tar")));
  EXPECT_THAT(ListShard(dir / "000001.tar"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ReadSampleJson(dir / "000001.tar", "bam-1"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ReadSampleMeta(dir / "000001.tar", "bam-1"), StatusIs(absl::StatusCode::kNotFound));
}

TEST(ShardReaderTest, ListShardSummarisesGoodAndTruncatedShards) {
  TempDir root("shard");
  ASSERT_OK_AND_ASSIGN(CommittedShard shard, test_data::WriteTestShard(root.path(), 0, 12));
  const std::vector<TarEntry> entries = TarEntries(shard.tar_path);
  ASSERT_OK_AND_ASSIGN(ShardListing listing, ListShard(shard.tar_path));
  EXPECT_EQ(listing.report, ReadReport{});
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
  EXPECT_EQ(partial.report.skipped_by_reason, Reasons({{"truncated", 1}}));
  EXPECT_THAT(partial.report.examples[0], AllOf(HasSubstr(cut.string()), HasSubstr(MakeSample(7).meta.key)));
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
