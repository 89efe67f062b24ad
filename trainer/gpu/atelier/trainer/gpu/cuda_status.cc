#include "atelier/trainer/gpu/cuda_status.h"

#include "absl/strings/str_cat.h"

namespace atelier::trainer::gpu {

absl::Status CudaStatus(cudaError_t error, absl::string_view what) {
  if (error == cudaSuccess) return absl::OkStatus();
  std::string message = absl::StrCat(what, ": CUDA error ", cudaGetErrorName(error), ": ", cudaGetErrorString(error));
  if (error == cudaErrorNoDevice || error == cudaErrorInsufficientDriver) {
    return absl::FailedPreconditionError(std::move(message));
  }
  return absl::InternalError(std::move(message));
}

absl::Status NcclStatus(ncclResult_t result, absl::string_view what, ncclComm_t comm) {
  if (result == ncclSuccess) return absl::OkStatus();
  std::string message = absl::StrCat(what, ": NCCL error ", static_cast<int>(result), ": ", ncclGetErrorString(result));
  if (const char* last = ncclGetLastError(comm); last != nullptr && last[0] != '\0') {
    absl::StrAppend(&message, " (", last, ")");
  }
  switch (result) {
    case ncclRemoteError:
    case ncclSystemError:
      return absl::UnavailableError(std::move(message));
    case ncclInvalidArgument:
      return absl::InvalidArgumentError(std::move(message));
    case ncclInvalidUsage:
      return absl::FailedPreconditionError(std::move(message));
    default:
      return absl::InternalError(std::move(message));
  }
}

int VisibleCudaDevices(std::string* why) {
  int count = 0;
  const cudaError_t error = cudaGetDeviceCount(&count);
  if (error != cudaSuccess) {
    if (why != nullptr) *why = absl::StrCat(cudaGetErrorName(error), ": ", cudaGetErrorString(error));
    // Clear the runtime's sticky last error so later calls start clean.
    (void)cudaGetLastError();
    return 0;
  }
  if (count == 0 && why != nullptr) *why = "the CUDA runtime reports 0 devices";
  return count;
}

absl::Status RequireCudaDevice(int device) {
  std::string why;
  const int count = VisibleCudaDevices(&why);
  if (count == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("no CUDA device visible to this process (", why, "); NCCL needs a GPU: use --device cpu (Gloo)"));
  }
  if (device < 0 || device >= count) {
    return absl::OutOfRangeError(
        absl::StrCat("CUDA device ", device, " does not exist: ", count, " device(s) visible"));
  }
  return absl::OkStatus();
}

absl::Status LinkedNcclVersion(int* version) { return NcclStatus(ncclGetVersion(version), "ncclGetVersion"); }

}  // namespace atelier::trainer::gpu
