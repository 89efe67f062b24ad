#include "atelier/trainer/command_support.h"

#include <cstdio>

namespace atelier::trainer {

int FailCommand(const absl::Status& status) {
  std::fprintf(stderr, "atelier-trainer: %s\n", status.ToString().c_str());
  return 1;
}

}  // namespace atelier::trainer
