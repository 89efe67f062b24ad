// `atelier preview`: the page and contact sheet written for a small synthetic
// dataset (3 heads, imbalanced classes, an undecodable image, samples without
// some labels, a writer's uncommitted temporary), and the command's exit codes.
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "atelier/cli/contact_sheet.h"
#include "atelier/cli/preview.h"
#include "atelier/common/status_matchers.h"
#include "atelier/common/testing/fault_env.h"
#include "atelier/dataset/sample_key.h"
#include "atelier/dataset/shard_writer.h"
#include "atelier/imaging/image.h"
#include "atelier/testing/html_check.h"
#include "atelier/testing/subprocess.h"
#include "atelier/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace atelier::cli {
namespace {

namespace fs = std::filesystem;
using ::atelier::testing::ReadFileOrEmpty;
using ::atelier::testing::RunCommand;
using ::atelier::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsSubsetOf;
using ::testing::Not;
using ::testing::Pair;
using ::testing::SizeIs;

constexpr char kInk[] = "ink & <pen>";
constexpr char kInkEscaped[] = "ink &amp; &lt;pen&gt;";
constexpr char kEvilUrl[] = "https://example.org/a?x=<script>alert(1)</script>&y='2'";

struct Colour {
  uint8_t r, g, b;
};

std::string SolidJpeg(Colour colour) {
  imaging::Image image;
  image.width = 64;
  image.height = 48;
  for (int i = 0; i < image.width * image.height; ++i) image.rgb.insert(image.rgb.end(), {colour.r, colour.g, colour.b});
  auto jpeg = imaging::EncodeJpeg(image, 90);
  EXPECT_OK(jpeg.status());
  return jpeg.ok() ? *jpeg : std::string();
}

struct Spec {
  Spec(int id, std::map<std::string, std::string> labels, Colour colour, bool undecodable = false,
       std::string url = "")
      : id(id), labels(std::move(labels)), colour(colour), undecodable(undecodable), url(std::move(url)) {}
  int id;
  std::map<std::string, std::string> labels;
  Colour colour;
  bool undecodable;
  std::string url;
};

dataset::Sample MakeSample(const Spec& spec) {
  dataset::Sample sample;
  sample.format = dataset::ImageFormat::kJpeg;
  sample.image_bytes = spec.undecodable ? std::string("\xFF\xD8\xFF\xE0 not really a jpeg", 24) : SolidJpeg(spec.colour);
  sample.meta.key = dataset::BamKey(spec.id);
  sample.meta.source = "bam";
  sample.meta.url = spec.url.empty() ? "https://cdn.example/img/" + std::to_string(spec.id) + ".jpg" : spec.url;
  sample.meta.labels = spec.labels;
  sample.meta.width = 64;
  sample.meta.height = 48;
  return sample;
}

void WriteShard(const fs::path& root, uint64_t index, const std::vector<Spec>& specs) {
  auto writer = dataset::ShardWriter::Open(root, index);
  ASSERT_OK(writer.status());
  for (const Spec& spec : specs) ASSERT_OK((*writer)->Add(MakeSample(spec)));
  ASSERT_OK((*writer)->Commit(dataset::ShardStats{}).status());
}

constexpr Colour kRed{220, 30, 30}, kBlue{30, 30, 220}, kGreen{30, 200, 30}, kBlack{10, 10, 10};

// media: oilpaint 12, watercolor 5, ink 2, (no label) 1 (+1 undecodable oilpaint);
// emotion: happy 11, sad 6, (no label) 3; era (only in shard 1): 1900s 2, (no label) 18.
std::vector<Spec> Shard0() {
  std::vector<Spec> specs;
  for (int i = 0; i < 12; ++i) {
    specs.push_back({1000 + i, {{"media", "oilpaint"}, {"emotion", i % 2 ? "sad" : "happy"}}, kRed});
  }
  for (int i = 0; i < 5; ++i) specs.push_back({2000 + i, {{"media", "watercolor"}, {"emotion", "happy"}}, kBlue});
  return specs;
}

std::vector<Spec> Shard1() {
  return {{3000, {{"media", kInk}, {"era", "1900s"}}, kGreen, false, kEvilUrl},
          {3001, {{"media", kInk}, {"era", "1900s"}}, kGreen},
          {4000, {}, kBlack},
          {5000, {{"media", "oilpaint"}, {"emotion", "happy"}}, kRed, true}};
}

// The class blocks of a page: head -> class -> (count, keys shown).
struct PageClass {
  int count = 0;
  bool unlabeled = false;
  std::vector<std::string> keys;
};
using Page = std::map<std::string, std::map<std::string, PageClass>>;

Page ParsePage(const std::string& html) {
  Page page;
  static const std::regex block(
      "<div class='class' data-head='([^']*)' data-class='([^']*)' data-count='([0-9]+)'( data-unlabeled='1')?>");
  static const std::regex figure("<figure data-key='([^']*)'>");
  std::vector<std::smatch> blocks;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), block); it != std::sregex_iterator(); ++it) {
    blocks.push_back(*it);
  }
  for (size_t i = 0; i < blocks.size(); ++i) {
    const auto begin = blocks[i].suffix().first;
    const auto end = i + 1 < blocks.size() ? blocks[i + 1].prefix().second : html.end();
    PageClass& c = page[blocks[i][1].str()][blocks[i][2].str()];
    c.count = std::stoi(blocks[i][3].str());
    c.unlabeled = blocks[i][4].matched;
    const std::string body(begin, end);
    const std::string inside = body.substr(0, body.find("</section>"));
    for (auto it = std::sregex_iterator(inside.begin(), inside.end(), figure); it != std::sregex_iterator(); ++it) {
      c.keys.push_back((*it)[1].str());
    }
  }
  return page;
}

