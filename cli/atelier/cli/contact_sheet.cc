#include "atelier/cli/contact_sheet.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "atelier/common/status_macros.h"
#include "atelier/imaging/image.h"

namespace atelier::cli {

ContactSheetSize ContactSheetSizeOf(const PreviewData& data) {
  ContactSheetSize size;
  for (const auto& head : data.heads) size.rows += static_cast<int>(head.classes.size());
  size.rows = std::max(size.rows, 1);
  size.columns = std::max(data.per_class, 1);
  const int cell = data.thumbnail_size + kContactSheetGap;
  size.width = kContactSheetGap + size.columns * cell;
  size.height = kContactSheetGap + size.rows * cell;
  return size;
}

absl::StatusOr<std::string> RenderContactSheet(const PreviewData& data) {
  const ContactSheetSize size = ContactSheetSizeOf(data);
  const int thumb = data.thumbnail_size;
  imaging::Image sheet;
  sheet.width = size.width;
  sheet.height = size.height;
  sheet.rgb.assign(static_cast<size_t>(size.width) * static_cast<size_t>(size.height) * 3, 0xE8);
  int row = 0;
  for (const auto& head : data.heads) {
    for (const auto& c : head.classes) {
      for (size_t column = 0; column < c.images.size() && column < static_cast<size_t>(size.columns); ++column) {
        const PreviewImage& image = c.images[column];
        if (image.jpeg.empty()) continue;  // its encoding failed: an empty cell
        ASSIGN_OR_RETURN(imaging::DecodedImage decoded, imaging::DecodeImage(image.jpeg),
                         _.prefix(absl::StrCat("thumbnail of ", image.key)));
        imaging::Image pixels = std::move(decoded.image);
        if (pixels.width != thumb || pixels.height != thumb) {
          ASSIGN_OR_RETURN(pixels, imaging::ResizeTo(pixels, thumb, thumb));
        }
        const int x0 = kContactSheetGap + static_cast<int>(column) * (thumb + kContactSheetGap);
        const int y0 = kContactSheetGap + row * (thumb + kContactSheetGap);
        for (int y = 0; y < thumb; ++y) {
          std::memcpy(&sheet.rgb[(static_cast<size_t>(y0 + y) * size.width + x0) * 3],
                      &pixels.rgb[static_cast<size_t>(y) * thumb * 3], static_cast<size_t>(thumb) * 3);
        }
      }
      ++row;
    }
  }
  return imaging::EncodePng(sheet);
}

}  // namespace atelier::cli
