// CUDA runtime and NCCL results as absl::Status, and the count of visible GPUs.
//
// Needs only the CUDA runtime and NCCL headers (no LibTorch). Thread-safe.
#pragma once

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace atelier::trainer::gpu {

// OK for cudaSuccess; otherwise Internal (FailedPrecondition for "no device" /
// "insufficient driver") with "what: CUDA error <name>: <description>".
absl::Status CudaStatus(cudaError_t error, absl::string_view what);

// OK for ncclSuccess; otherwise a status whose message starts with `what` and
// holds NCCL's error string and, when available, ncclGetLastError(comm).
// Codes: ncclRemoteError and ncclSystemError -> Unavailable (a peer or the
// network failed), ncclInvalidArgument -> InvalidArgument, ncclInvalidUsage ->
// FailedPrecondition, anything else -> Internal.
absl::Status NcclStatus(ncclResult_t result, absl::string_view what, ncclComm_t comm = nullptr);

// Number of CUDA devices visible to this process; 0 when there are none or
// when the runtime cannot find a driver (then `why`, if given, says so).
int VisibleCudaDevices(std::string* why = nullptr);

// OK when `device` is a visible CUDA device. FailedPrecondition "no CUDA
// device ..." when none is visible (no GPU, no driver), OutOfRange when
// `device` >= the number visible.
absl::Status RequireCudaDevice(int device);

// The NCCL version of the linked library (ncclGetVersion), e.g. 22809 for
// 2.28.9; the header's is NCCL_VERSION_CODE.
absl::Status LinkedNcclVersion(int* version);

}  // namespace atelier::trainer::gpu
