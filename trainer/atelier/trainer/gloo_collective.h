// Collective over LibTorch's c10d ProcessGroupGloo (CPU tensors, TCP). Rendezvous through a c10d::TCPStore served by rank 0 at
// MASTER_ADDR:MASTER_PORT. The Gloo transport binds to the interface named by
// GLOO_SOCKET_IFNAME when set, to 127.0.0.1 when MASTER_ADDR is a loopback
// address, else to the interface of this host's name.
// LibTorch exceptions become Unavailable / Internal statuses.
//
// Timeouts: `connect_timeout` bounds the rendezvous (every rank joining the
// store and the Gloo mesh); `collective_timeout` bounds each collective of the
// run (a peer that stops answering). When a collective fails, the ranks that
// are still alive mark themselves in the store and wait a few seconds for each
// other; the status then names the ranks that did not mark themselves (the
// ones that stopped answering; all of them when rank 0, which serves the
// store, is the one).
#pragma once

#include <chrono>
#include <memory>

#include "absl/status/statusor.h"
#include "atelier/trainer/collective.h"
#include "atelier/trainer/launcher_env.h"

namespace atelier::trainer {

// A world of 1 gets a SingleProcessCollective (no sockets).
absl::StatusOr<std::unique_ptr<Collective>> ConnectGloo(const LaunchInfo& launch, std::chrono::seconds connect_timeout,
                                                        std::chrono::seconds collective_timeout);

}  // namespace atelier::trainer
