#include "atelier/trainer/cuda/cuda_device_context.h"

#include <ATen/Context.h>
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>

#include "absl/strings/str_cat.h"

namespace atelier::trainer {
namespace {

class CudaDeviceContext : public DeviceContext {
 public:
  CudaDeviceContext(int index, c10::cuda::CUDAStream copy_stream)
      : index_(static_cast<c10::DeviceIndex>(index)), copy_stream_(copy_stream) {}

  torch::Device device() const override { return torch::Device(torch::kCUDA, index_); }
  bool pinned_batches() const override { return true; }

  std::vector<torch::Tensor> Upload(const std::vector<torch::Tensor>& host) override {
    c10::cuda::CUDAGuard device_guard(index_);
    c10::cuda::CUDAStream compute = c10::cuda::getCurrentCUDAStream(index_);
    std::vector<torch::Tensor> out;
    {
      c10::cuda::CUDAStreamGuard on_copy_stream(copy_stream_);
      for (const torch::Tensor& t : host) {
        out.push_back(t.defined() ? t.to(device(), /*non_blocking=*/t.is_pinned()) : t);
      }
      at::cuda::CUDAEvent copied;
      copied.record(copy_stream_);
      copied.block(compute);
    }
    for (torch::Tensor& t : out) {
      if (t.defined()) t.record_stream(compute.unwrap());
    }
    return out;
  }

  absl::Status Synchronize() override {
    cudaError_t err = cudaStreamSynchronize(c10::cuda::getCurrentCUDAStream(index_).stream());
    if (err != cudaSuccess) {
      return absl::InternalError(absl::StrCat("cuda:", index_, ": ", cudaGetErrorString(err)));
    }
    return absl::OkStatus();
  }

 private:
  c10::DeviceIndex index_;
  c10::cuda::CUDAStream copy_stream_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<DeviceContext>> OpenCudaDevice(int index) {
  const int visible = static_cast<int>(c10::cuda::device_count());
  if (visible == 0) return absl::FailedPreconditionError("no CUDA device is visible to this process");
  if (index < 0 || index >= visible) {
    return absl::OutOfRangeError(absl::StrCat("cuda:", index, " does not exist (", visible, " visible)"));
  }
  try {
    c10::cuda::set_device(static_cast<c10::DeviceIndex>(index));
    at::globalContext().setBenchmarkCuDNN(true);
    c10::cuda::CUDAStream copy_stream =
        c10::cuda::getStreamFromPool(/*isHighPriority=*/false, static_cast<c10::DeviceIndex>(index));
    return std::unique_ptr<DeviceContext>(std::make_unique<CudaDeviceContext>(index, copy_stream));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("cannot open cuda:", index, ": ", e.what()));
  }
}

}  // namespace atelier::trainer
