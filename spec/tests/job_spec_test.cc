#include "atelier/spec/job_spec.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "atelier/common/memory_budget.h"
#include "atelier/common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace atelier {
namespace {

using ::atelier::testing::IsOk;
using ::atelier::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr char kFullSpec[] = R"(name: dresses
dataset: /data/atelier
shard_size: 500
sources:
  - bam: {sqlite: bam.sqlite, labels: [media, emotion]}
  - met:
      api: http://127.0.0.1:8080/public/collection/v1/
      derive: [decade]
      searches:
        - {q: dress, dateBegin: 1830, dateEnd: 1900, hasImages: true,
           departmentId: 8, geoLocation: "United Kingdom", label: {country: UK}}
        - {q: dress, geoLocation: France, label: {country: France}}
  - urls: {file: /data/list.csv}
crawl:
  resize: {mode: shorter_side, size: 128}
  per_host: {concurrency: 4, requests_per_second: 2.5}
  retries: 2
  timeout_s: 10
  max_bytes: 1000000
  memory_budget_bytes: 134217728
  max_image_pixels: 20000000
  seal_interval_s: 5
)";

TEST(JobSpecTest, ParsesEveryDocumentedKey) {
  ASSERT_OK_AND_ASSIGN(JobSpec spec, ParseJobSpec(kFullSpec, "job.yaml", "/specs"));
  EXPECT_EQ(spec.name, "dresses");
  EXPECT_EQ(spec.dataset, "/data/atelier");
  EXPECT_EQ(spec.shard_size, 500);
  ASSERT_EQ(spec.sources.size(), 3u);

  const auto& bam = std::get<BamSourceSpec>(spec.sources[0].source);
  EXPECT_EQ(bam.sqlite, "/specs/bam.sqlite");  // relative to the spec's directory
  EXPECT_EQ(bam.labels, (std::vector<std::string>{"media", "emotion"}));
  EXPECT_EQ(spec.sources[0].name, "bam");

  const auto& met = std::get<MetSourceSpec>(spec.sources[1].source);
  EXPECT_EQ(met.api, "http://127.0.0.1:8080/public/collection/v1");  // trailing / dropped
  ASSERT_EQ(met.searches.size(), 2u);
  EXPECT_EQ(met.searches[0].params.at("geoLocation"), "United Kingdom");
  EXPECT_EQ(met.searches[0].params.at("dateBegin"), "1830");
  EXPECT_EQ(met.searches[0].params.at("hasImages"), "true");
  EXPECT_EQ(met.searches[0].label.at("country"), "UK");
  EXPECT_EQ(met.searches[0].line, 10);
  EXPECT_EQ(met.derive, std::vector<std::string>{"decade"});

  const auto& urls = std::get<UrlsSourceSpec>(spec.sources[2].source);
  EXPECT_EQ(urls.file, "/data/list.csv");
  EXPECT_EQ(spec.sources[2].name, "urls:list.csv");

  EXPECT_EQ(spec.crawl.resize_mode, imaging::ResizeMode::kShorterSide);
  EXPECT_EQ(spec.crawl.resize_size, 128);
  EXPECT_EQ(spec.crawl.per_host_concurrency, 4);
  EXPECT_DOUBLE_EQ(spec.crawl.per_host_requests_per_second, 2.5);
  EXPECT_EQ(spec.crawl.retries, 2);
  EXPECT_DOUBLE_EQ(spec.crawl.timeout_s, 10);
  EXPECT_EQ(spec.crawl.max_bytes, 1000000);
  EXPECT_EQ(spec.crawl.memory_budget_bytes, 134217728);
  EXPECT_EQ(spec.crawl.max_image_pixels, 20000000);
  EXPECT_DOUBLE_EQ(spec.crawl.seal_interval_s, 5);
}

TEST(JobSpecTest, DefaultsApplyWhenCrawlIsOmitted) {
  ASSERT_OK_AND_ASSIGN(JobSpec spec, ParseJobSpec("dataset: /d\nsources:\n  - urls: {file: a.txt}\n",
                                                  "s.yaml", "/x"));
  EXPECT_EQ(spec.shard_size, 1000);
  EXPECT_EQ(spec.crawl.resize_mode, imaging::ResizeMode::kCenterCrop);
  EXPECT_EQ(spec.crawl.resize_size, 256);
  EXPECT_EQ(spec.crawl.retries, 4);
  EXPECT_EQ(spec.crawl.memory_budget_bytes, kDefaultMemoryBudgetBytes);
  EXPECT_EQ(spec.crawl.max_image_pixels, 64'000'000);
  EXPECT_DOUBLE_EQ(spec.crawl.seal_interval_s, 30);
}

