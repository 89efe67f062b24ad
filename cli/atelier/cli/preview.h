// `atelier preview`: look at a dataset before training.
//
//   ASSIGN_OR_RETURN(PreviewData data, WritePreview(options, "preview"));
//
// Collects the preview (CollectPreview: one pass over the shards, bounded
// memory), creates `out_dir` if needed and writes out_dir/preview.html
// (RenderPreviewPage) and out_dir/contact_sheet.png (RenderContactSheet), each
// with WriteFileAtomically (atelier/common/atomic_file.h) on `env`, so a reader
// never sees half a file and a failed write leaves the earlier file. Errors as
// CollectPreview, or the file system's (env.h) naming the path.
#pragma once

#include <filesystem>

#include "absl/status/statusor.h"
#include "atelier/cli/preview_sampler.h"
#include "atelier/common/env.h"

namespace atelier::cli {

inline constexpr char kPreviewPageName[] = "preview.html";
inline constexpr char kContactSheetName[] = "contact_sheet.png";

absl::StatusOr<PreviewData> WritePreview(const PreviewOptions& options, const std::filesystem::path& out_dir,
                                         Env* env = Env::Default());

}  // namespace atelier::cli
