// DeviceContext: what the training loop needs from the device it computes on.
//
//   device()          where the model, its gradients and the optimizer live;
//   pinned_batches()  whether host batches should be allocated in pinned
//                     (page-locked) memory so that Upload can copy them
//                     asynchronously;
//   Upload(tensors)   copies host tensors to the device and returns them
//                     ready for use on the current (compute) stream. The CPU
//                     context returns them unchanged; the CUDA one copies on
//                     its own stream and orders the compute stream after the
//                     copy with an event (cuda/cuda_device_context.h);
//   Synchronize()     blocks until the device has finished everything queued
//                     so far; device errors come back as a status.
//
// OpenDevice("cpu") works in every build; "cuda:N" needs the CUDA build
// (-DATELIER_CUDA=ON) and is FailedPrecondition otherwise. A context is used by
// the training thread only; Upload may be called from one other thread at a
// time (the batch prefetcher).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace atelier::trainer {

class DeviceContext {
 public:
  virtual ~DeviceContext() = default;
  virtual torch::Device device() const = 0;
  virtual bool pinned_batches() const = 0;
  virtual std::vector<torch::Tensor> Upload(const std::vector<torch::Tensor>& host) = 0;
  virtual absl::Status Synchronize() = 0;
};

class CpuDeviceContext : public DeviceContext {
 public:
  torch::Device device() const override { return torch::kCPU; }
  bool pinned_batches() const override { return false; }
  std::vector<torch::Tensor> Upload(const std::vector<torch::Tensor>& host) override { return host; }
  absl::Status Synchronize() override { return absl::OkStatus(); }
};

// `device`: "cpu" or "cuda:N" (gpu::ResolvedDevice::ToString()), parsed by
// gpu::ParseDeviceOption. InvalidArgument for anything else, "auto" and a bare
// "cuda" included (resolve them first).
absl::StatusOr<std::unique_ptr<DeviceContext>> OpenDevice(const std::string& device);

// True when this build can train on CUDA devices.
bool BuiltWithCuda();

}  // namespace atelier::trainer
