// The outputs of bulk `predict` without a model: the row files (JSONL, CSV),
// the --group-by summary and the --sort-into sorter.
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "atelier/common/status_matchers.h"
#include "atelier/testing/html_check.h"
#include "atelier/testing/temp_dir.h"
#include "atelier/trainer/group_summary.h"
#include "atelier/trainer/prediction_rows.h"
#include "atelier/trainer/sort_into.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace atelier::trainer {
namespace {

using ::atelier::testing::ReadFileOrEmpty;
using ::atelier::testing::StatusIs;
using ::atelier::testing::TempDir;
using ::atelier::testing::WriteFileOrDie;
namespace fs = std::filesystem;

// RFC 4180: quoted fields may hold commas, doubled quotes and newlines.
std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
      any = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
    } else if (c == '\n') {
      row.push_back(field);
      rows.push_back(row);
      row.clear();
      field.clear();
      any = false;
    } else {
      field += c;
      any = true;
    }
  }
  EXPECT_FALSE(quoted) << "unterminated quote";
  if (any || !row.empty()) {
    row.push_back(field);
    rows.push_back(row);
  }
  return rows;
}

LabelSpace Space() {
  LabelSpace space;
  space.heads = {{"colour", {"blue", "green", "red"}}, {"size", {"big", "small"}}};
  return space;
}

PredictionRow Row(const std::string& key, int colour, int size, nlohmann::json meta = nlohmann::json::object()) {
  PredictionRow row;
  row.key = key;
  row.url = "https://example.org/" + key;
  row.shard = "000000.tar";
  row.meta = std::move(meta);
  HeadPrediction c{colour, 0.7, {0.1, 0.1, 0.1}};
  c.probabilities[colour] = 0.7;
  row.heads.push_back(c);
  HeadPrediction s{size, 0.6, {0.4, 0.4}};
  s.probabilities[size] = 0.6;
  row.heads.push_back(s);
  return row;
}

PredictionRow ErrorRow(const std::string& key, nlohmann::json meta = nlohmann::json::object()) {
  PredictionRow row;
  row.key = key;
  row.path = "/data/" + key;
  row.error = "not an image";
  row.meta = std::move(meta);
  return row;
}

nlohmann::json Meta(const std::string& neighbourhood) {
  nlohmann::json meta = {{"key", "x"}, {"source", "bam"}, {"labels", {{"media", "oilpaint"}}}};
  if (!neighbourhood.empty()) meta["extra"] = {{"neighbourhood", neighbourhood}};
  return meta;
}

TEST(PredictionRowsTest, OutExtensionMustBeJsonlOrCsv) {
  EXPECT_OK(CheckRowFileExtension("a/rows.jsonl"));
  EXPECT_OK(CheckRowFileExtension("rows.CSV"));
  EXPECT_THAT(CheckRowFileExtension("rows.txt"), StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr(".txt")));
  TempDir dir;
  EXPECT_THAT(OpenRowWriter(dir / "rows.parquet", Space()).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr(".parquet")));
}

