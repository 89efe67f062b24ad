// bench_imaging_resize: the crawler's image path, single thread.
//
//   bench_imaging_resize --generate DIR [--count N] [--width W --height H]
//                        [--grain SIGMA] [--source-quality Q]
//       writes N photo-like JPEGs (smooth gradients, shapes, texture,
//       sensor-like noise of SIGMA levels; quality Q, 4:2:0) named
//       bench-NNNN.jpg into DIR.
//   bench_imaging_resize --input DIR [--size 256] [--quality 90] [--rounds R]
//                        [--full-decode]
//       reads every *.jpg of DIR into memory, then times R rounds of
//       DecodeAndResize(center_crop, size) + EncodeJpeg(quality) and prints
//       images per CPU-second (and per wall second). --separate: DecodeImage (DCT-scaled) + Resize instead;
//       --full-decode: DecodeImage at full size + Resize.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_format.h"
#include "atelier/imaging/image.h"

namespace {

namespace fs = std::filesystem;
using atelier::imaging::Image;

// CPU time of this process: on a shared machine, time spent waiting for a
// CPU is not ours, so rates are images per CPU-second (= per core).
double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

// Photo-like content: a low-frequency colour field, a few soft-edged
// ellipses (objects), fine texture and per-pixel noise.
Image MakePhoto(int width, int height, double grain_sigma, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  std::normal_distribution<double> noise(0.0, std::max(grain_sigma, 1e-9));
  double phase[3][3];
  for (auto& channel : phase) {
    for (double& p : channel) p = uni(rng) * 6.28;
  }
  struct Blob {
    double cx, cy, rx, ry, r, g, b;
  };
  std::vector<Blob> blobs(6);
  for (Blob& blob : blobs) {
    blob = {uni(rng) * width, uni(rng) * height, 40 + uni(rng) * width / 4, 40 + uni(rng) * height / 4,
            uni(rng) * 255, uni(rng) * 255, uni(rng) * 255};
  }
  Image image;
  image.width = width;
  image.height = height;
  image.rgb.resize(static_cast<size_t>(width) * height * 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const double fx = static_cast<double>(x) / width, fy = static_cast<double>(y) / height;
      double c[3];
      for (int k = 0; k < 3; ++k) {
        c[k] = 128 + 60 * std::sin(2.1 * fx * (k + 1) + phase[k][0]) * std::cos(1.7 * fy + phase[k][1]) +
               20 * std::sin(40 * fx + 25 * fy + phase[k][2]) * std::sin(30 * fy);
      }
      for (const Blob& blob : blobs) {
        const double dx = (x - blob.cx) / blob.rx, dy = (y - blob.cy) / blob.ry;
        const double d = dx * dx + dy * dy;
        if (d < 1.2) {
          const double a = std::clamp((1.2 - d) * 5, 0.0, 1.0);
          c[0] = c[0] * (1 - a) + blob.r * a;
          c[1] = c[1] * (1 - a) + blob.g * a;
          c[2] = c[2] * (1 - a) + blob.b * a;
        }
      }
      uint8_t* p = &image.rgb[(static_cast<size_t>(y) * width + x) * 3];
      const double grain = noise(rng);
      for (int k = 0; k < 3; ++k) p[k] = static_cast<uint8_t>(std::clamp(c[k] + grain + noise(rng) * 0.5, 0.0, 255.0));
    }
  }
  return image;
}

int Generate(const fs::path& dir, int count, int width, int height, double grain, int source_quality) {
  fs::create_directories(dir);
  size_t total = 0;
  for (int i = 0; i < count; ++i) {
    absl::StatusOr<std::string> jpeg =
        atelier::imaging::EncodeJpeg(MakePhoto(width, height, grain, 1000 + i), source_quality);
    if (!jpeg.ok()) {
      std::cerr << "encoding failed: " << jpeg.status() << "\n";
      return 1;
    }
    std::ofstream(dir / absl::StrFormat("bench-%04d.jpg", i), std::ios::binary) << *jpeg;
    total += jpeg->size();
  }
  std::cout << absl::StrFormat("wrote %d JPEGs of %dx%d (grain %.1f, quality %d) to %s: %.0f KB each, %.2f bits/pixel\n",
                               count, width, height, grain, source_quality, dir.string(),
                               total / 1024.0 / count, total * 8.0 / count / width / height);
  return 0;
}

