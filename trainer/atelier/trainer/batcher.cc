#include "atelier/trainer/batcher.h"

#include <cstring>
#include <random>

namespace atelier::trainer {

uint64_t MixSeed(uint64_t a, uint64_t b, uint64_t c) {
  uint64_t h = a * 0x9e3779b97f4a7c15ull ^ (b + 0x632be59bd9b4e019ull) * 0xbf58476d1ce4e5b9ull ^
               (c + 0x8cb92ba72f3d8dd7ull) * 0x94d049bb133111ebull;
  h ^= h >> 31;
  h *= 0xd6e8feb86659fd93ull;
  h ^= h >> 32;
  return h;
}

namespace {

torch::Tensor GatherTargets(const std::vector<int32_t>& targets, int heads, const std::vector<int64_t>& indices,
                            bool pinned) {
  const int64_t n = static_cast<int64_t>(indices.size());
  torch::Tensor out = torch::empty({n, heads}, torch::TensorOptions(torch::kInt64).pinned_memory(pinned));
  auto* t = out.data_ptr<int64_t>();
  for (int64_t b = 0; b < n; ++b) {
    for (int h = 0; h < heads; ++h) t[b * heads + h] = targets[indices[b] * heads + h];
  }
  return out;
}

}  // namespace

Batch MakeBatch(const ImageSet& set, const std::vector<int32_t>& targets, int heads,
                const std::vector<int64_t>& indices, const AugmentOptions* augment, uint64_t seed, int epoch) {
  const int64_t n = static_cast<int64_t>(indices.size());
  const int s = set.image_size, c = set.channels;
  const int64_t image_bytes = set.image_bytes();
  torch::Tensor raw = torch::empty({n, s, s, c}, torch::kUInt8);
  uint8_t* dst = raw.data_ptr<uint8_t>();
  for (int64_t b = 0; b < n; ++b) {
    const uint8_t* src = set.image(indices[b]);
    if (augment != nullptr && augment->any()) {
      std::mt19937_64 rng(MixSeed(seed, static_cast<uint64_t>(epoch), static_cast<uint64_t>(indices[b])));
      AugmentImage(src, dst + b * image_bytes, s, c, *augment, rng);
    } else {
      std::memcpy(dst + b * image_bytes, src, image_bytes);
    }
  }
  Batch batch;
  batch.images = raw.permute({0, 3, 1, 2}).to(torch::kFloat32).div_(255.0f).contiguous();
  batch.targets = GatherTargets(targets, heads, indices, false);
  batch.indices = indices;
  return batch;
}

Batch MakeDeviceBatch(const ImageSet& set, const std::vector<int32_t>& targets, int heads,
                      const std::vector<int64_t>& indices, const AugmentOptions* augment, uint64_t seed, int epoch,
                      bool pinned) {
  const int64_t n = static_cast<int64_t>(indices.size());
  const int s = set.image_size, c = set.channels;
  const int64_t image_bytes = set.image_bytes();
  Batch batch;
  batch.raw = torch::empty({n, s, s, c}, torch::TensorOptions(torch::kUInt8).pinned_memory(pinned));
  uint8_t* dst = batch.raw.data_ptr<uint8_t>();
  for (int64_t b = 0; b < n; ++b) std::memcpy(dst + b * image_bytes, set.image(indices[b]), image_bytes);
  if (augment != nullptr && augment->any()) {
    batch.theta = torch::empty({n, 2, 3}, torch::TensorOptions(torch::kFloat32).pinned_memory(pinned));
    float* theta = batch.theta.data_ptr<float>();
    for (int64_t b = 0; b < n; ++b) {
      std::mt19937_64 rng(MixSeed(seed, static_cast<uint64_t>(epoch), static_cast<uint64_t>(indices[b])));
      AffineGridMatrix(DrawAugment(s, *augment, rng), s, theta + 6 * b);
    }
  }
  batch.targets = GatherTargets(targets, heads, indices, pinned);
  batch.indices = indices;
  return batch;
}

Prefetcher::Prefetcher(std::function<Batch(int64_t)> make, int64_t begin, int64_t end, int depth)
    : make_(std::move(make)), next_(begin), end_(end), depth_(static_cast<size_t>(std::max(1, depth))) {
  thread_ = std::thread([this] { Run(); });
}

Prefetcher::~Prefetcher() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

void Prefetcher::Run() {
  for (int64_t b = next_; b < end_; ++b) {
    {
      absl::MutexLock lock(&mu_);
      auto room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || ready_.size() < depth_; };
      mu_.Await(absl::Condition(&room));
      if (stop_) return;
    }
    Batch batch = make_(b);
    absl::MutexLock lock(&mu_);
    ready_.push_back(std::move(batch));
    produced_end_ = b + 1;
  }
  absl::MutexLock lock(&mu_);
  produced_end_ = end_;
}

std::optional<Batch> Prefetcher::Next() {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !ready_.empty() || produced_end_ >= end_; };
  mu_.Await(absl::Condition(&ready));
  if (ready_.empty()) return std::nullopt;
  Batch batch = std::move(ready_.front());
  ready_.pop_front();
  return batch;
}

}  // namespace atelier::trainer