TEST(JobSpecTest, MemoryBudgetAndPixelLimitAreChecked) {
  const std::string base = "dataset: /d\nsources:\n  - urls: {file: a.txt}\ncrawl:\n  ";
  EXPECT_THAT(ParseJobSpec(base + "memory_budget_bytes: 1000\n", "job.yaml", ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("job.yaml:5"), HasSubstr("crawl.memory_budget_bytes"))));
  EXPECT_THAT(ParseJobSpec(base + "max_image_pixels: 0\n", "job.yaml", ""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("crawl.max_image_pixels")));
  EXPECT_THAT(ParseJobSpec(base + "seal_interval_s: 0\n", "job.yaml", ""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("crawl.seal_interval_s")));
}

TEST(JobSpecTest, UnknownTopLevelKeyNamesKeyAndLine) {
  EXPECT_THAT(ParseJobSpec("dataset: /d\nshard_sise: 10\nsources:\n  - urls: {file: a.txt}\n",
                           "job.yaml", ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("job.yaml:2"), HasSubstr("shard_sise"),
                             HasSubstr("unknown key"))));
}

TEST(JobSpecTest, DuplicateKeyIsAnErrorNamingBothLines) {
  EXPECT_THAT(ParseJobSpec("dataset: /d\nshard_size: 10\nsources:\n  - urls: {file: a.txt}\nshard_size: 20\n",
                           "job.yaml", ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("job.yaml:5"), HasSubstr("shard_size"), HasSubstr("line 2"))));
  EXPECT_THAT(ParseJobSpec("dataset: /d\ncrawl:\n  retries: 2\n  retries: 5\nsources:\n  - urls: {file: a.txt}\n",
                           "job.yaml", ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("job.yaml:4"), HasSubstr("crawl.retries"), HasSubstr("line 3"))));
}

TEST(JobSpecTest, UnknownNestedKeyNamesPathAndLine) {
  std::string yaml = kFullSpec;
  yaml += "  politeness: 3\n";
  EXPECT_THAT(ParseJobSpec(yaml, "job.yaml", ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("job.yaml:23"), HasSubstr("crawl.politeness"))));
}

TEST(JobSpecTest, BamLabelFamilyMustBeAWord) {
  const std::string ok = "dataset: /d\nsources:\n  - bam: {sqlite: b.sqlite, labels: [media, garment]}\n";
  ASSERT_OK_AND_ASSIGN(JobSpec spec, ParseJobSpec(ok, "job.yaml", "/specs"));
  EXPECT_EQ(std::get<BamSourceSpec>(spec.sources[0].source).labels,
            (std::vector<std::string>{"media", "garment"}));
  const std::string bad = "dataset: /d\nsources:\n  - bam: {sqlite: b.sqlite, labels: [Media-X]}\n";
  EXPECT_THAT(ParseJobSpec(bad, "job.yaml", "/specs"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("job.yaml:3"), HasSubstr("sources[0].bam.labels"), HasSubstr("Media-X"))));
}

TEST(JobSpecTest, ThrottlePauseIsConfigurableAndChecked) {
  const std::string base = "dataset: /d\nsources:\n  - urls: {file: a.txt}\ncrawl:\n  throttle_pause_s: ";
  ASSERT_OK_AND_ASSIGN(JobSpec spec, ParseJobSpec(base + "0.5\n", "job.yaml", ""));
  EXPECT_DOUBLE_EQ(spec.crawl.throttle_pause_s, 0.5);
  EXPECT_THAT(ParseJobSpec(base + "-1\n", "job.yaml", ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("job.yaml:5"), HasSubstr("crawl.throttle_pause_s"))));
}

TEST(JobSpecTest, UnknownMetSearchParameterIsRejected) {
  const std::string yaml =
      "dataset: /d\nsources:\n  - met:\n      searches:\n        - {q: dress, colour: red}\n";
  EXPECT_THAT(ParseJobSpec(yaml, "job.yaml", ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("job.yaml:5"), HasSubstr("sources[0].met.searches[0].colour"))));
}