int Run(const fs::path& dir, int size, int quality, int rounds, bool full_decode, bool separate) {
  std::vector<fs::path> paths;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".jpg") paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  if (paths.empty()) {
    std::cerr << "no .jpg files in " << dir << "\n";
    return 1;
  }
  std::vector<std::string> files;
  for (const fs::path& path : paths) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    files.push_back(buffer.str());
  }
  atelier::imaging::DecodeOptions options;
  options.min_shorter_side = full_decode ? 0 : size;
  size_t out_bytes = 0;
  using Clock = std::chrono::steady_clock;
  double decode_time = 0, resize_time = 0, encode_time = 0;  // CPU seconds
  const auto start = Clock::now();
  const double cpu_start = CpuSeconds();
  for (int round = 0; round < rounds; ++round) {
    for (size_t i = 0; i < files.size(); ++i) {
      const double t0 = CpuSeconds();
      absl::StatusOr<Image> resized;
      double t1 = t0;
      if (separate || full_decode) {
        auto decoded = atelier::imaging::DecodeImage(files[i], options);
        t1 = CpuSeconds();
        if (!decoded.ok()) {
          std::cerr << paths[i] << ": " << decoded.status() << "\n";
          return 1;
        }
        resized = atelier::imaging::Resize(decoded->image, atelier::imaging::ResizeMode::kCenterCrop, size);
      } else {
        auto decoded = atelier::imaging::DecodeAndResize(files[i], atelier::imaging::ResizeMode::kCenterCrop, size);
        if (decoded.ok()) {
          resized = std::move(decoded->image);
        } else {
          resized = decoded.status();
        }
      }
      if (!resized.ok()) {
        std::cerr << paths[i] << ": " << resized.status() << "\n";
        return 1;
      }
      const double t2 = CpuSeconds();
      auto jpeg = atelier::imaging::EncodeJpeg(*resized, quality);
      const double t3 = CpuSeconds();
      decode_time += t1 - t0;
      resize_time += t2 - t1;
      encode_time += t3 - t2;
      if (!jpeg.ok()) {
        std::cerr << paths[i] << ": " << jpeg.status() << "\n";
        return 1;
      }
      out_bytes += jpeg->size();
    }
  }
  const double cpu_seconds = CpuSeconds() - cpu_start;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const size_t images = files.size() * rounds;
  const char* variant = full_decode ? " (full decode)" : (separate ? " (DecodeImage + Resize)" : "");
  std::cout << absl::StrFormat(
      "atelier%s: %d images in %.3f s CPU = %.1f images/s per core (wall %.3f s = %.1f images/s; %.0f output "
      "bytes/image)\n",
      variant, images, cpu_seconds, images / cpu_seconds, seconds, images / seconds,
      static_cast<double>(out_bytes) / images);
  auto ms_per_image = [&](double cpu) { return cpu * 1e3 / images; };
  if (separate || full_decode) {
    std::cout << absl::StrFormat("  CPU per image: decode %.2f ms, resize %.2f ms, encode %.2f ms\n",
                                 ms_per_image(decode_time), ms_per_image(resize_time), ms_per_image(encode_time));
  } else {
    std::cout << absl::StrFormat("  CPU per image: decode + resize %.2f ms, encode %.2f ms\n",
                                 ms_per_image(decode_time + resize_time), ms_per_image(encode_time));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Decode + centre-crop resize + JPEG encode benchmark (single thread)"};
  std::string generate_dir, input_dir;
  int count = 200, width = 1024, height = 768, size = 256, quality = 90, rounds = 1, source_quality = 90;
  double grain = 2.0;
  bool full_decode = false, separate = false;
  auto* generate = app.add_option("--generate", generate_dir, "write photo-like JPEGs into this directory");
  app.add_option("--input", input_dir, "directory of .jpg files to benchmark")->excludes(generate);
  app.add_option("--count", count, "images to generate")->check(CLI::Range(1, 100000));
  app.add_option("--width", width, "generated width")->check(CLI::Range(16, 8192));
  app.add_option("--height", height, "generated height")->check(CLI::Range(16, 8192));
  app.add_option("--grain", grain, "generated sensor-like noise, standard deviation in levels")
      ->check(CLI::Range(0.0, 50.0));
  app.add_option("--source-quality", source_quality, "generated JPEG quality")->check(CLI::Range(1, 100));
  app.add_option("--size", size, "centre-crop size")->check(CLI::Range(8, 8192));
  app.add_option("--quality", quality, "output JPEG quality")->check(CLI::Range(1, 100));
  app.add_option("--rounds", rounds, "passes over the input set")->check(CLI::Range(1, 1000));
  app.add_flag("--full-decode", full_decode, "DecodeImage at full size (no DCT scaling), then Resize");
  app.add_flag("--separate", separate, "DecodeImage (DCT-scaled) then Resize instead of DecodeAndResize");
  CLI11_PARSE(app, argc, argv);
  if (!generate_dir.empty()) return Generate(generate_dir, count, width, height, grain, source_quality);
  if (!input_dir.empty()) return Run(input_dir, size, quality, rounds, full_decode, separate);
  std::cerr << "one of --generate or --input is required\n" << app.help();
  return 2;
}
