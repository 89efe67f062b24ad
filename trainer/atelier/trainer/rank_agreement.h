// Checking at start-up that every rank runs the same computation.
//
// Each rank describes what must be equal everywhere (its options and the
// samples it loaded) as named text items; CheckRanksAgree hashes them
// (KeyUnit, 53 bits), broadcasts rank 0's hashes, and sums per item whether a
// rank differs, so every rank learns which items disagree. It returns OK, or
// on every rank FailedPrecondition naming the items that differ (with this
// rank's value). The item list must be the same on every rank (it is built
// by the same code), so the collectives never disagree in shape.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "atelier/trainer/collective.h"

namespace atelier::trainer {

struct RankFingerprint {
  std::vector<std::pair<std::string, std::string>> items;  // (name, value)
  void Add(std::string name, std::string value) { items.emplace_back(std::move(name), std::move(value)); }
};

absl::Status CheckRanksAgree(Collective& collective, const RankFingerprint& fingerprint);

}  // namespace atelier::trainer
