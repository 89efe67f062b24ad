#include "atelier/coordinator/url_list_ingest.h"

#include "atelier/common/status_matchers.h"
#include "atelier/dataset/sample_key.h"
#include "atelier/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace atelier::coordinator {
namespace {

using ::atelier::testing::StatusIs;
using ::atelier::testing::TempDir;
using ::atelier::testing::WriteFileOrDie;
using ::testing::HasSubstr;

UrlsSourceSpec Spec(const std::filesystem::path& file) {
  UrlsSourceSpec spec;
  spec.file = file.string();
  return spec;
}

TEST(UrlListIngestTest, TxtSkipsBlanksCommentsAndDuplicates) {
  TempDir dir("urls");
  WriteFileOrDie(dir / "list.txt",
                 "# my list\nhttp://127.0.0.1/a.jpg\n\n  https://127.0.0.1/b.png  \n"
                 "http://127.0.0.1/a.jpg\n");
  CollectingSink sink;
  ASSERT_OK_AND_ASSIGN(auto report, IngestUrlList(Spec(dir / "list.txt"), "urls:list.txt", sink));
  EXPECT_EQ(report.lines, 3);
  EXPECT_EQ(report.items, 2);
  EXPECT_EQ(report.duplicates, 1);
  ASSERT_EQ(sink.items.size(), 2u);
  EXPECT_EQ(sink.items[0].key(), dataset::UrlKey("http://127.0.0.1/a.jpg"));
  EXPECT_EQ(sink.items[1].url(), "https://127.0.0.1/b.png");
  EXPECT_EQ(sink.items[1].source(), v1::SOURCE_KIND_URLS);
  EXPECT_EQ(sink.items[1].source_name(), "urls:list.txt");
  EXPECT_TRUE(sink.items[1].labels().empty());
}

// One bad line among good ones becomes a dead item (reason bad_url, key
// "<file>:<line>") instead of refusing the list.
TEST(UrlListIngestTest, TxtBadLineBecomesABadUrlItem) {
  TempDir dir("urls");
  WriteFileOrDie(dir / "list.txt", "http://127.0.0.1/a.jpg\nftp://nope\nhttp://127.0.0.1/b.jpg\n");
  CollectingSink sink;
  ASSERT_OK_AND_ASSIGN(auto report, IngestUrlList(Spec(dir / "list.txt"), "u", sink));
  EXPECT_EQ(report.lines, 3);
  EXPECT_EQ(report.items, 2);
  EXPECT_EQ(report.bad_lines, 1);
  ASSERT_EQ(sink.items.size(), 2u);
  ASSERT_EQ(sink.dead.size(), 1u);
  EXPECT_EQ(sink.dead[0].first.key(), "list.txt:2");
  EXPECT_EQ(sink.dead[0].first.url(), "ftp://nope");
  EXPECT_EQ(sink.dead[0].first.source_name(), "u");
  EXPECT_EQ(sink.dead[0].second, "bad_url");
}

TEST(UrlListIngestTest, ListWithNoUsableLineIsRefusedNamingFileAndLine) {
  TempDir dir("urls");
  WriteFileOrDie(dir / "list.txt", "# only bad\nftp://nope\nnot a url\n");
  CollectingSink sink;
  EXPECT_THAT(IngestUrlList(Spec(dir / "list.txt"), "u", sink).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::AllOf(HasSubstr("no usable line"), HasSubstr("list.txt:2"))));
}