TEST(PredictionRowsTest, JsonlLinesParseAndHoldPredictionsMetadataAndErrors) {
  TempDir dir;
  nlohmann::json meta = Meta("Park \"Slope\", North");
  meta["extra"]["tags"] = {"a", "b"};
  ASSERT_OK_AND_ASSIGN(auto writer, OpenRowWriter(dir / "rows.jsonl", Space()));
  ASSERT_OK(writer->Write(Row("bam-1", 2, 0, meta)));
  ASSERT_OK(writer->Write(ErrorRow("broken.jpg")));
  EXPECT_FALSE(fs::exists(dir / "rows.jsonl"));  // written on Close
  ASSERT_OK(writer->Close());
  std::ifstream in(dir / "rows.jsonl");
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["key"], "bam-1");
  EXPECT_EQ(lines[0]["url"], "https://example.org/bam-1");
  EXPECT_EQ(lines[0]["heads"]["colour"]["class"], "red");
  EXPECT_DOUBLE_EQ(lines[0]["heads"]["colour"]["probability"].get<double>(), 0.7);
  EXPECT_DOUBLE_EQ(lines[0]["heads"]["colour"]["probabilities"]["blue"].get<double>(), 0.1);
  EXPECT_EQ(lines[0]["heads"]["size"]["class"], "big");
  EXPECT_EQ(lines[0]["labels"]["media"], "oilpaint");
  EXPECT_EQ(lines[0]["extra"]["neighbourhood"], "Park \"Slope\", North");
  EXPECT_EQ(lines[0]["extra"]["tags"], nlohmann::json({"a", "b"}));
  EXPECT_EQ(lines[1]["error"], "not an image");
  EXPECT_FALSE(lines[1].contains("heads"));
  // No temporary files are left next to it.
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST(PredictionRowsTest, CsvQuotesCommasQuotesAndNewlinesAndFlattensExtra) {
  TempDir dir;
  nlohmann::json first = Meta("Park \"Slope\", North");
  first["extra"]["note"] = "line one\nline two";
  first["extra"]["tags"] = {"a", "b"};
  first["extra"]["year"] = 1890;
  nlohmann::json second = Meta("");
  second["extra"] = {{"only_here", "x"}};
  ASSERT_OK_AND_ASSIGN(auto writer, OpenRowWriter(dir / "rows.csv", Space()));
  ASSERT_OK(writer->Write(Row("bam-1", 2, 0, first)));
  ASSERT_OK(writer->Write(ErrorRow("a,b.jpg")));
  ASSERT_OK(writer->Write(Row("bam-2", 0, 1, second)));
  ASSERT_OK(writer->Close());
  auto rows = ParseCsv(ReadFileOrEmpty(dir / "rows.csv"));
  ASSERT_EQ(rows.size(), 4u);
  const auto& header = rows[0];
  for (const auto& row : rows) EXPECT_EQ(row.size(), header.size());
  auto column = [&](const std::string& name) {
    auto it = std::find(header.begin(), header.end(), name);
    EXPECT_NE(it, header.end()) << name;
    return static_cast<size_t>(it - header.begin());
  };
  EXPECT_EQ(rows[1][column("key")], "bam-1");
  EXPECT_EQ(rows[1][column("colour")], "red");
  EXPECT_DOUBLE_EQ(std::stod(rows[1][column("colour.probability")]), 0.7);
  EXPECT_DOUBLE_EQ(std::stod(rows[1][column("colour.p.green")]), 0.1);
  EXPECT_EQ(rows[1][column("size")], "big");
  EXPECT_EQ(rows[1][column("labels.media")], "oilpaint");
  EXPECT_EQ(rows[1][column("extra.neighbourhood")], "Park \"Slope\", North");
  EXPECT_EQ(rows[1][column("extra.note")], "line one\nline two");
  EXPECT_EQ(nlohmann::json::parse(rows[1][column("extra.tags")]), nlohmann::json({"a", "b"}));
  EXPECT_EQ(rows[1][column("extra.year")], "1890");
  EXPECT_EQ(rows[1][column("extra.only_here")], "");
  EXPECT_EQ(rows[2][column("key")], "a,b.jpg");
  EXPECT_EQ(rows[2][column("error")], "not an image");
  EXPECT_EQ(rows[2][column("colour")], "");
  EXPECT_EQ(rows[3][column("extra.only_here")], "x");
  EXPECT_EQ(rows[3][column("size")], "small");
}

TEST(GroupSummaryTest, FieldsResolveToLabelsTopLevelFieldsAndExtraPaths) {
  PredictionRow row = Row("bam-1", 0, 0, Meta("Bushwick"));
  row.meta["extra"]["place"] = {{"city", "Paris"}};
  row.meta["width"] = 224;
  EXPECT_EQ(GroupValue(row, "extra.neighbourhood"), "Bushwick");
  EXPECT_EQ(GroupValue(row, "extra.place.city"), "Paris");
  EXPECT_EQ(GroupValue(row, "media"), "oilpaint");  // a label
  EXPECT_EQ(GroupValue(row, "labels.media"), "oilpaint");
  EXPECT_EQ(GroupValue(row, "source"), "bam");  // a top-level field
  EXPECT_EQ(GroupValue(row, "width"), "224");
  EXPECT_EQ(GroupValue(row, "shard"), "000000.tar");
  EXPECT_EQ(GroupValue(row, "extra.nothing"), std::nullopt);
  EXPECT_EQ(GroupValue(row, "nothing"), std::nullopt);
}