// (class, count) of the bars of one head, top to bottom.
std::vector<std::pair<std::string, int>> Bars(const std::string& html, const std::string& head) {
  std::vector<std::pair<std::string, int>> bars;
  const std::regex bar("<g class='bar' data-head='" + head + "' data-class='([^']*)' data-count='([0-9]+)'");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), bar); it != std::sregex_iterator(); ++it) {
    bars.emplace_back((*it)[1].str(), std::stoi((*it)[2].str()));
  }
  return bars;
}

std::string Attribute(const std::string& html, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(html, m, std::regex(name + "='([^']*)'"))) return "";
  return m[1].str();
}

std::set<std::string> KeysOf(const std::vector<Spec>& specs, const std::string& head, const std::string& value) {
  std::set<std::string> keys;
  for (const Spec& s : specs) {
    auto it = s.labels.find(head);
    const bool match = value.empty() ? it == s.labels.end() : it != s.labels.end() && it->second == value;
    if (match && !s.undecodable) keys.insert(dataset::BamKey(s.id));
  }
  return keys;
}

std::set<std::string> AsSet(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

class PreviewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_ / "data";
    WriteShard(root_, 0, Shard0());
    WriteShard(root_, 1, Shard1());
    all_ = Shard0();
    for (const Spec& s : Shard1()) all_.push_back(s);
    // A crawler still writing shard 2: its temporary must not be read.
    auto writer = dataset::ShardWriter::Open(root_, 2);
    ASSERT_OK(writer.status());
    ASSERT_OK((*writer)->Add(MakeSample({9000, {{"media", "ghost"}}, kRed})));
    live_writer_ = *std::move(writer);
    ASSERT_TRUE(fs::exists(live_writer_->temporary_path()));
  }

  absl::StatusOr<PreviewData> Write(const fs::path& out, uint64_t seed = 7, int per_class = 4) {
    PreviewOptions options;
    options.data = root_;
    options.per_class = per_class;
    options.seed = seed;
    return WritePreview(options, out);
  }

  TempDir dir_{"preview"};
  fs::path root_;
  std::vector<Spec> all_;
  std::unique_ptr<dataset::ShardWriter> live_writer_;
};

