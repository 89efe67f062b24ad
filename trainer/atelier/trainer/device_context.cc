#include "atelier/trainer/device_context.h"

#include "absl/strings/str_cat.h"
#include "atelier/common/status_macros.h"
#include "atelier/trainer/gpu/device_option.h"

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
  ASSIGN_OR_RETURN(gpu::DeviceChoice choice, gpu::ParseDeviceOption(device));
  if (choice.kind == gpu::DeviceKind::kCpu) return std::unique_ptr<DeviceContext>(std::make_unique<CpuDeviceContext>());
  if (choice.kind != gpu::DeviceKind::kCuda || choice.index < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("device '", device, "' is not resolved (expected cpu or cuda:N; see gpu::ResolveDevice)"));
  }
#if defined(ATELIER_WITH_CUDA)
  return OpenCudaDevice(choice.index);
#else
  return absl::FailedPreconditionError(absl::StrCat(
      "device ", device, ": this atelier was built without CUDA (build with -DATELIER_CUDA=ON, docs/gpu.md)"));
#endif
}

}  // namespace atelier::trainer
