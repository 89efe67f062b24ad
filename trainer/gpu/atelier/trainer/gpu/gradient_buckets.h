// Assignment of a model's gradients to allreduce buckets, and the flatten /
// unflatten copies between per-parameter gradients and a bucket's flat buffer.
//
// Buckets follow PyTorch DDP: parameters are taken in REVERSE registration
// order (the order in which backward produces their gradients), and a bucket is
// closed when adding the next parameter would take it over the byte cap. A
// bucket only ever holds parameters of one dtype (several buckets, one per
// dtype, may be open at once, as in DDP). A parameter larger than the cap gets a
// bucket of its own. Offsets are in elements, from the start of the bucket's
// flat buffer, in the order the parameters were added to the bucket.
//
// Pure C++ (no CUDA, no LibTorch): the trainer passes {name, numel, element
// size, dtype} per parameter and views gradients as spans. Every function is
// pure and thread-safe; spans are borrowed, never stored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace atelier::trainer::gpu {

// One parameter of the model, in registration order (model.parameters()).
struct ParamInfo {
  std::string name;
  int64_t numel = 0;
  int64_t element_size = 4;  // bytes per element (dtype size)
  std::string dtype = "float32";  // buckets never mix dtypes
};

struct BucketEntry {
  int param_index = 0;  // index into the ParamInfo list (registration order)
  int64_t offset = 0;   // first element of this parameter in the flat buffer
  int64_t numel = 0;
};

struct Bucket {
  std::vector<BucketEntry> entries;  // in the order gradients become ready
  std::string dtype;
  int64_t element_size = 0;
  int64_t numel = 0;  // size of the flat buffer, in elements
  int64_t bytes() const { return numel * element_size; }
};

struct BucketPlan {
  std::vector<Bucket> buckets;  // bucket 0 holds the last-registered parameters
  // Per parameter (registration order): its bucket and its entry in that bucket.
  std::vector<int> bucket_of_param;
  std::vector<int> entry_of_param;
};

struct BucketOptions {
  int64_t cap_bytes = 25 << 20;  // DDP's default bucket_cap_mb = 25
  // Cap of the first bucket (the first gradients of backward), so that the
  // first allreduce starts early; 0 means cap_bytes. DDP uses 1 MiB.
  int64_t first_cap_bytes = 0;
};

// Assigns `params` to buckets. InvalidArgument (naming the parameter) for a
// negative numel, a non-positive element size or an empty dtype, and for a
// non-positive cap. An empty model gives an empty plan.
absl::StatusOr<BucketPlan> AssignBuckets(const std::vector<ParamInfo>& params,
                                         const BucketOptions& options);

// Copies `parts` one after another into `flat`. InvalidArgument when the sizes
// of the parts do not add up to flat.size().
absl::Status Flatten(const std::vector<std::span<const float>>& parts, std::span<float> flat);

// Copies `flat` back into `parts` (the inverse of Flatten), multiplying every
// element by `scale` (pass 1.0f / world_size to average a summed bucket).
// InvalidArgument when the sizes do not add up.
absl::Status Unflatten(std::span<const float> flat, const std::vector<std::span<float>>& parts,
                       float scale = 1.0f);

// Bucket-shaped variants: `grads` holds one span per parameter in registration
// order (the whole model); the bucket's entries pick theirs. InvalidArgument
// when a gradient's size differs from its parameter's numel, when `grads` is
// too short, or when flat.size() != bucket.numel.
absl::Status FlattenBucket(const Bucket& bucket, const std::vector<std::span<const float>>& grads,
                           std::span<float> flat);
absl::Status UnflattenBucket(const Bucket& bucket, std::span<const float> flat,
                             const std::vector<std::span<float>>& grads, float scale = 1.0f);

}  // namespace atelier::trainer::gpu