TEST_F(PreviewTest, PageListsEveryClassWithItsCountAndImages) {
  ASSERT_OK(Write(dir_ / "out").status());
  const std::string html = ReadFileOrEmpty(dir_ / "out" / "preview.html");
  const Page page = ParsePage(html);

  ASSERT_EQ(page.size(), 3u);
  const auto& media = page.at("media");
  ASSERT_EQ(media.size(), 4u);
  EXPECT_EQ(media.at("oilpaint").count, 12);
  EXPECT_EQ(media.at("watercolor").count, 5);
  EXPECT_EQ(media.at(kInkEscaped).count, 2);
  EXPECT_EQ(media.at("(no label)").count, 1);
  EXPECT_TRUE(media.at("(no label)").unlabeled);
  EXPECT_FALSE(media.at("oilpaint").unlabeled);
  EXPECT_EQ(page.at("emotion").at("happy").count, 11);
  EXPECT_EQ(page.at("emotion").at("sad").count, 6);
  EXPECT_EQ(page.at("emotion").at("(no label)").count, 3);
  EXPECT_EQ(page.at("era").at("1900s").count, 2);
  EXPECT_EQ(page.at("era").at("(no label)").count, 18);

  // per_class images per class, fewer when the class has fewer, each from its class.
  const std::map<std::string, std::map<std::string, std::string>> value = {
      {"media", {{"oilpaint", "oilpaint"}, {"watercolor", "watercolor"}, {kInkEscaped, kInk}, {"(no label)", ""}}},
      {"emotion", {{"happy", "happy"}, {"sad", "sad"}, {"(no label)", ""}}},
      {"era", {{"1900s", "1900s"}, {"(no label)", ""}}}};
  for (const auto& [head, classes] : page) {
    for (const auto& [name, c] : classes) {
      EXPECT_THAT(c.keys, SizeIs(std::min(c.count, 4))) << head << "/" << name;
      EXPECT_THAT(AsSet(c.keys), SizeIs(c.keys.size())) << head << "/" << name << ": a key shown twice";
      EXPECT_THAT(AsSet(c.keys), IsSubsetOf(KeysOf(all_, head, value.at(head).at(name)))) << head << "/" << name;
    }
  }

  // Bars: largest first, "(no label)" last.
  EXPECT_THAT(Bars(html, "media"), ElementsAre(Pair("oilpaint", 12), Pair("watercolor", 5), Pair(kInkEscaped, 2),
                                               Pair("(no label)", 1)));
  EXPECT_THAT(Bars(html, "emotion"), ElementsAre(Pair("happy", 11), Pair("sad", 6), Pair("(no label)", 3)));
}

TEST_F(PreviewTest, SummaryAndUndecodableSampleAreReported) {
  ASSERT_OK_AND_ASSIGN(PreviewData data, Write(dir_ / "out"));
  EXPECT_EQ(data.undecodable, 1);
  const std::string html = ReadFileOrEmpty(dir_ / "out" / "preview.html");
  EXPECT_EQ(Attribute(html, "data-shards"), "2");
  EXPECT_EQ(Attribute(html, "data-samples"), "21");
  EXPECT_EQ(Attribute(html, "data-decodable"), "20");
  EXPECT_EQ(Attribute(html, "data-undecodable"), "1");
  EXPECT_EQ(Attribute(html, "data-skipped"), "0");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(html, m, std::regex("<li class='undecodable' data-key='([^']*)' data-reason='([^']*)'")));
  EXPECT_EQ(m[1].str(), dataset::BamKey(5000));
  EXPECT_FALSE(m[2].str().empty());
  EXPECT_THAT(html, Not(HasSubstr("<figure data-key='" + dataset::BamKey(5000) + "'")));
}

