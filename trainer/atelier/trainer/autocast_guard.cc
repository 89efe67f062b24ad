#include "atelier/trainer/autocast_guard.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

namespace atelier::trainer {
namespace {

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool IsEnabled(torch::DeviceType d) { return at::autocast::is_autocast_enabled(d); }
void SetEnabled(torch::DeviceType d, bool on) { at::autocast::set_autocast_enabled(d, on); }
torch::ScalarType GetDtype(torch::DeviceType d) { return at::autocast::get_autocast_dtype(d); }
void SetDtype(torch::DeviceType d, torch::ScalarType t) { at::autocast::set_autocast_dtype(d, t); }
#else
bool IsEnabled(torch::DeviceType d) {
  return d == torch::kCUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
}
void SetEnabled(torch::DeviceType d, bool on) {
  if (d == torch::kCUDA) {
    at::autocast::set_enabled(on);
  } else {
    at::autocast::set_cpu_enabled(on);
  }
}
torch::ScalarType GetDtype(torch::DeviceType d) {
  return d == torch::kCUDA ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
}
void SetDtype(torch::DeviceType d, torch::ScalarType t) {
  if (d == torch::kCUDA) {
    at::autocast::set_autocast_gpu_dtype(t);
  } else {
    at::autocast::set_autocast_cpu_dtype(t);
  }
}
#endif

}  // namespace

AutocastGuard::AutocastGuard(torch::DeviceType device, bool enabled) : device_(device), active_(enabled) {
  if (!active_) return;
  was_enabled_ = IsEnabled(device_);
  previous_dtype_ = GetDtype(device_);
  SetDtype(device_, torch::kBFloat16);
  SetEnabled(device_, true);
  at::autocast::increment_nesting();
}

AutocastGuard::~AutocastGuard() {
  if (!active_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  SetEnabled(device_, was_enabled_);
  SetDtype(device_, previous_dtype_);
}

}  // namespace atelier::trainer
