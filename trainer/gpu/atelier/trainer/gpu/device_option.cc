#include "atelier/trainer/gpu/device_option.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace atelier::trainer::gpu {
namespace {

absl::Status BadValue(absl::string_view text) {
  return absl::InvalidArgumentError(
      absl::StrCat("--device: expected cpu, cuda, auto or cuda:N (N a GPU index), got '", text, "'"));
}

}  // namespace

absl::StatusOr<DeviceChoice> ParseDeviceOption(absl::string_view text) {
  const std::string value = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  if (value == "cpu") return DeviceChoice{DeviceKind::kCpu, -1};
  if (value == "auto") return DeviceChoice{DeviceKind::kAuto, -1};
  if (value == "cuda") return DeviceChoice{DeviceKind::kCuda, -1};
  absl::string_view rest = value;
  if (absl::ConsumePrefix(&rest, "cuda:")) {
    int index = -1;
    // Digits only: SimpleAtoi would also take "+1" and " 1".
    const bool digits = !rest.empty() && rest.size() <= 6 &&
                        rest.find_first_not_of("0123456789") == absl::string_view::npos;
    if (digits && absl::SimpleAtoi(rest, &index)) return DeviceChoice{DeviceKind::kCuda, index};
  }
  return BadValue(text);
}

std::string ResolvedDevice::ToString() const { return cuda ? absl::StrCat("cuda:", index) : "cpu"; }

absl::StatusOr<ResolvedDevice> ResolveDevice(const DeviceChoice& choice, int visible_gpus, int local_rank) {
  if (visible_gpus < 0) {
    return absl::InvalidArgumentError(absl::StrCat("--device: negative GPU count ", visible_gpus));
  }
  if (local_rank < 0) {
    return absl::InvalidArgumentError(absl::StrCat("--device: negative LOCAL_RANK ", local_rank));
  }
  switch (choice.kind) {
    case DeviceKind::kCpu:
      return ResolvedDevice{false, -1};
    case DeviceKind::kAuto:
      if (visible_gpus == 0) return ResolvedDevice{false, -1};
      break;
    case DeviceKind::kCuda:
      if (visible_gpus == 0) {
        return absl::FailedPreconditionError(
            "--device cuda: no CUDA device is visible to this process (no GPU, no driver, or "
            "CUDA_VISIBLE_DEVICES hides them); use --device cpu or --device auto");
      }
      break;
  }
  if (choice.kind == DeviceKind::kCuda && choice.index >= 0) {
    if (choice.index >= visible_gpus) {
      return absl::FailedPreconditionError(absl::StrCat("--device cuda:", choice.index, ": only ", visible_gpus,
                                                        " CUDA device(s) visible (cuda:0 to cuda:",
                                                        visible_gpus - 1, ")"));
    }
    return ResolvedDevice{true, choice.index};
  }
  if (local_rank >= visible_gpus) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--device ", choice.kind == DeviceKind::kAuto ? "auto" : "cuda", ": LOCAL_RANK ", local_rank,
        " needs GPU ", local_rank, " but only ", visible_gpus,
        " CUDA device(s) are visible; start at most one process per GPU, or, when the launcher gives each "
        "process its own GPU through CUDA_VISIBLE_DEVICES, use --device cuda:0"));
  }
  return ResolvedDevice{true, local_rank};
}

}  // namespace atelier::trainer::gpu
