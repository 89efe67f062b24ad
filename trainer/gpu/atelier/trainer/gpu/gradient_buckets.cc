#include "atelier/trainer/gpu/gradient_buckets.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"

namespace atelier::trainer::gpu {
namespace {

absl::Status ValidateParam(const ParamInfo& p, int index) {
  const std::string who = absl::StrCat("parameter ", index, " '", p.name, "'");
  if (p.numel < 0) return absl::InvalidArgumentError(absl::StrCat(who, ": negative numel ", p.numel));
  if (p.element_size <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(who, ": element size must be positive, got ", p.element_size));
  }
  if (p.dtype.empty()) return absl::InvalidArgumentError(absl::StrCat(who, ": empty dtype"));
  return absl::OkStatus();
}

int64_t TotalSize(const auto& parts) {
  int64_t total = 0;
  for (const auto& part : parts) total += static_cast<int64_t>(part.size());
  return total;
}

}  // namespace

absl::StatusOr<BucketPlan> AssignBuckets(const std::vector<ParamInfo>& params,
                                         const BucketOptions& options) {
  if (options.cap_bytes <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("bucket cap must be positive, got ", options.cap_bytes, " bytes"));
  }
  if (options.first_cap_bytes < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("first bucket cap must not be negative, got ", options.first_cap_bytes, " bytes"));
  }
  const int64_t first_cap = options.first_cap_bytes > 0 ? options.first_cap_bytes : options.cap_bytes;

  BucketPlan plan;
  plan.bucket_of_param.assign(params.size(), -1);
  plan.entry_of_param.assign(params.size(), -1);
  // The open bucket per (dtype, element size); index into plan.buckets.
  std::map<std::pair<std::string, int64_t>, int> open;
  auto cap_of = [&](int bucket) { return bucket == 0 ? first_cap : options.cap_bytes; };

  for (int i = static_cast<int>(params.size()) - 1; i >= 0; --i) {
    const ParamInfo& p = params[i];
    if (auto s = ValidateParam(p, i); !s.ok()) return s;
    const auto key = std::make_pair(p.dtype, p.element_size);
    const int64_t bytes = p.numel * p.element_size;

    auto it = open.find(key);
    if (it != open.end() && plan.buckets[it->second].bytes() + bytes > cap_of(it->second)) {
      open.erase(it);  // full: later parameters of this dtype start a new bucket
      it = open.end();
    }
    if (it == open.end()) {
      Bucket bucket;
      bucket.dtype = p.dtype;
      bucket.element_size = p.element_size;
      plan.buckets.push_back(std::move(bucket));
      it = open.emplace(key, static_cast<int>(plan.buckets.size()) - 1).first;
    }
    const int b = it->second;
    Bucket& bucket = plan.buckets[b];
    plan.bucket_of_param[i] = b;
    plan.entry_of_param[i] = static_cast<int>(bucket.entries.size());
    bucket.entries.push_back(BucketEntry{i, bucket.numel, p.numel});
    bucket.numel += p.numel;
    // A parameter at or over the cap on its own fills its bucket.
    if (bucket.bytes() >= cap_of(b)) open.erase(it);
  }
  return plan;
}

absl::Status Flatten(const std::vector<std::span<const float>>& parts, std::span<float> flat) {
  const int64_t total = TotalSize(parts);
  if (total != static_cast<int64_t>(flat.size())) {
    return absl::InvalidArgumentError(absl::StrCat("flatten: ", parts.size(), " parts hold ", total,
                                                   " elements but the flat buffer holds ", flat.size()));
  }
  float* out = flat.data();
  for (const auto& part : parts) out = std::copy(part.begin(), part.end(), out);
  return absl::OkStatus();
}

absl::Status Unflatten(std::span<const float> flat, const std::vector<std::span<float>>& parts, float scale) {
  const int64_t total = TotalSize(parts);
  if (total != static_cast<int64_t>(flat.size())) {
    return absl::InvalidArgumentError(absl::StrCat("unflatten: ", parts.size(), " parts hold ", total,
                                                   " elements but the flat buffer holds ", flat.size()));
  }
  const float* in = flat.data();
  for (const auto& part : parts) {
    if (scale == 1.0f) {
      std::copy(in, in + part.size(), part.begin());
    } else {
      std::transform(in, in + part.size(), part.begin(), [scale](float v) { return v * scale; });
    }
    in += part.size();
  }
  return absl::OkStatus();
}

namespace {

// Checks a bucket against the whole model's gradient list; returns the
// bucket's spans in entry order.
template <typename Span>
absl::StatusOr<std::vector<Span>> BucketParts(const Bucket& bucket, const std::vector<Span>& grads,
                                              size_t flat_size) {
  if (static_cast<int64_t>(flat_size) != bucket.numel) {
    return absl::InvalidArgumentError(
        absl::StrCat("flat buffer holds ", flat_size, " elements, bucket holds ", bucket.numel));
  }
  std::vector<Span> parts;
  parts.reserve(bucket.entries.size());
  for (const BucketEntry& e : bucket.entries) {
    if (e.param_index < 0 || static_cast<size_t>(e.param_index) >= grads.size()) {
      return absl::InvalidArgumentError(absl::StrCat("bucket names parameter ", e.param_index, " but only ",
                                                     grads.size(), " gradients were given"));
    }
    const Span& g = grads[e.param_index];
    if (static_cast<int64_t>(g.size()) != e.numel) {
      return absl::InvalidArgumentError(absl::StrCat("gradient of parameter ", e.param_index, " has ", g.size(),
                                                     " elements, expected ", e.numel));
    }
    parts.push_back(g);
  }
  return parts;
}

}  // namespace

absl::Status FlattenBucket(const Bucket& bucket, const std::vector<std::span<const float>>& grads,
                           std::span<float> flat) {
  auto parts = BucketParts(bucket, grads, flat.size());
  if (!parts.ok()) return parts.status();
  return Flatten(*parts, flat);
}

absl::Status UnflattenBucket(const Bucket& bucket, std::span<const float> flat,
                             const std::vector<std::span<float>>& grads, float scale) {
  auto parts = BucketParts(bucket, grads, flat.size());
  if (!parts.ok()) return parts.status();
  return Unflatten(flat, *parts, scale);
}

}  // namespace atelier::trainer::gpu
