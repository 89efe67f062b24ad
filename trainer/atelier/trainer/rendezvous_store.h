// The rendezvous every multi-rank backend (Gloo, NCCL) starts from: a c10d
// TCPStore served by rank 0 at MASTER_ADDR:MASTER_PORT that every rank joins.
// Throws LibTorch's exceptions (callers turn them into statuses); waits up to
// `timeout` for all ranks.
#pragma once

#include <chrono>

#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "atelier/trainer/launcher_env.h"

namespace atelier::trainer {

c10::intrusive_ptr<c10d::Store> JoinRendezvousStore(const LaunchInfo& launch, std::chrono::seconds timeout);

}  // namespace atelier::trainer
