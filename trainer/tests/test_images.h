// Synthetic images and datasets for the trainer tests.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "atelier/dataset/sample.h"
#include "atelier/imaging/image.h"
#include "atelier/trainer/trainer.h"

namespace atelier::trainer::testing {

imaging::Image SolidImage(int size, uint8_t r, uint8_t g, uint8_t b);
dataset::Sample PngSample(const std::string& key, const std::map<std::string, std::string>& labels,
                          const imaging::Image& image);
// Writes `samples` as shard `index` of `root`; aborts the test on error.
void WriteShard(const std::filesystem::path& root, uint64_t index, const std::vector<dataset::Sample>& samples);

// Head "colour" with classes red/green/blue: grey noise with a square of the
// class colour somewhere; `per_class` samples each, keys "<prefix>-<n>".
std::vector<dataset::Sample> ColourSamples(int per_class, int size, uint64_t seed, const std::string& prefix = "s");

// A tiny, fast training run of `data` into `out`: 8 px, width 4, depth 1,
// 2 epochs of batch 8, val ratio 0.3, one thread each for LibTorch and decoding.
TrainOptions SmallTrainOptions(const std::filesystem::path& data, const std::filesystem::path& out);

}  // namespace atelier::trainer::testing
