// The demo world is consistent: the spec loads, the SQLite has the BAM tables,
// and what the origin serves matches the counts the demo reports.
#include "atelier/demo/demo_world.h"

#include <sqlite3.h>

#include "atelier/spec/job_spec.h"
#include "atelier/common/status_matchers.h"
#include "atelier/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"

namespace atelier::demo {
namespace {

int64_t CountRows(const std::filesystem::path& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
  int64_t n = -1;
  if (sqlite3_step(stmt) == SQLITE_ROW) n = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return n;
}

std::vector<LabelledImage> Images(int n) {
  const char* classes[] = {"dress", "coat", "bag"};
  std::vector<LabelledImage> images;
  for (int i = 0; i < n; ++i) images.push_back({classes[i % 3], "png-" + std::to_string(i)});
  return images;
}

TEST(DemoWorldTest, SpecLoadsAndCountsAddUp) {
  testing::TempDir dir("demo-world");
  ASSERT_OK_AND_ASSIGN(auto origin, OriginServer::Start());
  DemoWorldOptions options;
  ASSERT_OK_AND_ASSIGN(DemoWorld world, BuildDemoWorld(Images(300), options, *origin, dir.path() / "origin",
                                                       dir.path() / "data"));
  EXPECT_EQ(world.met_objects + world.bam_rows, 300);
  EXPECT_GT(world.met_dead_objects, 0);
  EXPECT_GT(world.bam_dead_rows, 0);

  ASSERT_OK_AND_ASSIGN(JobSpec spec, LoadJobSpec(world.job_spec.string()));
  EXPECT_EQ(spec.dataset, (dir.path() / "data").string());
  ASSERT_EQ(spec.sources.size(), 2u);
  const auto& met = std::get<MetSourceSpec>(spec.sources[1].source);
  EXPECT_EQ(met.api, origin->met_api());
  EXPECT_EQ(met.searches.size(), 3u);
  EXPECT_EQ(met.searches[0].label.at("garment"), "bag");

  EXPECT_EQ(CountRows(world.bam_sqlite, "SELECT count(*) FROM modules"), world.bam_rows);
  // Every BAM row scores its own class highest: count the dress rows.
  int64_t bam_dresses = 0;
  for (int i = 0; i < 300; ++i) bam_dresses += (i % options.met_every != 0 && i % 3 == 0) ? 1 : 0;
  EXPECT_EQ(CountRows(world.bam_sqlite,
                      "SELECT count(*) FROM scores WHERE garment_dress > garment_coat AND "
                      "garment_dress > garment_bag"),
            bam_dresses);
  EXPECT_EQ(CountRows(world.bam_sqlite, "SELECT count(*) FROM modules WHERE src LIKE '%mir-cdn%'") +
                CountRows(world.bam_sqlite, "SELECT count(*) FROM modules WHERE src LIKE '%/missing/%'"),
            world.bam_dead_rows);
}

TEST(DemoWorldTest, ServedImagesMatchTheMetObjects) {
  testing::TempDir dir("demo-world");
  ASSERT_OK_AND_ASSIGN(auto origin, OriginServer::Start());
  DemoWorldOptions options;
  options.met_every = 1;  // everything through the Met replica
  ASSERT_OK_AND_ASSIGN(DemoWorld world, BuildDemoWorld(Images(60), options, *origin, dir.path(),
                                                       dir.path() / "data"));
  httplib::Client client(origin->base_url());
  const std::string prefix = origin->met_api().substr(origin->base_url().size());
  int64_t images = 0, dead = 0;
  for (const char* q : {"dress", "coat", "bag"}) {
    auto search = client.Get(prefix + "/search?q=" + q);
    ASSERT_TRUE(search);
    ASSERT_EQ(search->status, 200) << search->body;
    const auto found = nlohmann::json::parse(search->body);
    ASSERT_TRUE(found["objectIDs"].is_array()) << search->body;
    for (int64_t id : found["objectIDs"]) {
      httplib::Result object = client.Get(prefix + "/objects/" + std::to_string(id));
      ASSERT_TRUE(object);
      if (object->body.find("<html>") != std::string::npos) object = client.Get(prefix + "/objects/" + std::to_string(id));
      auto json = nlohmann::json::parse(object->body);
      if (json["primaryImage"] == "") {
        ++dead;
        continue;
      }
      std::vector<std::string> urls = {json["primaryImage"]};
      for (const auto& u : json["additionalImages"]) urls.push_back(u);
      for (const auto& url : urls) {
        auto image = client.Get(url.substr(origin->base_url().size()));
        ASSERT_TRUE(image);
        EXPECT_EQ(image->status, 200) << url;
        ++images;
      }
    }
  }
  EXPECT_EQ(images, world.images_served);
  EXPECT_EQ(dead, world.met_dead_objects);
  EXPECT_EQ(world.met_objects, 60);
}

}  // namespace
}  // namespace atelier::demo
