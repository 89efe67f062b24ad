#include "atelier/crawler/disk_fault.h"

#include "absl/strings/cord.h"

namespace atelier::crawler {
namespace {
constexpr char kPayload[] = "atelier.crawler/disk-fault";
}  // namespace

absl::Status MarkDiskFault(absl::Status status) {
  if (absl::IsResourceExhausted(status) || absl::IsUnavailable(status)) status.SetPayload(kPayload, absl::Cord("1"));
  return status;
}

bool IsDiskFault(const absl::Status& status) { return status.GetPayload(kPayload).has_value(); }

}  // namespace atelier::crawler
