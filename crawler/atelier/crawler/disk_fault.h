// Disk faults: a failed local write that waiting may cure (a full disk or
// quota, an I/O error of a flaky volume). The worker releases its lease, backs
// off and tries again instead of exiting (docs/crawler.md, "Faults").
//
// The classification follows the file system's errors (atelier/common/env.h,
// FileSystemError): ENOSPC and EDQUOT are RESOURCE_EXHAUSTED, EIO is UNAVAILABLE. MarkDiskFault tags such a status
// from a local write, so that a coordinator that is unreachable (also
// UNAVAILABLE) is never mistaken for one. Pure functions; thread-safe.
#pragma once

#include "absl/status/status.h"

namespace atelier::crawler {

// `status` tagged as a disk fault when its code is one of the above; other
// statuses are returned unchanged.
absl::Status MarkDiskFault(absl::Status status);
bool IsDiskFault(const absl::Status& status);

}  // namespace atelier::crawler
