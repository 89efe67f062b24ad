// The one mapping between imaging::ResizeMode and the wire's v1::ResizeMode
// (crawl.proto), for the coordinator (spec -> CrawlSettings) and the crawler
// (CrawlSettings -> its resize). Pure; thread-safe.
#pragma once

#include "atelier/imaging/resize_mode.h"
#include "atelier/v1/crawl.pb.h"

namespace atelier {

v1::ResizeMode ResizeModeToProto(imaging::ResizeMode mode);
// RESIZE_MODE_UNSPECIFIED (an older coordinator) and unknown values: centre crop.
imaging::ResizeMode ResizeModeFromProto(v1::ResizeMode mode);

}  // namespace atelier
