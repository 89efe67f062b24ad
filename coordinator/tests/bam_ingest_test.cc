#include "atelier/coordinator/bam_ingest.h"

#include <sqlite3.h>

#include "absl/strings/str_cat.h"
#include "atelier/common/status_matchers.h"
#include "atelier/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace atelier::coordinator {
namespace {

using ::atelier::testing::StatusIs;
using ::atelier::testing::TempDir;
using ::testing::HasSubstr;

// Builds a SQLite file with the published BAM layout.
class BamDb {
 public:
  explicit BamDb(const std::string& path) : path_(path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
    Exec("CREATE TABLE modules (mid INTEGER PRIMARY KEY, project_id INTEGER, src TEXT, "
         "mature_content BOOLEAN, license TEXT)");
    Exec("CREATE TABLE scores (mid INTEGER, media_oilpaint REAL, media_watercolor REAL, "
         "media_pen_ink REAL, emotion_happy REAL, emotion_gloomy REAL, content_cat REAL, "
         "content_dog REAL)");
    Exec("CREATE TABLE crowd_labels (mid INTEGER, attribute TEXT, label TEXT)");
  }
  ~BamDb() { sqlite3_close(db_); }
  void Exec(const std::string& sql) {
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
        << sql << ": " << (err ? err : "");
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

std::string Src(int mid) {
  return absl::StrCat("https://mir-s3-cdn-cf.behance.net/project_modules/disp/", mid, ".jpg");
}

BamSourceSpec Spec(const std::string& path, std::vector<std::string> labels) {
  BamSourceSpec spec;
  spec.sqlite = path;
  spec.labels = std::move(labels);
  return spec;
}

class BamIngestTest : public ::testing::Test {
 protected:
  TempDir dir_{"bam"};
  BamDb db_{(dir_.path() / "bam.sqlite").string()};
};

TEST_F(BamIngestTest, LabelsAreTheBestScorePerFamilyWithTiesNullsAndDeadRows) {
  db_.Exec("INSERT INTO modules VALUES (1, 10, '" + Src(1) + "', 0, 'cc')");
  db_.Exec("INSERT INTO scores VALUES (1, -0.5, -2.0, -3.0, -1.0, -0.2, -4, -5)");
  // tie in media (watercolor == pen_ink): the name sorting first (pen_ink) wins;
  // NULL oilpaint is ignored; all emotions NULL: no emotion label.
  db_.Exec("INSERT INTO modules VALUES (2, 10, '" + Src(2) + "', 0, 'cc')");
  db_.Exec("INSERT INTO scores VALUES (2, NULL, -0.7, -0.7, NULL, NULL, -1, -1)");
  // every requested score NULL: skipped
  db_.Exec("INSERT INTO modules VALUES (3, 11, '" + Src(3) + "', 0, 'cc')");
  db_.Exec("INSERT INTO scores VALUES (3, NULL, NULL, NULL, NULL, NULL, -1, -1)");
  // dead rendition URL: dead at ingest, never crawled
  db_.Exec("INSERT INTO modules VALUES (4, 12, "
           "'https://mir-cdn.behance.net/v1/rendition/project_modules/disp/x.jpg', 0, 'cc')");
  db_.Exec("INSERT INTO scores VALUES (4, -0.1, -2, -2, -1, -2, -1, -1)");
  // mature: skipped by default
  db_.Exec("INSERT INTO modules VALUES (5, 12, '" + Src(5) + "', 1, 'cc')");
  db_.Exec("INSERT INTO scores VALUES (5, -0.1, -2, -2, -1, -2, -1, -1)");
  // no scores row at all: skipped
  db_.Exec("INSERT INTO modules VALUES (6, 12, '" + Src(6) + "', 0, 'cc')");

  CollectingSink sink;
  ASSERT_OK_AND_ASSIGN(auto report, IngestBam(Spec(db_.path(), {"media", "emotion"}), "bam", sink));
  EXPECT_EQ(report.rows, 6);
  EXPECT_EQ(report.items, 2);
  EXPECT_EQ(report.dead, 1);
  EXPECT_EQ(report.skipped_unlabelled, 2);
  EXPECT_EQ(report.skipped_mature, 1);
  ASSERT_EQ(sink.items.size(), 2u);
  const v1::WorkItem& one = sink.items[0];
  EXPECT_EQ(one.key(), "bam-1");
  EXPECT_EQ(one.url(), Src(1));
  EXPECT_EQ(one.source(), v1::SOURCE_KIND_BAM);
  EXPECT_EQ(one.source_name(), "bam");
  EXPECT_EQ(one.labels().at("media"), "oilpaint");
  EXPECT_EQ(one.labels().at("emotion"), "gloomy");
  EXPECT_EQ(one.extra().at("project_id"), "10");  // the trainer's split keeps a project together
  const v1::WorkItem& two = sink.items[1];
  EXPECT_EQ(two.labels().at("media"), "pen_ink");
  EXPECT_FALSE(two.labels().contains("emotion"));
  EXPECT_EQ(two.extra().at("project_id"), "10");
  ASSERT_EQ(sink.dead.size(), 1u);
  EXPECT_EQ(sink.dead[0].first.key(), "bam-4");
  EXPECT_EQ(sink.dead[0].second, "mir_cdn_rendition");
}

// A module without a project (NULL), and a SQLite without the column: no
// project_id, and the labels still line up with their columns.
TEST(BamIngestProjectTest, NoProjectIdWhenNullOrMissing) {
  TempDir dir{"bam"};
  sqlite3* db = nullptr;
  const std::string path = (dir.path() / "bam.sqlite").string();
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE modules (mid INTEGER PRIMARY KEY, src TEXT);"
                         "CREATE TABLE scores (mid INTEGER, media_oilpaint REAL, media_watercolor REAL);"
                         "INSERT INTO modules VALUES (1, 'https://example.test/1.jpg');"
                         "INSERT INTO scores VALUES (1, -2.0, -0.5);",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  CollectingSink sink;
  ASSERT_OK_AND_ASSIGN(auto report, IngestBam(Spec(path, {"media"}), "bam", sink));
  EXPECT_EQ(report.items, 1);
  ASSERT_EQ(sink.items.size(), 1u);
  EXPECT_EQ(sink.items[0].labels().at("media"), "watercolor");
  EXPECT_FALSE(sink.items[0].extra().contains("project_id"));
}

TEST_F(BamIngestTest, OptionsMatureMinScoreAndLimit) {
  for (int mid = 1; mid <= 4; ++mid) {
    db_.Exec(absl::StrCat("INSERT INTO modules VALUES (", mid, ", 1, '", Src(mid), "', ",
                          mid == 2 ? 1 : 0, ", 'cc')"));
    db_.Exec(absl::StrCat("INSERT INTO scores VALUES (", mid, ", ", mid == 3 ? -5 : -0.5,
                          ", -9, -9, -9, -9, -9, -9)"));
  }
  BamSourceSpec spec = Spec(db_.path(), {"media"});
  spec.include_mature = true;
  spec.min_score = -1.0;
  spec.limit = 3;
  CollectingSink sink;
  ASSERT_OK_AND_ASSIGN(auto report, IngestBam(spec, "bam", sink));
  EXPECT_EQ(report.rows, 3);
  ASSERT_EQ(sink.items.size(), 2u);  // mid 3 is below min_score, mid 4 past the limit
  EXPECT_EQ(sink.items[0].key(), "bam-1");
  EXPECT_EQ(sink.items[1].key(), "bam-2");
}

TEST_F(BamIngestTest, CrowdLabelsUsePositiveAttributes) {
  for (int mid = 1; mid <= 3; ++mid) {
    db_.Exec(absl::StrCat("INSERT INTO modules VALUES (", mid, ", 1, '", Src(mid), "', 0, 'cc')"));
  }
  db_.Exec("INSERT INTO crowd_labels VALUES (1, 'media_watercolor', 'positive')");
  db_.Exec("INSERT INTO crowd_labels VALUES (1, 'media_comic', 'negative')");
  db_.Exec("INSERT INTO crowd_labels VALUES (3, 'media_oilpaint', 'positive')");
  db_.Exec("INSERT INTO crowd_labels VALUES (3, 'media_comic', 'positive')");
  BamSourceSpec spec = Spec(db_.path(), {"media"});
  spec.label_source = "crowd";
  CollectingSink sink;
  ASSERT_OK_AND_ASSIGN(auto report, IngestBam(spec, "bam", sink));
  EXPECT_EQ(report.skipped_unlabelled, 1);
  ASSERT_EQ(sink.items.size(), 2u);
  EXPECT_EQ(sink.items[0].labels().at("media"), "watercolor");
  EXPECT_EQ(sink.items[1].labels().at("media"), "comic");  // tie: first name wins
}

TEST_F(BamIngestTest, HundredThousandRowsStream) {
  db_.Exec("BEGIN");
  for (int mid = 1; mid <= 100000; ++mid) {
    const bool dead = mid % 10 == 0;
    db_.Exec(absl::StrCat(
        "INSERT INTO modules VALUES (", mid, ", ", mid / 7, ", '",
        dead ? absl::StrCat("https://mir-cdn.behance.net/v1/rendition/project_modules/disp/", mid)
             : Src(mid),
        "', 0, 'cc')"));
    // family winner rotates with mid; mid % 13 == 0 has NULL media scores
    const int m = mid % 3;
    if (mid % 13 == 0) {
      db_.Exec(absl::StrCat("INSERT INTO scores VALUES (", mid, ", NULL, NULL, NULL, -1, -2, -1, -1)"));
    } else {
      db_.Exec(absl::StrCat("INSERT INTO scores VALUES (", mid, ", ", m == 0 ? -0.1 : -1, ", ",
                            m == 1 ? -0.1 : -1, ", ", m == 2 ? -0.1 : -1, ", -1, -2, -1, -1)"));
    }
  }
  db_.Exec("COMMIT");
  CollectingSink sink;
  ASSERT_OK_AND_ASSIGN(auto report,
                       IngestBam(Spec(db_.path(), {"media", "emotion", "content"}), "bam", sink));
  EXPECT_EQ(report.rows, 100000);
  EXPECT_EQ(report.dead, 10000);
  EXPECT_EQ(report.items, 90000);
  EXPECT_EQ(static_cast<int64_t>(sink.items.size()), report.items);
  int64_t previous = 0;
  std::map<std::string, int> media;
  for (const auto& item : sink.items) {
    const int64_t mid = std::stoll(item.key().substr(4));
    EXPECT_GT(mid, previous);  // streamed in mid order
    previous = mid;
    EXPECT_EQ(item.labels().at("emotion"), "happy");
    EXPECT_EQ(item.labels().at("content"), "cat");  // tie cat/dog
    if (mid % 13 == 0) {
      EXPECT_FALSE(item.labels().contains("media")) << item.key();
    } else {
      const std::string expected = mid % 3 == 0 ? "oilpaint" : mid % 3 == 1 ? "watercolor" : "pen_ink";
      EXPECT_EQ(item.labels().at("media"), expected) << item.key();
    }
    ++media[item.labels().contains("media") ? item.labels().at("media") : "-"];
  }
  EXPECT_EQ(media.size(), 4u);
}

TEST_F(BamIngestTest, ErrorsNameTheFile) {
  CollectingSink sink;
  EXPECT_THAT(IngestBam(Spec((dir_.path() / "missing.sqlite").string(), {"media"}), "bam", sink)
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("missing.sqlite")));
  db_.Exec("DROP TABLE scores");
  EXPECT_THAT(IngestBam(Spec(db_.path(), {"media"}), "bam", sink).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::AllOf(HasSubstr("bam.sqlite"), HasSubstr("scores"))));
  db_.Exec("CREATE TABLE scores (mid INTEGER, media_oilpaint REAL)");
  EXPECT_THAT(IngestBam(Spec(db_.path(), {"emotion"}), "bam", sink).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no emotion_* columns")));
}

// Zero-length BLOBs in any column read as empty text: an empty project, no
// URL (dead, no_url), not mature, and an automatic label or crowd attribute
// that is not 'positive'. (Every text column is read through ColumnText, which
// turns the null pointer sqlite3_column_text may return into "".)
TEST_F(BamIngestTest, EmptyBlobsReadAsEmptyText) {
  db_.Exec("INSERT INTO modules (mid, project_id, src, mature_content) VALUES (1, X'', X'', X'')");
  db_.Exec("INSERT INTO modules (mid, project_id, src, mature_content) VALUES (2, 7, 'http://a/2.jpg', X'')");
  db_.Exec("INSERT INTO scores (mid, media_oilpaint) VALUES (1, 0.5), (2, 0.5)");
  CollectingSink sink;
  ASSERT_OK_AND_ASSIGN(BamIngestReport report, IngestBam(Spec(db_.path(), {"media"}), "bam", sink));
  EXPECT_EQ(report.rows, 2);
  ASSERT_EQ(sink.dead.size(), 1u);
  EXPECT_EQ(sink.dead[0].second, "no_url");
  EXPECT_EQ(sink.dead[0].first.extra().at("project_id"), "");
  ASSERT_EQ(sink.items.size(), 1u);
  EXPECT_EQ(sink.items[0].extra().at("project_id"), "7");

  db_.Exec("CREATE TABLE automatic_labels (mid INTEGER, media_oilpaint TEXT, media_pen TEXT)");
  db_.Exec("INSERT INTO automatic_labels VALUES (2, X'', 'positive')");
  BamSourceSpec automatic = Spec(db_.path(), {"media"});
  automatic.label_source = "automatic";
  CollectingSink automatic_sink;
  ASSERT_OK(IngestBam(automatic, "bam", automatic_sink).status());
  ASSERT_EQ(automatic_sink.items.size(), 1u);
  EXPECT_EQ(automatic_sink.items[0].labels().at("media"), "pen");

  db_.Exec("INSERT INTO crowd_labels VALUES (2, X'', 'positive'), (2, 'media_pen', 'positive')");
  BamSourceSpec crowd = Spec(db_.path(), {"media"});
  crowd.label_source = "crowd";
  CollectingSink crowd_sink;
  ASSERT_OK(IngestBam(crowd, "bam", crowd_sink).status());
  ASSERT_EQ(crowd_sink.items.size(), 1u);
  EXPECT_EQ(crowd_sink.items[0].labels().at("media"), "pen");
}

}  // namespace
}  // namespace atelier::coordinator
