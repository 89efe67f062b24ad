// Reading and writing files in torch.save's zip format, from C++.
//
// ReadTorchFile reads what Python's torch.save writes (pickle protocols 2 to 5:
// dicts, OrderedDicts such as a module's state_dict() with its `_metadata`,
// lists, tuples, strings, numbers, tensors, parameters) and what LibTorch's
// torch::pickle_save writes (including its `restore_type_tag` and
// `build_*list` wrappers, found in atelier files written before weights_only
// support). LibTorch 1.13's own torch::pickle_load cannot: it has no SETITEM
// opcode (a one-entry dict saved by Python) and reads every OrderedDict as None.
// Dicts come back as c10 dicts with string (or int) keys, lists as generic
// lists, tuples as tuples, tensors as CPU tensors. Any other Python global is
// refused with its name, so a file cannot run code.
//
// WriteTorchFile writes a c10::IValue of dicts, lists, strings, numbers and
// tensors with no TorchScript type tags, so that Python reads it with
// torch.load(path, weights_only=True). Tensors are written contiguous from CPU;
// floats become 0-dim float64 tensors, because the weights_only unpickler of
// PyTorch 1.13 (Debian's) has no float opcode. ToDouble reads either form.
//
// Errors are one line (c10::Error's message without its C++ backtrace).
// Thread-safe (no shared state).
#pragma once

#include <exception>
#include <string>
#include <string_view>

#include <torch/torch.h>

#include "absl/status/statusor.h"

namespace atelier::trainer {

// `origin` names the bytes in error messages (usually the file path).
absl::StatusOr<c10::IValue> ReadTorchFile(std::string_view bytes, const std::string& origin);

absl::StatusOr<std::string> WriteTorchFile(const c10::IValue& value);

// A float stored as a number or as a 0-dim tensor (WriteTorchFile).
double ToDouble(const c10::IValue& v);

// One line for an exception from LibTorch: c10::Error without its backtrace.
std::string TorchErrorMessage(const std::exception& e);

}  // namespace atelier::trainer