TEST_F(PreviewTest, UncommittedShardIsIgnored) {
  ASSERT_OK_AND_ASSIGN(PreviewData data, Write(dir_ / "out"));
  EXPECT_THAT(data.shards, SizeIs(2));
  const std::string html = ReadFileOrEmpty(dir_ / "out" / "preview.html");
  EXPECT_THAT(html, Not(HasSubstr("ghost")));
  EXPECT_THAT(html, Not(HasSubstr(dataset::BamKey(9000))));
}

TEST_F(PreviewTest, TextIsEscaped) {
  ASSERT_OK(Write(dir_ / "out", 7, 8).status());
  const std::string html = ReadFileOrEmpty(dir_ / "out" / "preview.html");
  EXPECT_THAT(html, Not(HasSubstr("<script>")));
  EXPECT_THAT(html, Not(HasSubstr("<pen>")));
  EXPECT_THAT(html, HasSubstr("https://example.org/a?x=&lt;script&gt;alert(1)&lt;/script&gt;&amp;y=&#39;2&#39;"));
}

TEST_F(PreviewTest, SameSeedSameSelectionOtherSeedOther) {
  ASSERT_OK(Write(dir_ / "a", 7).status());
  ASSERT_OK(Write(dir_ / "b", 7).status());
  ASSERT_OK(Write(dir_ / "c", 8).status());
  const Page a = ParsePage(ReadFileOrEmpty(dir_ / "a" / "preview.html"));
  const Page b = ParsePage(ReadFileOrEmpty(dir_ / "b" / "preview.html"));
  const Page c = ParsePage(ReadFileOrEmpty(dir_ / "c" / "preview.html"));
  EXPECT_EQ(ReadFileOrEmpty(dir_ / "a" / "preview.html"), ReadFileOrEmpty(dir_ / "b" / "preview.html"));
  EXPECT_EQ(ReadFileOrEmpty(dir_ / "a" / "contact_sheet.png"), ReadFileOrEmpty(dir_ / "b" / "contact_sheet.png"));
  EXPECT_EQ(a.at("media").at("oilpaint").keys, b.at("media").at("oilpaint").keys);
  EXPECT_NE(a.at("media").at("oilpaint").keys, c.at("media").at("oilpaint").keys);
}

TEST_F(PreviewTest, SelectionDependsOnKeysNotShardOrder) {
  ASSERT_OK(Write(dir_ / "a").status());
  // The same samples, the shards written the other way round.
  const fs::path swapped = dir_ / "swapped";
  WriteShard(swapped, 0, Shard1());
  WriteShard(swapped, 1, Shard0());
  PreviewOptions options;
  options.data = swapped;
  options.per_class = 4;
  options.seed = 7;
  ASSERT_OK(WritePreview(options, dir_ / "b").status());
  const Page a = ParsePage(ReadFileOrEmpty(dir_ / "a" / "preview.html"));
  const Page b = ParsePage(ReadFileOrEmpty(dir_ / "b" / "preview.html"));
  for (const auto& [head, classes] : a) {
    for (const auto& [name, c] : classes) {
      EXPECT_EQ(AsSet(c.keys), AsSet(b.at(head).at(name).keys)) << head << "/" << name;
    }
  }
  // A grown dataset: a chosen image is only ever replaced by a new sample.
  std::vector<Spec> more;
  for (int i = 0; i < 10; ++i) more.push_back({6000 + i, {{"media", "oilpaint"}}, kRed});
  WriteShard(swapped, 2, more);
  ASSERT_OK(WritePreview(options, dir_ / "grown").status());
  const Page grown = ParsePage(ReadFileOrEmpty(dir_ / "grown" / "preview.html"));
  std::set<std::string> allowed = AsSet(a.at("media").at("oilpaint").keys);
  for (const Spec& s : more) allowed.insert(dataset::BamKey(s.id));
  EXPECT_THAT(AsSet(grown.at("media").at("oilpaint").keys), IsSubsetOf(allowed));
}

