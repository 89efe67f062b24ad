// `atelier-trainer predict` over shards, folders and image lists with --out,
// --group-by and --sort-into, through the executable, on a small model with
// random weights (no training needed: the predictions only have to agree).
#include <sys/stat.h>

#include <atomic>
#include <cmath>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "atelier/common/status_matchers.h"
#include "atelier/testing/html_check.h"
#include "atelier/testing/subprocess.h"
#include "atelier/testing/temp_dir.h"
#include "atelier/trainer/bulk_predict.h"
#include "atelier/trainer/model_file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "test_images.h"

namespace atelier::trainer {
namespace {

using ::atelier::testing::BinaryPath;
using ::atelier::testing::CommandResult;
using ::atelier::testing::ReadFileOrEmpty;
using ::atelier::testing::RunCommand;
using ::atelier::testing::TempDir;
using ::atelier::testing::WriteFileOrDie;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

// Two heads, random weights: probabilities that differ from image to image.
fs::path SaveRandomModel(const fs::path& dir) {
  ModelConfig c;
  c.in_channels = 3;
  c.image_size = 12;
  c.width = 6;
  c.depth = 2;
  c.labels.heads = {{"colour", {"blue", "green", "red"}}, {"size", {"big", "small"}}};
  torch::manual_seed(11);
  Classifier model(c);
  model->eval();
  const fs::path path = dir / "model.pt";
  EXPECT_OK(SaveModelFile(path, model));
  return path;
}

// ColourSamples with extra.neighbourhood on two of every three samples.
std::vector<dataset::Sample> Samples(int per_class) {
  auto samples = testing::ColourSamples(per_class, 16, 5);
  for (size_t i = 0; i < samples.size(); ++i) {
    samples[i].meta.url = "https://example.org/" + samples[i].meta.key;
    if (i % 3 != 2) samples[i].meta.extra["neighbourhood"] = i % 2 ? "Bushwick" : "Red Hook, South";
  }
  return samples;
}

CommandResult Predict(std::vector<std::string> args) {
  args.insert(args.begin(), {BinaryPath("atelier-trainer").string(), "predict", "--decode-threads", "2",
                             "--threads", "1", "--batch-size", "4"});
  return RunCommand(args);
}

std::vector<nlohmann::json> ReadJsonl(const fs::path& path) {
  std::vector<nlohmann::json> rows;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

TEST(BulkPredictTest, ShardsGiveTheSamePredictionsAsTheSameImagesAsFiles) {
  TempDir dir;
  // A trained model (random weights give nearly the same probabilities for every image).
  testing::WriteShard(dir / "train", 0, testing::ColourSamples(12, 16, 3, "t"));
  auto train = RunCommand({BinaryPath("atelier-trainer").string(), "train", "--data", (dir / "train").string(), "--out",
                           (dir / "run").string(), "--image-size", "12", "--width", "6", "--depth", "2", "--epochs",
                           "6", "--batch-size", "12", "--lr", "0.01", "--warmup-epochs", "0.5", "--threads", "1",
                           "--decode-threads", "1", "--plain", "--val-ratio", "0"});
  ASSERT_EQ(train.exit_code, 0) << train.output;
  const fs::path model = dir / "run" / "model.pt";
  const auto samples = Samples(5);  // 15 samples, batches of 4: a partial last batch
  testing::WriteShard(dir / "data", 0, std::vector<dataset::Sample>(samples.begin(), samples.begin() + 9));
  testing::WriteShard(dir / "data", 1, std::vector<dataset::Sample>(samples.begin() + 9, samples.end()));
  std::vector<std::string> files;
  for (const auto& s : samples) {
    WriteFileOrDie(dir / "files" / (s.meta.key + ".png"), s.image_bytes);
    files.push_back((dir / "files" / (s.meta.key + ".png")).string());
  }
  auto shards = Predict({"--checkpoint", model.string(), "--data", (dir / "data").string(), "--out",
                         (dir / "shards.jsonl").string(), "--progress"});
  ASSERT_EQ(shards.exit_code, 0) << shards.output;
  // The shards' stats.json give the total, so the progress line has it and an ETA.
  EXPECT_THAT(shards.output, HasSubstr("predict: 15/15 (100%)"));
  EXPECT_THAT(shards.output, HasSubstr("ETA"));
  auto folder = Predict({"--checkpoint", model.string(), "--folder", (dir / "files").string(), "--out",
                         (dir / "folder.jsonl").string()});
  ASSERT_EQ(folder.exit_code, 0) << folder.output;
  std::vector<std::string> listed = {"--checkpoint", model.string(), "--out", (dir / "listed.jsonl").string()};
  listed.insert(listed.end(), files.begin(), files.end());
  auto list = Predict(listed);
  ASSERT_EQ(list.exit_code, 0) << list.output;
  // The existing `predict IMAGE... --json` (the whole list in one batch).
  std::vector<std::string> legacy = {"--checkpoint", model.string(), "--json", "--top", "3"};
  legacy.insert(legacy.end(), files.begin(), files.end());
  auto json = Predict(legacy);
  ASSERT_EQ(json.exit_code, 0) << json.output;
  const auto printed = nlohmann::json::parse(json.output.substr(json.output.find("[\n")));

  const auto from_shards = ReadJsonl(dir / "shards.jsonl");
  const auto from_folder = ReadJsonl(dir / "folder.jsonl");
  const auto from_list = ReadJsonl(dir / "listed.jsonl");
  ASSERT_EQ(from_shards.size(), samples.size());
  ASSERT_EQ(from_folder.size(), samples.size());
  ASSERT_EQ(from_list.size(), samples.size());
  ASSERT_EQ(printed.size(), samples.size());
  std::map<std::string, nlohmann::json> folder_by_key;
  for (const auto& row : from_folder) folder_by_key[row["key"].get<std::string>()] = row;
  double lowest = 1, highest = 0;  // of the top probability: the images must differ far beyond the tolerance
  for (size_t i = 0; i < samples.size(); ++i) {
    SCOPED_TRACE(samples[i].meta.key);
    const auto& s = from_shards[i];
    EXPECT_EQ(s["key"], samples[i].meta.key);  // input order
    EXPECT_EQ(s["url"], samples[i].meta.url);
    EXPECT_EQ(s["labels"]["colour"], samples[i].meta.labels.at("colour"));
    ASSERT_TRUE(folder_by_key.count(samples[i].meta.key + ".png"));  // keys: paths relative to the folder
    const nlohmann::json& in_folder = folder_by_key[samples[i].meta.key + ".png"];
    EXPECT_EQ(from_list[i]["path"], files[i]);
    for (const char* head : {"colour"}) {
      const auto& a = s["heads"][head];
      lowest = std::min(lowest, a["probability"].get<double>());
      highest = std::max(highest, a["probability"].get<double>());
      for (const auto* other : {&in_folder, &from_list[i]}) {
        const auto& b = (*other)["heads"][head];
        EXPECT_EQ(a["class"], b["class"]) << head;
        EXPECT_NEAR(a["probability"].get<double>(), b["probability"].get<double>(), 1e-5) << head;
        for (auto it = a["probabilities"].begin(); it != a["probabilities"].end(); ++it) {
          EXPECT_NEAR(it->get<double>(), b["probabilities"][it.key()].get<double>(), 1e-5) << head << " " << it.key();
        }
      }
      const auto& top = printed[i]["heads"][head][0];
      EXPECT_EQ(top["class"], a["class"]) << head;
      EXPECT_NEAR(top["probability"].get<double>(), a["probability"].get<double>(), 1e-5) << head;
    }
  }
  EXPECT_GT(highest - lowest, 0.01);  // 1000 x the tolerance
}

TEST(BulkPredictTest, ABadFileInAFolderIsOneErrorRowAndTheRunGoesOn) {
  TempDir dir;
  const fs::path model = SaveRandomModel(dir.path());
  const auto samples = Samples(2);
  for (const auto& s : samples) WriteFileOrDie(dir / "in" / "nested dir" / (s.meta.key + ".image"), s.image_bytes);
  WriteFileOrDie(dir / "in" / "broken.jpg", std::string("\xFF\xD8\xFF\xE0 not really a jpeg", 24));
  WriteFileOrDie(dir / "in" / "notes, \"draft\".txt", "hello");
  for (const char* out : {"rows.jsonl", "rows.csv"}) {
    SCOPED_TRACE(out);
    auto r = Predict({"--checkpoint", model.string(), "--folder", (dir / "in").string(), "--out", (dir / out).string()});
    EXPECT_EQ(r.exit_code, 0) << r.output;
  }
  const auto rows = ReadJsonl(dir / "rows.jsonl");
  ASSERT_EQ(rows.size(), samples.size() + 2);
  int errors = 0, predicted = 0;
  for (const auto& row : rows) {
    if (row.contains("error")) {
      ++errors;
      EXPECT_FALSE(row.contains("heads")) << row.dump();
      EXPECT_FALSE(row["error"].get<std::string>().empty());
    } else {
      ++predicted;
      EXPECT_TRUE(row["heads"].contains("colour")) << row.dump();
    }
  }
  EXPECT_EQ(errors, 2);
  EXPECT_EQ(predicted, static_cast<int>(samples.size()));
  // The CSV has the same rows (a header, one line per row: no field has a newline here).
  const std::string csv = ReadFileOrEmpty(dir / "rows.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), static_cast<long>(samples.size() + 3));
  EXPECT_THAT(csv, HasSubstr("\"notes, \"\"draft\"\".txt\""));
}

TEST(BulkPredictTest, AShardThatCannotBeOpenedIsOneErrorRow) {
  TempDir dir;
  const fs::path model = SaveRandomModel(dir.path());
  testing::WriteShard(dir / "data", 0, Samples(1));
  fs::create_directories(dir / "data" / "shards" / "000001.tar");  // not a file
  testing::WriteShard(dir / "data", 2, Samples(1));
  auto r = Predict({"--checkpoint", model.string(), "--data", (dir / "data").string(), "--out",
                    (dir / "rows.jsonl").string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto rows = ReadJsonl(dir / "rows.jsonl");
  ASSERT_EQ(rows.size(), 7u);
  EXPECT_EQ(rows[3]["key"], "000001.tar");
  EXPECT_TRUE(rows[3].contains("error"));
  EXPECT_FALSE(rows[6].contains("error"));
}

TEST(BulkPredictTest, GroupBySummarisesPerGroupWithMissingAndWritesCsvAndHtml) {
  TempDir dir;
  const fs::path model = SaveRandomModel(dir.path());
  auto samples = Samples(4);  // 12 samples, 4 without extra.neighbourhood
  // One sample whose image does not decode: an error row, counted apart.
  samples[0].image_bytes = std::string("\x89PNG\r\n\x1a\n broken", 15);
  samples[0].meta.sha256.clear();
  testing::WriteShard(dir / "data", 0, samples);
  auto r = Predict({"--checkpoint", model.string(), "--data", (dir / "data").string(), "--out",
                    (dir / "rows.csv").string(), "--group-by", "extra.neighbourhood", "--group-by", "colour"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("Bushwick"));  // the table on stdout
  const std::string csv = ReadFileOrEmpty(dir / "rows.csv.summary.csv");
  ASSERT_FALSE(csv.empty()) << r.output;
  std::map<std::string, int64_t> per_field_head;
  std::map<std::string, int64_t> neighbourhood_colour;
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "field,group,head,class,count,fraction");
  int error_lines = 0;
  while (std::getline(in, line)) {
    // No field here has a comma but "Red Hook, South" (quoted).
    std::vector<std::string> f;
    std::string cell;
    bool quoted = false;
    for (char c : line) {
      if (c == '"') quoted = !quoted;
      else if (c == ',' && !quoted) f.push_back(cell), cell.clear();
      else cell += c;
    }
    f.push_back(cell);
    ASSERT_EQ(f.size(), 6u) << line;
    per_field_head[f[0] + "/" + f[2]] += std::stoll(f[4]);
    if (f[0] == "extra.neighbourhood" && f[2] == "colour") neighbourhood_colour[f[1]] += std::stoll(f[4]);
    error_lines += f[3] == "(error)";
  }
  ASSERT_EQ(per_field_head.size(), 4u) << csv;
  for (const auto& [what, n] : per_field_head) EXPECT_EQ(n, 12) << what;
  EXPECT_EQ(neighbourhood_colour["(missing)"], 4);
  EXPECT_EQ(neighbourhood_colour["Bushwick"] + neighbourhood_colour["Red Hook, South"], 8);
  EXPECT_EQ(error_lines, 4);  // the broken sample, per field and head
  // The HTML page.
  auto check = ::atelier::testing::CheckHtmlPage(dir / "rows.csv.summary.html");
  EXPECT_EQ(check.exit_code, 0) << check.output;
  // The rows: one error row for the broken sample.
  const std::string rows = ReadFileOrEmpty(dir / "rows.csv");
  EXPECT_EQ(std::count(rows.begin(), rows.end(), '\n'), 13);
  // Without --out: the table, and the files where --summary-csv / --summary-html say.
  r = Predict({"--checkpoint", model.string(), "--data", (dir / "data").string(), "--group-by", "extra.neighbourhood",
               "--summary-csv", (dir / "s" / "by-n.csv").string(), "--summary-html", (dir / "s" / "by-n.html").string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(ReadFileOrEmpty(dir / "s" / "by-n.csv"), HasSubstr("extra.neighbourhood,Bushwick,colour,"));
  EXPECT_THAT(ReadFileOrEmpty(dir / "s" / "by-n.html"), HasSubstr("<svg"));
}

TEST(BulkPredictTest, SortIntoPlacesEveryInputOnceNeverOverwritesAndLinks) {
  TempDir dir;
  const fs::path model = SaveRandomModel(dir.path());
  const auto samples = Samples(3);  // 9
  for (const auto& s : samples) WriteFileOrDie(dir / "in" / (s.meta.key + ".png"), s.image_bytes);
  WriteFileOrDie(dir / "in" / "not-an-image.png", "text");
  auto args = [&](const std::string& out) {
    return std::vector<std::string>{"--checkpoint", model.string(), "--folder", (dir / "in").string(),
                                    "--sort-into", (dir / out).string()};
  };
  auto r = Predict(args("sorted"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(atelier::testing::CountFilesUnder(dir / "sorted" / "colour"), samples.size());  // the error row is not placed
  EXPECT_EQ(atelier::testing::CountFilesUnder(dir / "sorted" / "size"), samples.size());
  std::set<std::string> names;
  for (const auto& e : fs::recursive_directory_iterator(dir / "sorted" / "colour")) {
    if (e.is_regular_file()) names.insert(e.path().filename().string());
  }
  EXPECT_EQ(names.size(), samples.size());  // each input once
  // Again into the same folder: nothing overwritten, every input a second time.
  r = Predict(args("sorted"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(atelier::testing::CountFilesUnder(dir / "sorted"), 4 * samples.size());
  // Per head, every input's bytes twice (the first run's copy kept, the second suffixed).
  std::map<std::string, int> copies;
  for (const auto& e : fs::recursive_directory_iterator(dir / "sorted" / "colour")) {
    if (e.is_regular_file()) ++copies[ReadFileOrEmpty(e.path())];
  }
  ASSERT_EQ(copies.size(), samples.size());
  for (const auto& s : samples) EXPECT_EQ(copies[s.image_bytes], 2) << s.meta.key;
  // Every top probability is below 1: all unsure.
  auto unsure = args("unsure");
  unsure.insert(unsure.end(), {"--threshold", "1"});
  r = Predict(unsure);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(atelier::testing::CountFilesUnder(dir / "unsure" / "colour" / "_unsure"), samples.size());
  EXPECT_EQ(atelier::testing::CountFilesUnder(dir / "unsure"), 2 * samples.size());
  // --link: hard links (same inode as the input).
  auto linked = args("linked");
  linked.push_back("--link");
  r = Predict(linked);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  int links = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir / "linked")) {
    if (!e.is_regular_file()) continue;
    struct stat a {}, b {};
    ASSERT_EQ(stat(e.path().c_str(), &a), 0);
    ASSERT_EQ(stat((dir / "in" / e.path().filename()).c_str(), &b), 0);
    EXPECT_EQ(a.st_ino, b.st_ino) << e.path();
    ++links;
  }
  EXPECT_EQ(links, static_cast<int>(2 * samples.size()));
  // Shards: the image bytes under the sample key.
  testing::WriteShard(dir / "data", 0, samples);
  auto shard_args = std::vector<std::string>{"--checkpoint", model.string(), "--data", (dir / "data").string(),
                                             "--sort-into", (dir / "from-shards").string()};
  r = Predict(shard_args);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(atelier::testing::CountFilesUnder(dir / "from-shards" / "colour"), samples.size());
  for (const auto& e : fs::recursive_directory_iterator(dir / "from-shards" / "colour")) {
    if (e.is_regular_file()) {
      EXPECT_EQ(ReadFileOrEmpty(e.path()), ReadFileOrEmpty(dir / "in" / e.path().filename()));
    }
  }
}

// A source of `n` copies of one PNG that counts how many inputs were read.
class CountingSource : public InputSource {
 public:
  CountingSource(int64_t n, std::string png) : n_(n), png_(std::move(png)) {}
  absl::StatusOr<std::optional<BulkInput>> Next() override {
    if (read_ == n_) return std::nullopt;
    BulkInput input;
    input.row.key = std::to_string(read_++);
    input.bytes = read_ % 7 == 0 ? "not an image" : png_;
    return input;
  }
  std::atomic<int64_t>& read() { return read_; }

 private:
  int64_t n_;
  std::string png_;
  std::atomic<int64_t> read_{0};
};

TEST(BulkPredictTest, InputsInFlightStayBoundedAndRowsComeInOrder) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(Classifier model, LoadModelFile(SaveRandomModel(dir.path())));
  const auto samples = Samples(1);
  CountingSource source(300, samples[0].image_bytes);
  BulkPredictOptions options;
  options.decode_threads = 3;
  options.batch_size = 8;
  int64_t emitted = 0, max_in_flight = 0, errors = 0;
  auto rows = PredictAll(model, source, options, [&](const BulkInput& input) -> absl::Status {
    EXPECT_EQ(input.row.key, std::to_string(emitted));
    errors += !input.row.error.empty();
    EXPECT_EQ(input.row.error.empty(), input.row.heads.size() == 2) << input.row.key;
    max_in_flight = std::max(max_in_flight, source.read().load() - emitted);
    ++emitted;
    return absl::OkStatus();
  });
  ASSERT_OK(rows.status());
  EXPECT_EQ(*rows, 300);
  EXPECT_EQ(emitted, 300);
  EXPECT_EQ(errors, 300 / 7);
  EXPECT_LE(max_in_flight, 2 * 8 + 2 * 3);
  // A failing sink stops the run with its error.
  CountingSource again(300, samples[0].image_bytes);
  auto stopped = PredictAll(model, again, options, [](const BulkInput&) { return absl::DataLossError("disk full"); });
  EXPECT_THAT(stopped.status(), ::atelier::testing::StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_LT(again.read().load(), 300);
}

TEST(BulkPredictTest, BadCommandLinesAndMissingInputsGiveClearErrors) {
  TempDir dir;
  const fs::path model = SaveRandomModel(dir.path());
  testing::WriteShard(dir / "data", 0, Samples(1));
  auto bad_ext = Predict({"--checkpoint", model.string(), "--data", (dir / "data").string(), "--out",
                          (dir / "rows.txt").string()});
  EXPECT_EQ(bad_ext.exit_code, 2) << bad_ext.output;
  EXPECT_THAT(bad_ext.output, HasSubstr(".txt"));
  EXPECT_FALSE(fs::exists(dir / "rows.txt"));
  auto missing = Predict({"--checkpoint", model.string(), "--data", (dir / "no-such-root").string(), "--out",
                          (dir / "rows.jsonl").string()});
  EXPECT_EQ(missing.exit_code, 1) << missing.output;
  EXPECT_THAT(missing.output, HasSubstr("no-such-root"));
  auto no_folder = Predict({"--checkpoint", model.string(), "--folder", (dir / "no-such-dir").string(), "--out",
                            (dir / "rows.jsonl").string()});
  EXPECT_EQ(no_folder.exit_code, 1) << no_folder.output;
  EXPECT_THAT(no_folder.output, HasSubstr("no-such-dir"));
  auto no_input = Predict({"--checkpoint", model.string(), "--out", (dir / "rows.jsonl").string()});
  EXPECT_EQ(no_input.exit_code, 2) << no_input.output;
  EXPECT_THAT(no_input.output, HasSubstr("--data"));
  auto no_output = Predict({"--checkpoint", model.string(), "--data", (dir / "data").string()});
  EXPECT_EQ(no_output.exit_code, 2) << no_output.output;
  EXPECT_THAT(no_output.output, HasSubstr("--out"));
  auto both = Predict({"--checkpoint", model.string(), "--data", (dir / "data").string(), "--folder",
                       dir.path().string(), "--out", (dir / "rows.jsonl").string()});
  EXPECT_EQ(both.exit_code, 2) << both.output;
  EXPECT_FALSE(fs::exists(dir / "rows.jsonl"));
}

}  // namespace
}  // namespace atelier::trainer
