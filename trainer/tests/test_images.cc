#include "test_images.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "atelier/dataset/shard_writer.h"
#include "gtest/gtest.h"

namespace atelier::trainer::testing {

imaging::Image SolidImage(int size, uint8_t r, uint8_t g, uint8_t b) {
  imaging::Image image;
  image.width = image.height = size;
  image.rgb.resize(size_t(size) * size * 3);
  for (size_t p = 0; p < size_t(size) * size; ++p) {
    image.rgb[3 * p] = r;
    image.rgb[3 * p + 1] = g;
    image.rgb[3 * p + 2] = b;
  }
  return image;
}

dataset::Sample PngSample(const std::string& key, const std::map<std::string, std::string>& labels,
                          const imaging::Image& image) {
  dataset::Sample sample;
  sample.format = dataset::ImageFormat::kPng;
  sample.meta.key = key;
  sample.meta.source = "url";
  sample.meta.labels = labels;
  sample.meta.width = image.width;
  sample.meta.height = image.height;
  auto png = imaging::EncodePng(image);
  EXPECT_TRUE(png.ok()) << png.status();
  if (png.ok()) sample.image_bytes = *png;
  return sample;
}

void WriteShard(const std::filesystem::path& root, uint64_t index, const std::vector<dataset::Sample>& samples) {
  auto writer = dataset::ShardWriter::Open(root, index);
  ASSERT_TRUE(writer.ok()) << writer.status();
  for (const auto& s : samples) ASSERT_TRUE((*writer)->Add(s).ok()) << s.meta.key;
  dataset::ShardStats stats;  // as a crawler writes them: the sample count is known
  stats.samples = static_cast<int64_t>(samples.size());
  auto committed = (*writer)->Commit(stats);
  ASSERT_TRUE(committed.ok()) << committed.status();
}

std::vector<dataset::Sample> ColourSamples(int per_class, int size, uint64_t seed, const std::string& prefix) {
  const char* names[] = {"red", "green", "blue"};
  std::mt19937_64 rng(seed);
  std::vector<dataset::Sample> samples;
  int n = 0;
  for (int i = 0; i < per_class; ++i) {
    for (int c = 0; c < 3; ++c) {
      imaging::Image image = SolidImage(size, 0, 0, 0);
      for (auto& v : image.rgb) v = static_cast<uint8_t>(100 + rng() % 56);
      int side = size / 2;
      int x0 = static_cast<int>(rng() % (size - side + 1)), y0 = static_cast<int>(rng() % (size - side + 1));
      for (int y = y0; y < y0 + side; ++y) {
        for (int x = x0; x < x0 + side; ++x) {
          for (int ch = 0; ch < 3; ++ch) image.rgb[(size_t(y) * size + x) * 3 + ch] = ch == c ? 230 : 20;
        }
      }
      samples.push_back(PngSample(absl::StrCat(prefix, "-", n++), {{"colour", names[c]}}, image));
    }
  }
  return samples;
}

TrainOptions SmallTrainOptions(const std::filesystem::path& data, const std::filesystem::path& out) {
  TrainOptions options;
  options.data_root = data;
  options.out_dir = out;
  options.image_size = 8;
  options.width = 4;
  options.depth = 1;
  options.epochs = 2;
  options.batch_size = 8;
  options.split.val_ratio = 0.3;
  options.threads = 1;
  options.decode_threads = 1;
  return options;
}

}  // namespace atelier::trainer::testing