TEST(JobSpecTest, WrongTypeNamesKeyLineAndValue) {
  const std::string yaml =
      "dataset: /d\nsources:\n  - urls: {file: a.txt}\ncrawl:\n  retries: four\n";
  EXPECT_THAT(ParseJobSpec(yaml, "job.yaml", ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("job.yaml:5"), HasSubstr("crawl.retries"),
                             HasSubstr("expected an integer"), HasSubstr("'four'"))));
}

TEST(JobSpecTest, MapWhereNumberExpected) {
  const std::string yaml =
      "dataset: /d\nshard_size: {a: 1}\nsources:\n  - urls: {file: a.txt}\n";
  EXPECT_THAT(ParseJobSpec(yaml, "job.yaml", ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("job.yaml:2"), HasSubstr("shard_size"), HasSubstr("a map"))));
}

TEST(JobSpecTest, OutOfRangeAndBadEnumValues) {
  EXPECT_THAT(ParseJobSpec("dataset: /d\nsources:\n  - urls: {file: a.txt}\ncrawl:\n"
                           "  resize: {mode: squash}\n", "job.yaml", ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("job.yaml:5"), HasSubstr("crawl.resize.mode"), HasSubstr("squash"))));
  EXPECT_THAT(ParseJobSpec("dataset: /d\nshard_size: 0\nsources:\n  - urls: {file: a.txt}\n",
                           "job.yaml", ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("job.yaml:2"), HasSubstr("out of range"))));
}

TEST(JobSpecTest, MissingRequiredKeys) {
  EXPECT_THAT(ParseJobSpec("sources:\n  - urls: {file: a.txt}\n", "job.yaml", ""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("dataset")));
  EXPECT_THAT(ParseJobSpec("dataset: /d\n", "job.yaml", ""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sources")));
  EXPECT_THAT(ParseJobSpec("dataset: /d\nsources:\n  - urls: {}\n", "job.yaml", ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("job.yaml:3"), HasSubstr("sources[0].urls.file"))));
}

TEST(JobSpecTest, SourceMustBeExactlyOneKind) {
  EXPECT_THAT(ParseJobSpec("dataset: /d\nsources:\n  - {urls: {file: a.txt}, bam: {sqlite: b, labels: media}}\n",
                           "job.yaml", ""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("exactly one")));
  EXPECT_THAT(ParseJobSpec("dataset: /d\nsources:\n  - {ftp: {file: a.txt}}\n", "job.yaml", ""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ftp")));
}

TEST(JobSpecTest, InvalidYamlReportsLine) {
  EXPECT_THAT(ParseJobSpec("dataset: /d\nsources: [\n", "job.yaml", ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("job.yaml:"), HasSubstr("invalid YAML"))));
}

TEST(JobSpecTest, LoadsFromFileAndResolvesRelativePaths) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("atelier_spec_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "job.yaml";
  std::ofstream(path) << "dataset: out\nsources:\n  - urls: {file: lists/a.txt}\n";
  ASSERT_OK_AND_ASSIGN(JobSpec spec, LoadJobSpec(path.string()));
  EXPECT_EQ(spec.dataset, (dir / "out").string());
  EXPECT_EQ(std::get<UrlsSourceSpec>(spec.sources[0].source).file, (dir / "lists/a.txt").string());
  EXPECT_THAT(LoadJobSpec((dir / "missing.yaml").string()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("missing.yaml")));
  std::filesystem::remove_all(dir);
}

// Found by the job_spec fuzzer: an empty dataset path made fs::absolute
// throw out of ParseJobSpec (the coordinator died on `dataset: ""`).
TEST(JobSpecTest, EmptyDatasetIsAnError) {
  for (const char* dataset : {"\"\"", "''", "!tag"}) {
    const std::string yaml = absl::StrCat("dataset: ", dataset, "\nsources:\n  - urls: {file: list.txt}\n");
    EXPECT_THAT(ParseJobSpec(yaml, "job.yaml", "/base"),
                StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr("job.yaml:1"), HasSubstr("dataset"))))
        << yaml;
  }
}

}  // namespace
}  // namespace atelier