TEST(GroupSummaryTest, CountsSumToTheRowsWithMissingGroupAndErrorsApart) {
  GroupSummary summary({"extra.neighbourhood", "media"}, Space());
  summary.Add(Row("a", 0, 0, Meta("Bushwick")));
  summary.Add(Row("b", 2, 1, Meta("Bushwick")));
  summary.Add(Row("c", 2, 1, Meta("Red Hook, South")));
  summary.Add(Row("d", 1, 0, Meta("")));
  summary.Add(ErrorRow("e", Meta("Bushwick")));
  summary.Add(ErrorRow("f"));
  EXPECT_EQ(summary.rows(), 6);
  for (size_t f = 0; f < 2; ++f) {
    for (size_t h = 0; h < 2; ++h) {
      int64_t total = 0;
      for (const auto& [group, c] : summary.Groups(f, h)) total += c.predicted() + c.errors;
      EXPECT_EQ(total, 6) << f << " " << h;
    }
  }
  const auto& colour = summary.Groups(0, 0);
  ASSERT_TRUE(colour.count("Bushwick"));
  EXPECT_EQ(colour.at("Bushwick").classes, (std::vector<int64_t>{1, 0, 1}));
  EXPECT_EQ(colour.at("Bushwick").errors, 1);
  ASSERT_TRUE(colour.count(kMissingGroup));
  EXPECT_EQ(colour.at(kMissingGroup).classes, (std::vector<int64_t>{0, 1, 0}));
  EXPECT_EQ(colour.at(kMissingGroup).errors, 1);
  EXPECT_EQ(summary.Groups(1, 0).at("oilpaint").predicted(), 4);

  // CSV: the counts again, fractions per group, quoted group names.
  auto rows = ParseCsv(summary.Csv());
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0], (std::vector<std::string>{"field", "group", "head", "class", "count", "fraction"}));
  std::map<std::string, int64_t> per_field_head;
  bool saw_red_hook = false;
  for (size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), 6u);
    per_field_head[rows[i][0] + "/" + rows[i][2]] += std::stoll(rows[i][4]);
    if (rows[i][1] == "Red Hook, South" && rows[i][2] == "colour" && rows[i][3] == "red") {
      saw_red_hook = true;
      EXPECT_EQ(rows[i][4], "1");
      EXPECT_DOUBLE_EQ(std::stod(rows[i][5]), 1.0);
    }
  }
  EXPECT_TRUE(saw_red_hook);
  for (const auto& [what, n] : per_field_head) EXPECT_EQ(n, 6) << what;
  EXPECT_THAT(summary.Table(), ::testing::HasSubstr("Bushwick"));
}

TEST(GroupSummaryTest, HtmlPageIsSelfContainedAndRenders) {
  TempDir dir;
  GroupSummary summary({"extra.neighbourhood"}, Space());
  for (int i = 0; i < 30; ++i) summary.Add(Row("k" + std::to_string(i), i % 3, i % 2, Meta(i % 4 ? "Bushwick" : "<Dumbo>")));
  summary.Add(ErrorRow("bad"));
  const std::string html = summary.Html("predict <test>");
  EXPECT_THAT(html, ::testing::HasSubstr("<svg"));
  EXPECT_THAT(html, ::testing::HasSubstr("&lt;Dumbo&gt;"));
  EXPECT_THAT(html, ::testing::Not(::testing::HasSubstr("<script")));
  WriteFileOrDie(dir / "summary.html", html);
  auto check = ::atelier::testing::CheckHtmlPage(dir / "summary.html");
  EXPECT_EQ(check.exit_code, 0) << check.output;
}

