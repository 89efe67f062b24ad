#include "atelier/trainer/device_context.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

#if defined(ATELIER_WITH_CUDA)
#include "atelier/trainer/cuda/cuda_device_context.h"
#endif

namespace atelier::trainer {

bool BuiltWithCuda() {
#if defined(ATELIER_WITH_CUDA)
  return true;
#else
  return false;
#endif
}

absl::StatusOr<std::unique_ptr<DeviceContext>> OpenDevice(const std::string& device) {
  if (device == "cpu") return std::unique_ptr<DeviceContext>(std::make_unique<CpuDeviceContext>());
  int index = -1;
  if (!absl::StartsWith(device, "cuda:") || !absl::SimpleAtoi(device.substr(5), &index) || index < 0) {
    return absl::InvalidArgumentError(absl::StrCat("unknown device '", device, "' (expected cpu or cuda:N)"));
  }
#if defined(ATELIER_WITH_CUDA)
  return OpenCudaDevice(index);
#else
  return absl::FailedPreconditionError(absl::StrCat(
      "device ", device, ": this atelier was built without CUDA (build with -DATELIER_CUDA=ON, docs/gpu.md)"));
#endif
}

}  // namespace atelier::trainer