// The files are written atomically through the Env: a full disk while writing
// the page leaves the earlier page byte for byte and no temporary.
TEST_F(PreviewTest, AFailedWriteLeavesTheEarlierFilesAndNoTemporary) {
  ASSERT_OK(Write(dir_ / "out").status());
  const std::string page = ReadFileOrEmpty(dir_ / "out" / "preview.html");
  const std::string sheet = ReadFileOrEmpty(dir_ / "out" / "contact_sheet.png");
  atelier::testing::FaultEnv env;
  env.FailAppendsAfter(100, ENOSPC, "preview.html");
  PreviewOptions options;
  options.data = root_;
  options.seed = 8;
  EXPECT_THAT(WritePreview(options, dir_ / "out", &env),
              atelier::testing::StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("preview.html")));
  EXPECT_EQ(ReadFileOrEmpty(dir_ / "out" / "preview.html"), page);
  EXPECT_EQ(ReadFileOrEmpty(dir_ / "out" / "contact_sheet.png"), sheet);
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir_ / "out")) names.push_back(entry.path().filename().string());
  EXPECT_THAT(names, ::testing::UnorderedElementsAre("preview.html", "contact_sheet.png"));
}

TEST_F(PreviewTest, OneHeadOnly) {
  PreviewOptions options;
  options.data = root_;
  options.head = "emotion";
  ASSERT_OK(WritePreview(options, dir_ / "out").status());
  const Page page = ParsePage(ReadFileOrEmpty(dir_ / "out" / "preview.html"));
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page.at("emotion").at("happy").count, 11);
  EXPECT_EQ(page.at("emotion").at("(no label)").count, 3);
  EXPECT_THAT(page.at("emotion").at("happy").keys, SizeIs(8));  // the default per_class

  options.head = "nosuch";
  auto missing = CollectPreview(options);
  EXPECT_THAT(missing.status(), ::atelier::testing::StatusIs(absl::StatusCode::kNotFound, HasSubstr("nosuch")));
  EXPECT_THAT(missing.status().message(), HasSubstr("emotion"));
}

TEST_F(PreviewTest, ContactSheetIsAGridOfTheThumbnails) {
  ASSERT_OK_AND_ASSIGN(PreviewData data, Write(dir_ / "out"));
  const std::string png = ReadFileOrEmpty(dir_ / "out" / "contact_sheet.png");
  ASSERT_OK_AND_ASSIGN(imaging::DecodedImage sheet, imaging::DecodeImage(png));
  EXPECT_EQ(sheet.codec, imaging::Codec::kPng);
  // 9 rows (media 4, emotion 3, era 2), 4 columns of 96 px with 4 px gaps.
  EXPECT_EQ(sheet.image.width, 4 + 4 * 100);
  EXPECT_EQ(sheet.image.height, 4 + 9 * 100);
  const ContactSheetSize size = ContactSheetSizeOf(data);
  EXPECT_EQ(size.rows, 9);
  EXPECT_EQ(size.width, sheet.image.width);
  EXPECT_EQ(size.height, sheet.image.height);
  auto pixel = [&](int row, int column) {
    const int x = 4 + column * 100 + 48, y = 4 + row * 100 + 48;
    const size_t i = (static_cast<size_t>(y) * sheet.image.width + x) * 3;
    return std::vector<int>{sheet.image.rgb[i], sheet.image.rgb[i + 1], sheet.image.rgb[i + 2]};
  };
  auto near = [](std::vector<int> got, Colour want) {
    return std::abs(got[0] - want.r) < 25 && std::abs(got[1] - want.g) < 25 && std::abs(got[2] - want.b) < 25;
  };
  // Heads by name (emotion: rows 0-2, era: 3-4, media: 5-8), classes as the bars.
  EXPECT_TRUE(near(pixel(3, 0), kGreen));  // era/1900s: the two ink samples
  EXPECT_TRUE(near(pixel(5, 0), kRed));    // media/oilpaint
  EXPECT_TRUE(near(pixel(5, 3), kRed));
  EXPECT_TRUE(near(pixel(6, 0), kBlue));   // media/watercolor
  EXPECT_TRUE(near(pixel(7, 1), kGreen));  // media/ink: 2 images
  EXPECT_FALSE(near(pixel(7, 2), kGreen)); // ... and then empty cells
  EXPECT_TRUE(near(pixel(8, 0), kBlack));  // media/(no label)
  // The page names each class's row (1-based).
  const std::string html = ReadFileOrEmpty(dir_ / "out" / "preview.html");
  EXPECT_TRUE(std::regex_search(
      html, std::regex("data-class='oilpaint' data-count='12'><h3>[^<]*contact_sheet.png row 6\\)")));
}

