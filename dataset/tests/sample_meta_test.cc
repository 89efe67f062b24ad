#include <set>
#include <string>

#include "atelier/common/status_matchers.h"
#include "atelier/dataset/sample.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "test_samples.h"

namespace atelier::dataset {
namespace {

using ::atelier::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(DatasetSampleMetaTest, RoundTripsEveryField) {
  for (int i = 0; i < 6; ++i) {
    const SampleMeta meta = test_data::ExpectedMeta(test_data::MakeSample(i));
    ASSERT_OK_AND_ASSIGN(SampleMeta parsed, SampleMetaFromJson(SampleMetaToJson(meta), "test"));
    EXPECT_EQ(parsed, meta) << SampleMetaToJson(meta);
  }
}

TEST(DatasetSampleMetaTest, WritesOneObjectWithExtraFieldsNested) {
  SampleMeta meta = test_data::ExpectedMeta(test_data::MakeSample(1));
  ASSERT_FALSE(meta.extra.empty());
  const std::string text = SampleMetaToJson(meta);
  EXPECT_EQ(text.find('\n'), std::string::npos);
  const nlohmann::json json = nlohmann::json::parse(text);
  std::set<std::string> fields;
  for (const auto& [name, value] : json.items()) fields.insert(name);
  EXPECT_EQ(fields, (std::set<std::string>{"key", "source", "url", "labels", "width", "height",
                                           "original_width", "original_height", "sha256",
                                           "image_format", "extra"}));
  EXPECT_EQ(json["extra"]["object_date"], "ca. 1760");
  EXPECT_EQ(json["labels"]["country"], "France");
  EXPECT_EQ(json["original_width"], meta.original_width);
}

TEST(DatasetSampleMetaTest, OnlyKeyIsRequiredAndUnknownFieldsAreIgnored) {
  ASSERT_OK_AND_ASSIGN(SampleMeta meta,
                       SampleMetaFromJson(R"({"key": "bam-7", "future_field": [1, 2]})", "x"));
  SampleMeta expected;
  expected.key = "bam-7";
  EXPECT_EQ(meta, expected);
}

TEST(DatasetSampleMetaTest, RejectsMissingKeyAndWrongTypesNamingOriginAndField) {
  EXPECT_THAT(SampleMetaFromJson(R"({"source": "bam"})", "shard.tar: bam-1.json"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("shard.tar: bam-1.json"), HasSubstr("\"key\" is missing"))));
  EXPECT_THAT(SampleMetaFromJson(R"({"key": 12})", "o"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"key\" must be a string")));
  EXPECT_THAT(SampleMetaFromJson(R"({"key": "a", "width": "224"})", "o"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"width\" must be a 32-bit integer")));
  EXPECT_THAT(SampleMetaFromJson(R"({"key": "a", "height": 1.5})", "o"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"height\"")));
  EXPECT_THAT(SampleMetaFromJson(R"({"key": "a", "width": 4294967296})", "o"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"width\"")));
  EXPECT_THAT(SampleMetaFromJson(R"({"key": "a", "labels": {"media": 3}})", "o"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"labels.media\" must be a string")));
  EXPECT_THAT(SampleMetaFromJson(R"({"key": "a", "extra": ["x"]})", "o"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"extra\"")));
}

TEST(DatasetSampleMetaTest, RejectsInvalidJsonNamingOrigin) {
  EXPECT_THAT(SampleMetaFromJson(R"({"key": "a",)", "/d/shards/000001.tar: a.json"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("/d/shards/000001.tar: a.json"), HasSubstr("invalid JSON"))));
  EXPECT_THAT(SampleMetaFromJson(R"(["key"])", "o"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expected a JSON object")));
  EXPECT_THAT(SampleMetaFromJson("", "o"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace atelier::dataset