TEST(SortIntoTest, SafeFileNamesCannotLeaveTheFolder) {
  EXPECT_EQ(SafeFileName("a.jpg"), "a.jpg");
  EXPECT_EQ(SafeFileName("../../etc/passwd"), "_.._.._etc_passwd");
  EXPECT_EQ(SafeFileName(".."), "_..");
  EXPECT_EQ(SafeFileName("."), "_.");
  EXPECT_EQ(SafeFileName(""), "_");
  EXPECT_EQ(SafeFileName("part.v1/000001.png"), "part.v1_000001.png");
  EXPECT_EQ(SafeFileName("tab\there"), "tab_here");
  EXPECT_EQ(SafeFileName("Öl auf Leinwand"), "Öl auf Leinwand");
  const std::string longer = SafeFileName(std::string(300, 'x') + ".jpeg");
  EXPECT_LE(longer.size(), 200u);
  EXPECT_THAT(longer, ::testing::EndsWith(".jpeg"));
}

TEST(SortIntoTest, PlacesEachInputOncePerHeadNeverOverwritesAndLinks) {
  TempDir dir;
  WriteFileOrDie(dir / "in" / "a.png", "AAAA");
  WriteFileOrDie(dir / "in" / "sub" / "a.png", "BBBB");  // the same name twice
  Sorter sorter({dir / "out", /*link=*/false, /*threshold=*/0.65}, Space());
  ASSERT_OK(sorter.Place(Row("a.png", 2, 1), dir / "in" / "a.png", "", "png"));
  ASSERT_OK(sorter.Place(Row("sub/a.png", 2, 1), dir / "in" / "sub" / "a.png", "", "png"));
  ASSERT_OK(sorter.Place(ErrorRow("bad.png"), dir / "in" / "a.png", "", "png"));  // not placed
  // A shard sample: its bytes under its key (sanitised) and extension.
  ASSERT_OK(sorter.Place(Row("../evil/key", 0, 0), "", "PNGBYTES", "png"));
  EXPECT_EQ(sorter.placed(), 6);
  EXPECT_EQ(atelier::testing::CountFilesUnder(dir / "out"), 6u);
  EXPECT_EQ(atelier::testing::CountFilesUnder(dir / "out" / "colour"), 3u);
  EXPECT_EQ(ReadFileOrEmpty(dir / "out" / "colour" / "red" / "a.png"), "AAAA");
  EXPECT_EQ(ReadFileOrEmpty(dir / "out" / "colour" / "red" / "a-1.png"), "BBBB");
  EXPECT_EQ(ReadFileOrEmpty(dir / "out" / "colour" / "blue" / "_.._evil_key.png"), "PNGBYTES");
  // size's probability 0.6 is below the threshold 0.65: unsure.
  EXPECT_EQ(atelier::testing::CountFilesUnder(dir / "out" / "size" / kUnsureFolder), 3u);
  EXPECT_FALSE(fs::exists(dir / "out" / "size" / "small"));

  // A second run into the same folder keeps the first run's files.
  Sorter again({dir / "out", false, 0}, Space());
  ASSERT_OK(again.Place(Row("a.png", 2, 1), dir / "in" / "sub" / "a.png", "", "png"));
  EXPECT_EQ(ReadFileOrEmpty(dir / "out" / "colour" / "red" / "a.png"), "AAAA");
  EXPECT_EQ(ReadFileOrEmpty(dir / "out" / "colour" / "red" / "a-2.png"), "BBBB");
  EXPECT_EQ(atelier::testing::CountFilesUnder(dir / "out"), 8u);

  // --link: hard links to the inputs (same inode).
  Sorter linker({dir / "linked", /*link=*/true, 0}, Space());
  ASSERT_OK(linker.Place(Row("a.png", 1, 0), dir / "in" / "a.png", "", "png"));
  struct stat in_stat {}, out_stat {};
  ASSERT_EQ(stat((dir / "in" / "a.png").c_str(), &in_stat), 0);
  ASSERT_EQ(stat((dir / "linked" / "colour" / "green" / "a.png").c_str(), &out_stat), 0);
  EXPECT_EQ(in_stat.st_ino, out_stat.st_ino);
  EXPECT_EQ(in_stat.st_dev, out_stat.st_dev);
  EXPECT_FALSE(linker.fell_back_to_copy());
}

}  // namespace
}  // namespace atelier::trainer