TEST_F(PreviewTest, PagePassesTheHtmlChecker) {
  ASSERT_OK(Write(dir_ / "out").status());
  auto check = atelier::testing::CheckHtmlPage(dir_ / "out" / "preview.html");
  EXPECT_EQ(check.exit_code, 0) << check.output;
}

TEST_F(PreviewTest, ReadsOneTarOrAFolderOfTars) {
  PreviewOptions options;
  options.data = root_ / "shards" / "000000.tar";
  ASSERT_OK_AND_ASSIGN(PreviewData one, CollectPreview(options));
  EXPECT_THAT(one.shards, SizeIs(1));
  EXPECT_EQ(one.samples, 17);
  options.data = root_ / "shards";  // *.tar only: the temporary and the stats files are not shards
  ASSERT_OK_AND_ASSIGN(PreviewData folder, CollectPreview(options));
  EXPECT_THAT(folder.shards, SizeIs(2));
  EXPECT_EQ(folder.samples, 21);
}

TEST(PreviewCollect, CountsEveryUndecodableImageAndListsTheFirstHundred) {
  TempDir dir("preview-undecodable");
  std::vector<Spec> specs;
  for (int i = 0; i < 103; ++i) specs.push_back({i + 1, {{"media", "x"}}, kRed, i != 50});
  WriteShard(dir / "data", 0, specs);
  PreviewOptions options;
  options.data = dir / "data";
  ASSERT_OK(WritePreview(options, dir / "out").status());
  const std::string html = ReadFileOrEmpty(dir / "out" / "preview.html");
  EXPECT_EQ(Attribute(html, "data-undecodable"), "102");
  const std::regex item("<li class='undecodable'");
  EXPECT_EQ(std::distance(std::sregex_iterator(html.begin(), html.end(), item), std::sregex_iterator()), 100);
  EXPECT_EQ(ParsePage(html).at("media").at("x").count, 1);
}

TEST(PreviewCollect, MissingOrEmptyDataNamesThePath) {
  TempDir dir("preview-bad");
  PreviewOptions options;
  options.data = dir / "nowhere";
  EXPECT_THAT(CollectPreview(options).status(),
              ::atelier::testing::StatusIs(absl::StatusCode::kNotFound, HasSubstr((dir / "nowhere").string())));
  fs::create_directories(dir / "empty" / "shards");
  options.data = dir / "empty";
  EXPECT_THAT(CollectPreview(options).status(),
              ::atelier::testing::StatusIs(absl::StatusCode::kNotFound, HasSubstr((dir / "empty").string())));
}

// The command, as users run it.
std::string Atelier() { return atelier::testing::BinaryPath("atelier").string(); }

