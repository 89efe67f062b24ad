// The CUDA DeviceContext (built only with -DATELIER_CUDA=ON): one GPU per
// process, host batches in pinned memory, uploads on a dedicated copy stream.
//
// Upload() enqueues non-blocking host-to-device copies on the copy stream,
// records an event there and makes the current (compute) stream wait for it
// (device-side: the host does not block), and marks each result as used by
// the compute stream so the caching allocator never hands its memory out
// while compute may still read it. Synchronize() blocks until the compute
// stream is idle; CUDA errors come back as Internal statuses.
//
// Ownership: owns the copy stream (from LibTorch's pool) and nothing else.
// Thread safety: Upload from one thread at a time; the current stream is the
// caller's thread's current stream on this device.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "atelier/trainer/device_context.h"

namespace atelier::trainer {

// Makes GPU `index` this process's device (cudaSetDevice), enables cuDNN's
// autotuner (fixed input sizes), and creates the copy stream.
// FailedPrecondition when no GPU is visible, OutOfRange for a bad index.
absl::StatusOr<std::unique_ptr<DeviceContext>> OpenCudaDevice(int index);

}  // namespace atelier::trainer
