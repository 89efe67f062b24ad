// Shards must read with standard tools: GNU tar and Python's tarfile (what the
// `webdataset` package uses).
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "atelier/common/status_matchers.h"
#include "atelier/dataset/sha256.h"
#include "atelier/testing/subprocess.h"
#include "atelier/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_samples.h"

namespace atelier::dataset {
namespace {

using ::atelier::testing::ReadFileOrEmpty;
using ::atelier::testing::RunCommand;
using ::atelier::testing::TempDir;
using ::testing::StartsWith;

constexpr int kSamples = 60;

// (entry name, bytes) in archive order for WriteTestShard(..., kSamples).
std::vector<std::pair<std::string, std::string>> ExpectedEntries() {
  std::vector<std::pair<std::string, std::string>> entries;
  for (int i = 0; i < kSamples; ++i) {
    const Sample sample = test_data::MakeSample(i);
    entries.emplace_back(sample.meta.key + "." + std::string(ImageExtension(sample.format)),
                         sample.image_bytes);
    entries.emplace_back(sample.meta.key + ".json", SampleMetaToJson(test_data::ExpectedMeta(sample)));
  }
  return entries;
}

TEST(ShardTarCompatTest, GnuTarListsAndExtractsByteIdenticalFiles) {
  TempDir root("compat");
  ASSERT_OK_AND_ASSIGN(CommittedShard shard, test_data::WriteTestShard(root.path(), 0, kSamples));
  const auto expected = ExpectedEntries();
  std::string names;
  for (const auto& [name, bytes] : expected) absl::StrAppend(&names, name, "\n");

  const auto list = RunCommand({"tar", "-tf", shard.tar_path.string()});
  ASSERT_EQ(list.exit_code, 0) << list.output;
  EXPECT_EQ(list.output, names);

  const auto verbose = RunCommand({"tar", "-tvf", shard.tar_path.string()});
  ASSERT_EQ(verbose.exit_code, 0) << verbose.output;
  const std::vector<std::string> lines = absl::StrSplit(verbose.output, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), expected.size());
  for (const std::string& line : lines) EXPECT_THAT(line, StartsWith("-rw-r--r-- atelier/atelier "));

  TempDir out("extract");
  const auto extract = RunCommand({"tar", "-xf", shard.tar_path.string(), "-C", out.path().string()});
  ASSERT_EQ(extract.exit_code, 0) << extract.output;
  EXPECT_EQ(extract.output, "");
  EXPECT_EQ(test_data::FileNames(out.path()).size(), expected.size());
  for (const auto& [name, bytes] : expected) {
    EXPECT_EQ(ReadFileOrEmpty(out / name), bytes) << name;
  }
}

TEST(ShardTarCompatTest, PythonTarfileReadsNamesSizesAndBytes) {
  TempDir root("compat");
  ASSERT_OK_AND_ASSIGN(CommittedShard shard, test_data::WriteTestShard(root.path(), 0, kSamples));
  constexpr char kScript[] = R"(
import hashlib, sys, tarfile
with tarfile.open(sys.argv[1], mode="r:") as tar:
    for member in tar:
        data = tar.extractfile(member).read()
        print(member.name, member.size, oct(member.mode), member.uname, member.gname,
              hashlib.sha256(data).hexdigest())
)";
  const auto result = RunCommand({"/usr/bin/python3", "-c", kScript, shard.tar_path.string()});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  std::string expected;
  for (const auto& [name, bytes] : ExpectedEntries()) {
    absl::StrAppend(&expected, name, " ", bytes.size(), " 0o644 atelier atelier ", Sha256Hex(bytes), "\n");
  }
  EXPECT_EQ(result.output, expected);
}

// Our shards grouped by WebDataset's key rule (webdataset's base_plus_ext and
// group_by_keys, in Python: Debian has no python3-webdataset): one image and
// one .json per key, the JSON's key and sha256 those of the group.
TEST(ShardTarCompatTest, WebDatasetKeyRuleGroupsOurShardsIntoImageAndJson) {
  TempDir root("compat");
  ASSERT_OK_AND_ASSIGN(CommittedShard shard, test_data::WriteTestShard(root.path(), 0, kSamples));
  constexpr char kScript[] = R"py(
import hashlib, json, re, sys, tarfile
samples = []
with tarfile.open(sys.argv[1], mode="r|*") as stream:
    for info in stream:
        match = re.match(r"^((?:.*/|)[^.]+)[.]([^/]*)$", info.name)
        key, ext = match.group(1), match.group(2).lower()
        if not samples or samples[-1]["__key__"] != key:
            samples.append({"__key__": key})
        assert ext not in samples[-1], info.name
        samples[-1][ext] = stream.extractfile(info).read()
for s in samples:
    meta = json.loads(s["json"])
    image = [ext for ext in s if ext not in ("__key__", "json")]
    print(s["__key__"], image[0], meta["key"] == s["__key__"],
          meta["sha256"] == hashlib.sha256(s[image[0]]).hexdigest())
)py";
  const auto result = RunCommand({"/usr/bin/python3", "-c", kScript, shard.tar_path.string()});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  std::string expected;
  for (int i = 0; i < kSamples; ++i) {
    const Sample sample = test_data::MakeSample(i);
    absl::StrAppend(&expected, sample.meta.key, " ", std::string(ImageExtension(sample.format)), " True True\n");
  }
  EXPECT_EQ(result.output, expected);
}

}  // namespace
}  // namespace atelier::dataset