TEST_F(PreviewTest, CommandWritesBothFilesIntoPreviewByDefault) {
  auto result = RunCommand({"/bin/sh", "-c",
                            "cd '" + dir_.path().string() + "' && exec '" + Atelier() + "' preview --data data"});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(fs::is_regular_file(dir_ / "preview" / "preview.html"));
  EXPECT_TRUE(fs::is_regular_file(dir_ / "preview" / "contact_sheet.png"));
  auto chosen = RunCommand({Atelier(), "preview", "--data", root_.string(), "--out", (dir_ / "x").string(),
                            "--head", "media", "--per-class", "2", "--seed", "3"});
  ASSERT_EQ(chosen.exit_code, 0) << chosen.output;
  const Page page = ParsePage(ReadFileOrEmpty(dir_ / "x" / "preview.html"));
  ASSERT_EQ(page.size(), 1u);
  EXPECT_THAT(page.at("media").at("oilpaint").keys, SizeIs(2));
  auto no_head = RunCommand({Atelier(), "preview", "--data", root_.string(), "--out", (dir_ / "y").string(),
                             "--head", "nosuch"});
  EXPECT_EQ(no_head.exit_code, 1) << no_head.output;
  EXPECT_THAT(no_head.output, HasSubstr("nosuch"));
  EXPECT_THAT(no_head.output, HasSubstr("media"));
}

TEST(PreviewCommand, UsageErrorsExitTwo) {
  EXPECT_EQ(RunCommand({Atelier(), "preview", "--bogus"}).exit_code, 2);
  EXPECT_EQ(RunCommand({Atelier(), "preview"}).exit_code, 2);  // --data is required
  EXPECT_EQ(RunCommand({Atelier(), "preview", "--data", "x", "--per-class", "0"}).exit_code, 2);
  EXPECT_EQ(RunCommand({Atelier(), "preview", "--data", "x", "--seed", "minus"}).exit_code, 2);
}

TEST(PreviewCommand, BadDataExitsOneNamingThePath) {
  TempDir dir("preview-cmd");
  const std::string missing = (dir / "no-such-root").string();
  auto result = RunCommand({Atelier(), "preview", "--data", missing, "--out", (dir / "out").string()});
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_THAT(result.output, HasSubstr(missing));
  EXPECT_FALSE(fs::exists(dir / "out"));

  fs::create_directories(dir / "root" / "shards");
  auto empty = RunCommand({Atelier(), "preview", "--data", (dir / "root").string(), "--out", (dir / "out").string()});
  EXPECT_EQ(empty.exit_code, 1) << empty.output;
  EXPECT_THAT(empty.output, HasSubstr((dir / "root").string()));
}

}  // namespace
}  // namespace atelier::cli

namespace atelier::cli {
namespace {

TEST_F(PreviewTest, LabelFieldReadsLabelsAsTrainDoes) {
  PreviewOptions options;
  options.data = root_;
  ASSERT_OK_AND_ASSIGN(options.label_fields, dataset::ParseLabelFields("kind=source,m=labels.media"));
  ASSERT_OK_AND_ASSIGN(PreviewData data, CollectPreview(options));
  std::map<std::string, std::map<std::string, int64_t>> counts;
  for (const auto& head : data.heads) {
    for (const auto& c : head.classes) counts[head.name][c.unlabeled ? "(no label)" : c.name] = c.count;
  }
  EXPECT_EQ(counts.size(), 2u) << "only the heads the spec names";
  EXPECT_EQ(counts["kind"]["bam"], 20);  // the top-level "source" of every decodable sample
  EXPECT_EQ(counts["m"]["oilpaint"], 12);
  EXPECT_EQ(counts["m"]["watercolor"], 5);
  EXPECT_EQ(counts["m"]["(no label)"], 1);
}

TEST_F(PreviewTest, CommandRefusesABadLabelFieldNamingIt) {
  auto ok = RunCommand({Atelier(), "preview", "--data", root_.string(), "--out", (dir_ / "lf").string(),
                        "--label-field", "m=labels.media"});
  ASSERT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_EQ(ParsePage(ReadFileOrEmpty(dir_ / "lf" / "preview.html")).at("m").at("oilpaint").count, 12);
  auto bad = RunCommand({Atelier(), "preview", "--data", root_.string(), "--out", (dir_ / "bad").string(),
                         "--label-field", "a=x,a=y"});
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_THAT(bad.output, HasSubstr("--label-field"));
  EXPECT_FALSE(fs::exists(dir_ / "bad"));
}

}  // namespace
}  // namespace atelier::cli
