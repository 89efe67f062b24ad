// Shards atelier did not write: img2dataset's layout written by Python's
// tarfile (pax headers, no atelier sha256, members in any order, .cls/.txt
// members, keys under directories with dots), read by ShardReader.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "atelier/common/status_matchers.h"
#include "atelier/dataset/shard_reader.h"
#include "atelier/testing/subprocess.h"
#include "atelier/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_samples.h"

namespace atelier::dataset {
namespace {

using ::atelier::testing::RunCommand;
using ::atelier::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::Pair;

std::filesystem::path WriteImg2datasetShard(const std::filesystem::path& dir) {
  const auto shard = dir / "00000.tar";
  const auto result = RunCommand({"/usr/bin/python3", ATELIER_IMG2DATASET_SCRIPT, shard.string()});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  return shard;
}

std::vector<Sample> ReadAll(const std::filesystem::path& shard, ShardReaderOptions options, ReadReport* report) {
  test_data::ShardRead read = test_data::ReadShard(shard, std::move(options));
  EXPECT_OK(read.status);
  *report = read.report;
  return std::move(read.samples);
}

TEST(ForeignShardTest, ReadsAnImg2datasetShardWrittenByPythonTarfile) {
  TempDir dir("foreign");
  const auto shard = WriteImg2datasetShard(dir.path());
  ReadReport report;
  const std::vector<Sample> samples = ReadAll(shard, {}, &report);
  EXPECT_EQ(report, ReadReport{}) << report.Summary();
  ASSERT_EQ(samples.size(), 6u);
  std::vector<std::string> keys, formats;
  for (const Sample& s : samples) {
    keys.push_back(s.meta.key);
    formats.push_back(s.meta.image_format);
  }
  EXPECT_THAT(keys, ElementsAre("000000000", "000000001", "000000002", "part.v1/000000003", "000000004",
                                "deep/" + std::string(120, 'd') + "/000000005"));
  EXPECT_THAT(formats, ElementsAre("jpg", "jpg", "jpg", "jpg", "webp", "png"));
  // img2dataset's sha256 is of the download, not of the stored bytes: not compared.
  EXPECT_EQ(samples[0].meta.url, "https://example.org/images/0.jpg");
  EXPECT_EQ(samples[0].meta.width, 256);
  EXPECT_EQ(samples[0].meta.original_width, 640);
  EXPECT_EQ(samples[0].image_bytes.substr(0, 4), "\xFF\xD8\xFF\xE0");
  EXPECT_EQ(samples[0].image_bytes.size(), 304u);  // 4 magic bytes + 300
  // Without --label-field: a .cls member is head "cls".
  for (size_t i = 0; i < samples.size(); ++i) {
    EXPECT_THAT(samples[i].meta.labels, ElementsAre(Pair("cls", std::to_string(i == 3 ? 0 : i % 3))));
  }

  ASSERT_OK_AND_ASSIGN(ShardListing listing, ListShard(shard));
  EXPECT_EQ(listing.samples.size(), 6u);
  ASSERT_OK_AND_ASSIGN(std::string json, ReadSampleJson(shard, "000000001"));
  EXPECT_THAT(json, ::testing::HasSubstr("\"caption\": \"a painting number 1\"")) << "the stored .json, as is";
}

TEST(ForeignShardTest, LabelsComeFromNamedJsonFieldsAndMembers) {
  TempDir dir("foreign");
  const auto shard = WriteImg2datasetShard(dir.path());
  ASSERT_OK_AND_ASSIGN(auto fields, ParseLabelFields("style=style,caption=.txt,w=width,status"));
  ReadReport report;
  const std::vector<Sample> samples = ReadAll(shard, ShardReaderOptions{.verify_sha256 = true, .label_fields = fields}, &report);
  EXPECT_EQ(report.skipped(), 0) << report.Summary();
  ASSERT_EQ(samples.size(), 6u);
  EXPECT_EQ(samples[1].meta.labels,
            (std::map<std::string, std::string>{
                {"style", "cubism"}, {"caption", "a painting number 1"}, {"w", "256"}, {"status", "success"}}));

  ASSERT_OK_AND_ASSIGN(auto nested, ParseLabelFields("e=exif,missing=no.such.field"));
  const std::vector<Sample> unlabelled = ReadAll(shard, ShardReaderOptions{.verify_sha256 = true, .label_fields = nested}, &report);
  ASSERT_EQ(unlabelled.size(), 6u);
  EXPECT_EQ(unlabelled[0].meta.labels, (std::map<std::string, std::string>{{"e", "{}"}}));
}

// The same shard grouped by webdataset's own rule (base_plus_ext and
// group_by_keys, written out in Python: Debian has no python3-webdataset).
TEST(ForeignShardTest, GroupsSamplesAsWebDatasetDoes) {
  TempDir dir("foreign");
  const auto shard = WriteImg2datasetShard(dir.path());
  constexpr char kScript[] = R"py(
import json, re, sys, tarfile
samples = []
with tarfile.open(sys.argv[1], mode="r|*") as stream:
    for info in stream:
        if not info.isreg() or re.match(r"__[^/]*__($|/)", info.name):
            continue
        match = re.match(r"^((?:.*/|)[^.]+)[.]([^/]*)$", info.name)
        if not match:
            continue
        key, ext = match.group(1), match.group(2).lower()
        if not samples or samples[-1]["__key__"] != key:
            samples.append({"__key__": key})
        samples[-1][ext] = stream.extractfile(info).read()
for s in samples:
    print(s["__key__"], ",".join(sorted(k for k in s if k != "__key__")), json.loads(s["cls"]))
)py";
  const auto result = RunCommand({"/usr/bin/python3", "-c", kScript, shard.string()});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  std::string expected;
  ReadReport report;
  for (const Sample& s : ReadAll(shard, {}, &report)) {
    std::vector<std::string> exts = {"cls", "json", "txt"};
    exts.push_back(s.meta.key == "part.v1/000000003" ? "jpeg" : s.meta.image_format);
    if (s.meta.key == "000000004") exts.push_back("seg.png");
    std::sort(exts.begin(), exts.end());
    expected += s.meta.key + " " + absl::StrJoin(exts, ",") + " " + s.meta.labels.at("cls") + "\n";
  }
  EXPECT_EQ(result.output, expected) << "atelier groups samples as webdataset does";
}

}  // namespace
}  // namespace atelier::dataset
