#include "atelier/demo/demo_world.h"

#include <sqlite3.h>

#include <fstream>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"

namespace atelier::demo {
namespace {

using nlohmann::json;

class SqliteFile {
 public:
  ~SqliteFile() {
    if (db_ != nullptr) sqlite3_close(db_);
  }
  absl::Status Open(const std::filesystem::path& path) {
    std::filesystem::remove(path);
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) {
      return absl::InternalError(absl::StrCat(path.string(), ": cannot create SQLite file"));
    }
    return absl::OkStatus();
  }
  absl::Status Exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = error ? error : "unknown error";
      sqlite3_free(error);
      return absl::InternalError(absl::StrCat("sqlite: ", message, " in: ", sql.substr(0, 80)));
    }
    return absl::OkStatus();
  }

 private:
  sqlite3* db_ = nullptr;
};

std::string Quote(const std::string& s) { return absl::StrCat("'", s, "'"); }

struct BamRow {
  int64_t mid;
  std::string src;
  std::string label;
};

absl::Status WriteBamSqlite(const std::filesystem::path& path, const std::vector<BamRow>& rows,
                            const std::vector<std::string>& classes, const std::string& family) {
  SqliteFile db;
  if (auto s = db.Open(path); !s.ok()) return s;
  std::vector<std::string> columns;
  for (const auto& c : classes) columns.push_back(absl::StrCat(family, "_", c, " real"));
  std::string sql =
      "BEGIN;"
      "CREATE TABLE modules(mid int primary key, project_id int, src text, mature_content boolean, "
      "license text);";
  absl::StrAppend(&sql, "CREATE TABLE scores(mid int, ", absl::StrJoin(columns, ", "), ");");
  for (const auto& row : rows) {
    absl::StrAppend(&sql, "INSERT INTO modules VALUES(", row.mid, ",", row.mid / 10, ",", Quote(row.src),
                    ",0,'CC BY-NC');");
    std::vector<std::string> scores;
    for (const auto& c : classes) scores.push_back(c == row.label ? "-0.05" : "-2.5");
    absl::StrAppend(&sql, "INSERT INTO scores VALUES(", row.mid, ",", absl::StrJoin(scores, ","), ");");
  }
  sql += "COMMIT;";
  return db.Exec(sql);
}

}  // namespace

absl::StatusOr<DemoWorld> BuildDemoWorld(const std::vector<LabelledImage>& images,
                                         const DemoWorldOptions& options, OriginServer& origin,
                                         const std::filesystem::path& dir,
                                         const std::filesystem::path& dataset_root) {
  if (images.empty()) return absl::InvalidArgumentError("demo world: no images");
  std::filesystem::create_directories(dir);
  DemoWorld world;
  std::set<std::string> class_set;
  for (const auto& image : images) class_set.insert(image.label);
  const std::vector<std::string> classes(class_set.begin(), class_set.end());

  std::map<std::string, std::vector<int64_t>> met_by_class;
  std::vector<BamRow> bam_rows;
  int64_t next_object = 100000;
  int64_t next_mid = 500000;
  for (size_t i = 0; i < images.size(); ++i) {
    const auto& image = images[i];
    const std::string image_path = absl::StrCat("/images/", i, ".png");
    if (static_cast<int>(i % options.met_every) == 0) {
      const int64_t id = next_object++;
      json object = {{"objectID", id},
                     {"title", absl::StrCat("A ", image.label, " (replica)")},
                     {"objectBeginDate", 1830 + static_cast<int>(i % 70)},
                     {"objectDate", absl::StrCat(1830 + static_cast<int>(i % 70))},
                     {"culture", "replica"},
                     {"department", "Costume Institute"},
                     {"classification", image.label},
                     {"isPublicDomain", true},
                     {"additionalImages", json::array()}};
      ++world.met_objects;
      if (world.met_objects % options.met_no_image_every == 0) {
        object["primaryImage"] = "";
        ++world.met_dead_objects;
      } else {
        origin.Serve(image_path, "image/png", image.png_bytes);
        ++world.images_served;
        object["primaryImage"] = origin.base_url() + image_path;
        if (world.met_objects % options.met_two_images_every == 0) {
          const std::string extra_path = absl::StrCat("/images/", i, "-b.png");
          origin.Serve(extra_path, "image/png", image.png_bytes);
          ++world.images_served;
          object["additionalImages"].push_back(origin.base_url() + extra_path);
        }
      }
      const int html_first = world.met_objects % options.met_html_first_every == 0 ? 1 : 0;
      origin.AddMetObject(id, object.dump(), html_first);
      met_by_class[image.label].push_back(id);
    } else {
      const int64_t mid = next_mid++;
      ++world.bam_rows;
      std::string src = origin.base_url() + image_path;
      if (world.bam_rows % options.bam_mir_cdn_every == 0) {
        src = absl::StrCat("https://mir-cdn.behance.net/v1/rendition/project_modules/disp/", mid, ".png");
        ++world.bam_dead_rows;
      } else if (world.bam_rows % options.bam_404_every == 0) {
        src = origin.base_url() + absl::StrCat("/missing/", mid, ".png");
        ++world.bam_dead_rows;
      } else {
        origin.Serve(image_path, "image/png", image.png_bytes);
        ++world.images_served;
      }
      bam_rows.push_back(BamRow{mid, src, image.label});
    }
  }
  for (const auto& [label, ids] : met_by_class) origin.AddMetSearch(label, ids);

  world.bam_sqlite = dir / "bam.sqlite";
  if (auto s = WriteBamSqlite(world.bam_sqlite, bam_rows, classes, options.head); !s.ok()) return s;

  std::string yaml = absl::StrCat("name: demo\ndataset: ", dataset_root.string(),
                                  "\nshard_size: ", options.shard_size, "\nsources:\n");
  absl::StrAppend(&yaml, "  - bam: {sqlite: ", world.bam_sqlite.string(), ", labels: [", options.head,
                  "]}\n");
  absl::StrAppend(&yaml, "  - met:\n      api: ", origin.met_api(), "\n      derive: [decade]\n",
                  "      searches:\n");
  for (const auto& label : classes) {
    if (met_by_class.count(label) == 0) continue;
    absl::StrAppend(&yaml, "        - {q: ", label, ", hasImages: true, label: {", options.head, ": ",
                    label, "}}\n");
  }
  absl::StrAppend(&yaml, "crawl:\n  resize: {mode: shorter_side, size: ", options.crawl_size,
                  "}\n  per_host: {concurrency: 8, requests_per_second: 2000}\n  retries: 2\n",
                  "  timeout_s: 10\n  throttle_pause_s: 0.2\n");
  world.job_spec = dir / "job.yaml";
  std::ofstream(world.job_spec) << yaml;
  return world;
}

}  // namespace atelier::demo
