#include "atelier/trainer/explain_page.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "atelier/common/html_escape.h"
#include "atelier/common/status_macros.h"
#include "atelier/imaging/image.h"

namespace atelier::trainer {
namespace {

double Clamp01(double v) { return std::min(1.0, std::max(0.0, v)); }

absl::StatusOr<std::string> PngDataUri(const std::vector<uint8_t>& rgb, int size) {
  imaging::Image image;
  image.width = image.height = size;
  image.rgb = rgb;
  ASSIGN_OR_RETURN(std::string png, imaging::EncodePng(image));
  return absl::StrCat("data:image/png;base64,", absl::Base64Escape(png));
}

std::vector<uint8_t> ToRgb(const std::vector<uint8_t>& pixels, int size, int channels) {
  std::vector<uint8_t> rgb(size_t(size) * size * 3);
  for (size_t p = 0; p < size_t(size) * size; ++p) {
    for (int c = 0; c < 3; ++c) rgb[3 * p + c] = pixels[p * channels + (channels == 3 ? c : 0)];
  }
  return rgb;
}

}  // namespace

std::vector<uint8_t> OverlayHeatmap(const std::vector<uint8_t>& pixels, int size, int channels,
                                    const std::vector<float>& heatmap, double alpha) {
  std::vector<uint8_t> rgb = ToRgb(pixels, size, channels);
  for (size_t p = 0; p < size_t(size) * size && p < heatmap.size(); ++p) {
    const double h = Clamp01(heatmap[p]);
    const double colour[3] = {Clamp01(1.5 - std::abs(4 * h - 3)), Clamp01(1.5 - std::abs(4 * h - 2)),
                              Clamp01(1.5 - std::abs(4 * h - 1))};
    const double a = alpha * h;
    for (int c = 0; c < 3; ++c) {
      rgb[3 * p + c] = static_cast<uint8_t>(std::lround((1 - a) * rgb[3 * p + c] + a * 255.0 * colour[c]));
    }
  }
  return rgb;
}

absl::StatusOr<std::string> RenderExplainPage(const std::string& title, const std::vector<ExplainedImage>& images) {
  std::string html = absl::StrCat(
      "<!DOCTYPE html><html><head><meta charset='utf-8'><title>", HtmlEscape(title),
      "</title><style>body{font-family:sans-serif;margin:20px}"
      ".row{margin:10px 0;border-bottom:1px solid #eee}"
      "figure{display:inline-block;margin:4px;width:200px;font-size:11px;vertical-align:top}"
      "img{width:192px;height:192px}</style></head><body><h1>",
      HtmlEscape(title),
      "</h1><p>Grad-CAM: red where the evidence for the class is strongest, no colour where there is "
      "none.</p>");
  for (const ExplainedImage& image : images) {
    ASSIGN_OR_RETURN(std::string original, PngDataUri(ToRgb(image.pixels, image.size, image.channels), image.size));
    absl::StrAppend(&html, "<div class='row'><figure class='input'><img src='", original, "' alt=''><figcaption>",
                    HtmlEscape(image.name), "</figcaption></figure>");
    for (const ExplainedHead& head : image.heads) {
      ASSIGN_OR_RETURN(std::string overlay, PngDataUri(OverlayHeatmap(image.pixels, image.size, image.channels,
                                                                      head.heatmap),
                                                       image.size));
      absl::StrAppendFormat(&html, "<figure class='heatmap'><img src='%s' alt=''><figcaption>%s: %s (%.2f)</figcaption></figure>",
                            overlay, HtmlEscape(head.head), HtmlEscape(head.cls), head.probability);
    }
    absl::StrAppend(&html, "</div>");
  }
  absl::StrAppend(&html, "</body></html>\n");
  return html;
}

}  // namespace atelier::trainer
