#include "atelier/trainer/rank_agreement.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "atelier/common/status_macros.h"
#include "atelier/trainer/labels.h"

namespace atelier::trainer {

absl::Status CheckRanksAgree(Collective& collective, const RankFingerprint& fingerprint) {
  if (collective.world_size() == 1) return absl::OkStatus();
  const int64_t n = static_cast<int64_t>(fingerprint.items.size());
  torch::Tensor mine = torch::empty({n}, torch::kFloat64);
  for (int64_t i = 0; i < n; ++i) {
    const auto& [name, value] = fingerprint.items[i];
    mine[i] = KeyUnit(absl::StrCat(name, "=", value), 0);
  }
  std::vector<torch::Tensor> root = {mine.clone()};
  RETURN_IF_ERROR(collective.Broadcast(root, 0));
  torch::Tensor differs = mine.ne(root[0]).to(torch::kFloat64).contiguous();
  RETURN_IF_ERROR(collective.AllReduceSum(differs));
  std::vector<std::string> names;
  for (int64_t i = 0; i < n; ++i) {
    if (differs[i].item<double>() == 0) continue;
    const auto& [name, value] = fingerprint.items[i];
    names.push_back(absl::StrCat(name, " (rank ", collective.rank(), ": ",
                                 value.size() > 80 ? absl::StrCat(value.substr(0, 77), "...") : value, ")"));
  }
  if (names.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("the ranks disagree on ", absl::StrJoin(names, ", "),
                   ": start every rank with the same options on the same data (compare the other ranks' logs)"));
}

}  // namespace atelier::trainer
