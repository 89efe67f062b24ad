#include "atelier/cli/preview.h"

#include "atelier/cli/contact_sheet.h"
#include "atelier/cli/preview_page.h"
#include "atelier/common/atomic_file.h"
#include "atelier/common/status_macros.h"

namespace fs = std::filesystem;

namespace atelier::cli {

absl::StatusOr<PreviewData> WritePreview(const PreviewOptions& options, const fs::path& out_dir, Env* env) {
  ASSIGN_OR_RETURN(PreviewData data, CollectPreview(options));
  ASSIGN_OR_RETURN(std::string sheet, RenderContactSheet(data));
  RETURN_IF_ERROR(Annotate(env->CreateDirs(out_dir), "--out"));
  RETURN_IF_ERROR(WriteFileAtomically(*env, out_dir / kPreviewPageName, RenderPreviewPage(data)));
  RETURN_IF_ERROR(WriteFileAtomically(*env, out_dir / kContactSheetName, sheet));
  return data;
}

}  // namespace atelier::cli
