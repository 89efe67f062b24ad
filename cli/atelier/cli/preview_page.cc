#include "atelier/cli/preview_page.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "atelier/common/html_escape.h"

namespace atelier::cli {
namespace {

constexpr char kUnlabeledName[] = "(no label)";

std::string ClassName(const PreviewClass& c) { return c.unlabeled ? kUnlabeledName : c.name; }

// At most `max` bytes of `text`, cut at a UTF-8 character boundary, with an
// ellipsis when cut.
std::string Shorten(const std::string& text, size_t max) {
  if (text.size() <= max) return text;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end) + "…";
}

std::string ClassAttributes(const std::string& head, const PreviewClass& c) {
  return absl::StrCat("data-head='", HtmlEscape(head), "' data-class='", HtmlEscape(ClassName(c)), "' data-count='",
                      c.count, "'", c.unlabeled ? " data-unlabeled='1'" : "");
}

std::string CountBars(const PreviewHead& head) {
  constexpr int kRow = 22, kLabel = 200, kBar = 420, kTop = 6;
  int64_t max = 1;
  for (const auto& c : head.classes) max = std::max(max, c.count);
  const int height = kTop * 2 + kRow * static_cast<int>(head.classes.size());
  std::string svg = absl::StrFormat(
      "<svg xmlns='http://www.w3.org/2000/svg' class='counts' width='%d' height='%d' role='img'>", kLabel + kBar + 90,
      height);
  for (size_t i = 0; i < head.classes.size(); ++i) {
    const PreviewClass& c = head.classes[i];
    const int y = kTop + kRow * static_cast<int>(i);
    const double width = std::max(1.0, double(kBar) * double(c.count) / double(max));
    absl::StrAppendFormat(&svg,
                          "<g class='bar' %s><title>%s: %d</title>"
                          "<text x='%d' y='%d' text-anchor='end' class='label%s'>%s</text>"
                          "<rect x='%d' y='%d' width='%.1f' height='%d' fill='%s'/>"
                          "<text x='%.1f' y='%d' class='n'>%d</text></g>",
                          ClassAttributes(head.name, c), HtmlEscape(ClassName(c)), c.count, kLabel - 6, y + 15,
                          c.unlabeled ? " unlabeled" : "", HtmlEscape(Shorten(ClassName(c), 30)), kLabel, y + 3,
                          width, kRow - 6, c.unlabeled ? "#b0b0b0" : "#4e79a7", kLabel + width + 6, y + 15, c.count);
  }
  return svg + "</svg>";
}

std::string Figure(const PreviewImage& image, int size) {
  return absl::StrCat("<figure data-key='", HtmlEscape(image.key), "'><img src='data:image/jpeg;base64,",
                      absl::Base64Escape(image.jpeg), "' width='", size, "' height='", size, "' alt='",
                      HtmlEscape(image.key), "'><figcaption><code>", HtmlEscape(image.key),
                      "</code><span class='url'>", HtmlEscape(image.url), "</span></figcaption></figure>");
}

std::string Summary(const PreviewData& data) {
  std::string html = absl::StrCat(
      "<table class='summary' data-shards='", data.shards.size(), "' data-samples='", data.samples,
      "' data-decodable='", data.decodable(), "' data-undecodable='", data.undecodable, "' data-skipped='",
      data.report.skipped(), "'>", "<tr><th>data</th><td><code>", HtmlEscape(data.data), "</code></td></tr>",
      "<tr><th>shards read</th><td>", data.shards.size(), "</td></tr>", "<tr><th>samples read</th><td>",
      data.samples, "</td></tr>", "<tr><th>undecodable images</th><td>", data.undecodable, "</td></tr>",
      "<tr><th>samples the reader skipped</th><td>", data.report.skipped(), "</td></tr>");
  if (!data.report.skipped_by_reason.empty() || !data.report.bad_shards.empty()) {
    absl::StrAppend(&html, "<tr><th>reader report</th><td>", HtmlEscape(data.report.Summary()), "</td></tr>");
  }
  absl::StrAppend(&html, "<tr><th>images per class</th><td>", data.per_class, " (seed ", data.seed,
                  ")</td></tr></table>");
  return html;
}

std::string Undecodable(const PreviewData& data) {
  if (data.undecodable == 0) return "";
  std::string html = absl::StrCat("<h2>Undecodable images (", data.undecodable, ")</h2><ul class='problems'>");
  for (const auto& u : data.undecodable_listed) {
    absl::StrAppend(&html, "<li class='undecodable' data-key='", HtmlEscape(u.key), "' data-reason='",
                    HtmlEscape(u.reason), "'><code>", HtmlEscape(u.key), "</code> in ", HtmlEscape(u.shard), ": ",
                    HtmlEscape(u.reason), " (", HtmlEscape(u.message), ")</li>");
  }
  if (data.undecodable > static_cast<int64_t>(data.undecodable_listed.size())) {
    absl::StrAppend(&html, "<li>… and ", data.undecodable - static_cast<int64_t>(data.undecodable_listed.size()),
                    " more</li>");
  }
  return html + "</ul>";
}

}  // namespace

std::string RenderPreviewPage(const PreviewData& data) {
  const std::string title = absl::StrCat("atelier preview: ", data.data);
  std::string html = absl::StrCat(
      "<!DOCTYPE html><html><head><meta charset='utf-8'><title>", HtmlEscape(title),
      "</title><style>"
      "body{font-family:sans-serif;margin:20px;color:#222}"
      "table.summary{border-collapse:collapse;margin-bottom:12px}"
      "table.summary th,table.summary td{border:1px solid #ddd;padding:3px 8px;text-align:left}"
      ".counts{font-size:12px;margin:4px 0 12px}.counts .n{fill:#333}.counts .unlabeled{font-style:italic}"
      "section.head{border-top:2px solid #4e79a7;margin-top:18px}"
      "div.class{margin:8px 0 14px}div.class h3{font-size:14px;margin:4px 0}"
      "div.thumbs{display:flex;flex-wrap:wrap;gap:6px}"
      "figure{margin:0;width:150px;font-size:10px;overflow-wrap:anywhere}"
      "figure img{display:block;border:1px solid #ccc}"
      "figcaption code{display:block}figcaption .url{color:#555}"
      "ul.problems{font-size:12px}"
      "</style></head><body><h1>", HtmlEscape(title), "</h1>", Summary(data));
  int row = 0;
  for (const PreviewHead& head : data.heads) {
    absl::StrAppend(&html, "<section class='head' data-head='", HtmlEscape(head.name), "'><h2>Head <code>",
                    HtmlEscape(head.name), "</code>: ", head.classes.size(),
                    head.classes.size() == 1 ? " class" : " classes", "</h2>", CountBars(head));
    for (const PreviewClass& c : head.classes) {
      absl::StrAppend(&html, "<div class='class' ", ClassAttributes(head.name, c), "><h3>", HtmlEscape(ClassName(c)),
                      " — ", c.count, " samples, ", c.images.size(), " shown (contact_sheet.png row ", ++row,
                      ")</h3><div class='thumbs'>");
      for (const PreviewImage& image : c.images) absl::StrAppend(&html, Figure(image, data.thumbnail_size));
      absl::StrAppend(&html, "</div></div>");
    }
    absl::StrAppend(&html, "</section>");
  }
  if (data.heads.empty()) absl::StrAppend(&html, "<p>No decodable sample carries a label.</p>");
  absl::StrAppend(&html, Undecodable(data), "</body></html>\n");
  return html;
}

}  // namespace atelier::cli
