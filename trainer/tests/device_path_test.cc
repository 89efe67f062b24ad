// The device side of the data path, run on the CPU: PrepareImages (the GPU's
// conversion and affine augmentation), the autocast guard, OpenDevice, and
// the device-path batch.
#include <random>
#include <vector>

#include <torch/torch.h>

#include "atelier/common/status_matchers.h"
#include "atelier/trainer/augment.h"
#include "atelier/trainer/autocast_guard.h"
#include "atelier/trainer/batcher.h"
#include "atelier/trainer/device_augment.h"
#include "atelier/trainer/device_context.h"
#include "gtest/gtest.h"

namespace atelier::trainer {
namespace {

constexpr int kSize = 24;

std::vector<uint8_t> Pattern(uint64_t seed, int channels) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> px(kSize * kSize * channels);
  // Smooth gradients plus noise: interpolation differences stay small but
  // any geometric mistake (a wrong sign, a transposed axis) shows.
  for (int y = 0; y < kSize; ++y)
    for (int x = 0; x < kSize; ++x)
      for (int c = 0; c < channels; ++c)
        px[(y * kSize + x) * channels + c] = static_cast<uint8_t>((x * 9 + y * 3 * (c + 1) + rng() % 8) % 256);
  return px;
}

torch::Tensor AsRaw(const std::vector<uint8_t>& px, int channels) {
  return torch::from_blob(const_cast<uint8_t*>(px.data()), {1, kSize, kSize, channels}, torch::kUInt8).clone();
}

TEST(PrepareImagesTest, WithoutAugmentationIsPixelsOver255InNchw) {
  auto px = Pattern(1, 3);
  torch::Tensor x = PrepareImages(AsRaw(px, 3), torch::Tensor(), false);
  ASSERT_EQ(x.sizes(), (std::vector<int64_t>{1, 3, kSize, kSize}));
  EXPECT_FLOAT_EQ(x[0][2][5][7].item<float>(), px[(5 * kSize + 7) * 3 + 2] / 255.0f);
  EXPECT_TRUE(x.is_contiguous());
  torch::Tensor cl = PrepareImages(AsRaw(px, 3), torch::Tensor(), true);
  EXPECT_TRUE(cl.is_contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(torch::equal(cl, x));
}

TEST(PrepareImagesTest, IdentityAndFlipMatricesAreExact) {
  auto px = Pattern(2, 3);
  torch::Tensor plain = PrepareImages(AsRaw(px, 3), torch::Tensor(), false);
  float identity[6], flip[6];
  AffineGridMatrix(AugmentDraw{1.0, kSize / 2.0, kSize / 2.0, false, 0.0}, kSize, identity);
  AffineGridMatrix(AugmentDraw{1.0, kSize / 2.0, kSize / 2.0, true, 0.0}, kSize, flip);
  torch::Tensor same = PrepareImages(AsRaw(px, 3), torch::from_blob(identity, {1, 2, 3}).clone(), false);
  torch::Tensor flipped = PrepareImages(AsRaw(px, 3), torch::from_blob(flip, {1, 2, 3}).clone(), false);
  EXPECT_LT((same - plain).abs().max().item<float>(), 1e-5);
  EXPECT_LT((flipped - plain.flip({3})).abs().max().item<float>(), 1e-5);
}

// The device warp and the host's AugmentImage, given the same draws, give the
// same images (up to the host's rounding to uint8).
TEST(PrepareImagesTest, MatchesTheHostAugmentationForTheSameDraws) {
  AugmentOptions options;
  options.max_rotation_deg = 20;
  for (int channels : {1, 3}) {
    for (uint64_t seed = 0; seed < 12; ++seed) {
      auto px = Pattern(seed + 10, channels);
      std::vector<uint8_t> host(px.size());
      std::mt19937_64 host_rng(seed);
      AugmentImage(px.data(), host.data(), kSize, channels, options, host_rng);
      std::mt19937_64 device_rng(seed);
      float theta[6];
      AffineGridMatrix(DrawAugment(kSize, options, device_rng), kSize, theta);
      torch::Tensor warped = PrepareImages(AsRaw(px, channels), torch::from_blob(theta, {1, 2, 3}).clone(), false);
      torch::Tensor expected = AsRaw(host, channels).permute({0, 3, 1, 2}).to(torch::kFloat32) / 255.0f;
      double worst = (warped - expected).abs().max().item<double>() * 255.0;
      EXPECT_LE(worst, 0.5 + 1e-3) << "channels " << channels << " seed " << seed;
    }
  }
}

TEST(DeviceBatchTest, CarriesRawPixelsAndTheSameDrawsAsTheHostBatch) {
  ImageSet set;
  set.image_size = kSize;
  set.channels = 3;
  for (int i = 0; i < 4; ++i) {
    auto px = Pattern(30 + i, 3);
    set.pixels.insert(set.pixels.end(), px.begin(), px.end());
    set.keys.push_back("k" + std::to_string(i));
  }
  std::vector<int32_t> targets = {0, 1, -1, 2};
  AugmentOptions options;
  Batch host = MakeBatch(set, targets, 1, {3, 1}, &options, 5, 2);
  Batch device = MakeDeviceBatch(set, targets, 1, {3, 1}, &options, 5, 2, /*pinned=*/false);
  ASSERT_EQ(device.raw.sizes(), (std::vector<int64_t>{2, kSize, kSize, 3}));
  ASSERT_EQ(device.theta.sizes(), (std::vector<int64_t>{2, 2, 3}));
  EXPECT_TRUE(torch::equal(device.targets, host.targets));
  torch::Tensor warped = PrepareImages(device.raw, device.theta, false);
  EXPECT_LE((warped - host.images).abs().max().item<double>() * 255.0, 0.5 + 1e-3);
  Batch plain = MakeDeviceBatch(set, targets, 1, {0}, nullptr, 5, 2, false);
  EXPECT_FALSE(plain.theta.defined());
}

TEST(AutocastGuardTest, RunsMatmulsInBfloat16InsideAndRestoresAfter) {
  torch::Tensor a = torch::randn({4, 8}), b = torch::randn({8, 2});
  {
    AutocastGuard guard(torch::kCPU, true);
    EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kBFloat16);
    {
      AutocastGuard off(torch::kCPU, false);  // disabled guard: no change
      EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kBFloat16);
    }
  }
  EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kFloat32);
}

TEST(OpenDeviceTest, CpuWorksAndCudaNeedsACudaBuild) {
  ASSERT_OK_AND_ASSIGN(auto cpu, OpenDevice("cpu"));
  EXPECT_TRUE(cpu->device().is_cpu());
  EXPECT_FALSE(cpu->pinned_batches());
  EXPECT_OK(cpu->Synchronize());
  EXPECT_EQ(OpenDevice("gpu").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenDevice("cuda:x").status().code(), absl::StatusCode::kInvalidArgument);
  if (!BuiltWithCuda()) {
    absl::Status status = OpenDevice("cuda:0").status();
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(status.message().find("ATELIER_CUDA"), std::string::npos) << status;
  }
}

}  // namespace
}  // namespace atelier::trainer
