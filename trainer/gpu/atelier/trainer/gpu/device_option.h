// The trainer's `--device cpu|cuda|auto|cuda:N` option: parsing, and resolution
// to one device for this process given the visible GPUs and LOCAL_RANK.
//
// Resolution (one process per GPU):
//   cpu     -> the CPU.
//   auto    -> cuda if at least one GPU is visible, else cpu.
//   cuda    -> GPU LOCAL_RANK; FailedPrecondition when no GPU is visible or
//              when LOCAL_RANK >= the number of visible GPUs.
//   cuda:N  -> GPU N, whatever LOCAL_RANK is (for launchers that give each
//              task exactly one GPU through CUDA_VISIBLE_DEVICES: use cuda:0);
//              FailedPrecondition when N >= the number of visible GPUs.
// Errors name the flag. Pure functions; thread-safe. Counting the GPUs is the
// caller's job (VisibleCudaDevices() in cuda_status.h when built with CUDA).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace atelier::trainer::gpu {

enum class DeviceKind { kCpu, kCuda, kAuto };

struct DeviceChoice {
  DeviceKind kind = DeviceKind::kCpu;
  int index = -1;  // cuda:N -> N; -1 when no index was given
};

// Parses the value of --device (case-insensitive, surrounding spaces ignored).
// InvalidArgument naming --device for anything else ("gpu", "cuda:", "cuda:-1",
// "cuda:x", "cpu:0").
absl::StatusOr<DeviceChoice> ParseDeviceOption(absl::string_view text);

// The device this process uses.
struct ResolvedDevice {
  bool cuda = false;
  int index = -1;  // the CUDA device ordinal when cuda, else -1
  // "cpu" or "cuda:N" (LibTorch's device string).
  std::string ToString() const;
};

// Resolves `choice` with `visible_gpus` GPUs visible to this process and this
// process's LOCAL_RANK. InvalidArgument for a negative count or rank.
absl::StatusOr<ResolvedDevice> ResolveDevice(const DeviceChoice& choice, int visible_gpus, int local_rank);

}  // namespace atelier::trainer::gpu
