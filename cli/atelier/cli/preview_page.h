// preview.html of `atelier preview`: one self-contained page (inline CSS and
// SVG, thumbnails as data:image/jpeg URIs, no scripts, no external resource;
// sample URLs are shown as text, never loaded or linked).
//
//   - a summary: the data given, shards, samples read, undecodable samples,
//     samples the reader skipped (by reason), shards that gave no sample;
//   - per head: the class counts as horizontal bars, largest first, with the
//     count shown and the "(no label)" class last; then per class its chosen
//     thumbnails with each sample's key and URL, and the row of
//     contact_sheet.png that holds them;
//   - the undecodable samples listed (shard, key, reason).
//
// Machine-readable hooks (for tests and scripts): the summary element has
// data-shards, data-samples, data-decodable, data-undecodable, data-skipped;
// each bar (<g class='bar'>) and each class block (<div class='class'>)
// has data-head, data-class, data-count (and data-unlabeled='1' for the
// "(no label)" class); each thumbnail <figure> has data-key; each listed
// undecodable sample (<li class='undecodable'>) has data-key and data-reason.
// All text and attribute values are HTML-escaped. Pure function, thread-safe.
#pragma once

#include <string>

#include "atelier/cli/preview_sampler.h"

namespace atelier::cli {

std::string RenderPreviewPage(const PreviewData& data);

}  // namespace atelier::cli
