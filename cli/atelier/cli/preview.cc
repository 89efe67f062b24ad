#include "atelier/cli/preview.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "atelier/cli/contact_sheet.h"
#include "atelier/cli/preview_page.h"
#include "atelier/common/status_macros.h"

namespace fs = std::filesystem;

namespace atelier::cli {
namespace {

absl::Status WriteFileAtomically(const fs::path& path, const std::string& contents) {
  const fs::path tmp = path.string() + absl::StrCat(".tmp-", ::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.close();
    if (!out) {
      const int error = errno;
      std::error_code ignored;
      fs::remove(tmp, ignored);
      return absl::InternalError(absl::StrCat("cannot write ", tmp.string(), ": ", std::strerror(error)));
    }
  }
  std::error_code error;
  fs::rename(tmp, path, error);
  if (error) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    return absl::ErrnoToStatus(error.value(), absl::StrCat("cannot rename ", tmp.string(), " to ", path.string()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PreviewData> WritePreview(const PreviewOptions& options, const fs::path& out_dir) {
  ASSIGN_OR_RETURN(PreviewData data, CollectPreview(options));
  ASSIGN_OR_RETURN(std::string sheet, RenderContactSheet(data));
  std::error_code error;
  fs::create_directories(out_dir, error);
  if (error) return absl::ErrnoToStatus(error.value(), absl::StrCat("--out: cannot create ", out_dir.string()));
  RETURN_IF_ERROR(WriteFileAtomically(out_dir / kPreviewPageName, RenderPreviewPage(data)));
  RETURN_IF_ERROR(WriteFileAtomically(out_dir / kContactSheetName, sheet));
  return data;
}

}  // namespace atelier::cli