TEST(UrlListIngestTest, UppercaseSchemeAndByteOrderMarkAreFine) {
  TempDir dir("urls");
  WriteFileOrDie(dir / "list.txt",
                 "\xEF\xBB\xBFHTTP://127.0.0.1/a.jpg\nHttps://127.0.0.1/b.jpg\nhttp://127.0.0.1/a.jpg\n");
  CollectingSink sink;
  ASSERT_OK_AND_ASSIGN(auto report, IngestUrlList(Spec(dir / "list.txt"), "u", sink));
  EXPECT_EQ(report.bad_lines, 0);
  ASSERT_EQ(sink.items.size(), 2u);
  EXPECT_EQ(sink.items[0].url(), "http://127.0.0.1/a.jpg");  // scheme lower-cased
  EXPECT_EQ(sink.items[1].url(), "https://127.0.0.1/b.jpg");
  EXPECT_EQ(report.duplicates, 1);  // HTTP://x and http://x are one URL

  WriteFileOrDie(dir / "list.csv", "\xEF\xBB\xBFurl,label\nHTTP://127.0.0.1/c.jpg,x\n");
  CollectingSink csv;
  ASSERT_OK_AND_ASSIGN(auto csv_report, IngestUrlList(Spec(dir / "list.csv"), "c", csv));
  EXPECT_EQ(csv_report.items, 1);
  ASSERT_EQ(csv.items.size(), 1u);
  EXPECT_EQ(csv.items[0].url(), "http://127.0.0.1/c.jpg");
  EXPECT_EQ(csv.items[0].labels().at("label"), "x");
}

TEST(UrlListIngestTest, CsvLabelColumnsWithQuotedFields) {
  TempDir dir("urls");
  WriteFileOrDie(dir / "list.csv",
                 "decade,url,country\n"
                 "1880s,http://127.0.0.1/1.jpg,\"United Kingdom\"\n"
                 "\"1890s\",\"http://127.0.0.1/2.jpg?a=1,b=2\",\"France, Paris\"\n"
                 ",http://127.0.0.1/3.jpg,US\n");
  CollectingSink sink;
  ASSERT_OK_AND_ASSIGN(auto report, IngestUrlList(Spec(dir / "list.csv"), "csv", sink));
  EXPECT_EQ(report.items, 3);
  ASSERT_EQ(sink.items.size(), 3u);
  EXPECT_EQ(sink.items[0].labels().at("country"), "United Kingdom");
  EXPECT_EQ(sink.items[0].labels().at("decade"), "1880s");
  EXPECT_EQ(sink.items[1].url(), "http://127.0.0.1/2.jpg?a=1,b=2");
  EXPECT_EQ(sink.items[1].labels().at("country"), "France, Paris");
  EXPECT_FALSE(sink.items[2].labels().contains("decade"));  // empty cell: no label

  UrlsSourceSpec only_country = Spec(dir / "list.csv");
  only_country.label_columns = {"country"};
  CollectingSink sink2;
  ASSERT_OK(IngestUrlList(only_country, "csv", sink2).status());
  EXPECT_EQ(sink2.items[0].labels().size(), 1u);
}

TEST(UrlListIngestTest, CsvErrorsNameFileLineAndColumn) {
  TempDir dir("urls");
  WriteFileOrDie(dir / "nourl.csv", "link,label\nhttp://127.0.0.1/1.jpg,x\n");
  CollectingSink sink;
  EXPECT_THAT(IngestUrlList(Spec(dir / "nourl.csv"), "c", sink).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::AllOf(HasSubstr("nourl.csv:1"), HasSubstr("'url'"))));
  WriteFileOrDie(dir / "short.csv", "url,label\nhttp://127.0.0.1/1.jpg,x\nhttp://127.0.0.1/2.jpg\n");
  ASSERT_OK_AND_ASSIGN(auto short_report, IngestUrlList(Spec(dir / "short.csv"), "c", sink));
  EXPECT_EQ(short_report.bad_lines, 1);  // the short row is a bad_url item
  ASSERT_EQ(sink.dead.size(), 1u);
  EXPECT_EQ(sink.dead[0].first.key(), "short.csv:3");
  UrlsSourceSpec missing_label = Spec(dir / "short.csv");
  missing_label.label_columns = {"colour"};
  EXPECT_THAT(IngestUrlList(missing_label, "c", sink).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'colour'")));
  EXPECT_THAT(IngestUrlList(Spec(dir / "absent.csv"), "c", sink).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("absent.csv")));
}

}  // namespace
}  // namespace atelier::coordinator
