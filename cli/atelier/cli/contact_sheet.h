// contact_sheet.png of `atelier preview`: the preview's thumbnails on one
// grid, one row per class of each head, in the order of preview.html (heads
// by name; classes largest first, "(no label)" last), per_class columns. A
// class with fewer images leaves the rest of its row empty. Cells are
// thumbnail_size square with kContactSheetGap pixels between and around them:
//   width  = gap + per_class * (thumbnail_size + gap)
//   height = gap + rows * (thumbnail_size + gap)      (rows >= 1)
// Encoded with imaging::EncodePng. Pure functions, thread-safe.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "atelier/cli/preview_sampler.h"

namespace atelier::cli {

inline constexpr int kContactSheetGap = 4;

struct ContactSheetSize {
  int width = 0, height = 0, rows = 0, columns = 0;
};

ContactSheetSize ContactSheetSizeOf(const PreviewData& data);

// The PNG bytes. Internal if a thumbnail does not decode (they were encoded by CollectPreview).
absl::StatusOr<std::string> RenderContactSheet(const PreviewData& data);

}  // namespace atelier::cli
