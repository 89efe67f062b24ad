// The demo's small art world: turns labelled images into what atelier crawls
// in real life, served from a loopback OriginServer:
//  - a Met Collection API replica: one search per class (labelled with the
//    class), objects with one or two images, some objects with no image (dead)
//    and some answered with an HTML throttling page first;
//  - a BAM-style SQLite (modules + scores tables) whose src URLs point at the
//    origin, with some 404 links and some dead `mir-cdn` rendition rows;
//  - the job spec (YAML) that crawls both.
// BuildDemoWorld is not thread-safe; the returned value owns nothing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "atelier/demo/origin_server.h"

namespace atelier::demo {

struct LabelledImage {
  std::string label;      // class name, [a-z0-9_]
  std::string png_bytes;  // the image, PNG encoded
};

struct DemoWorldOptions {
  std::string head = "garment";  // label name of the class head
  int met_every = 2;             // every n-th image goes to the Met replica, the rest to BAM
  int met_two_images_every = 5;  // every n-th Met object has an additional image
  int met_no_image_every = 23;   // every n-th Met object has no image (dead)
  int met_html_first_every = 37; // every n-th Met object answers HTML once first
  int bam_404_every = 29;        // every n-th BAM row links to a missing image
  int bam_mir_cdn_every = 31;    // every n-th BAM row is a dead mir-cdn rendition
  int shard_size = 200;
  int crawl_size = 28;           // resize: shorter side (images are kept small)
};

struct DemoWorld {
  std::filesystem::path bam_sqlite;
  std::filesystem::path job_spec;     // written YAML spec
  int64_t images_served = 0;          // images reachable at the origin
  int64_t met_objects = 0;
  int64_t met_dead_objects = 0;
  int64_t bam_rows = 0;
  int64_t bam_dead_rows = 0;          // 404 + mir-cdn
};

// Registers everything on `origin` and writes the SQLite and the job spec under
// `dir`; the dataset root in the spec is `dataset_root`.
absl::StatusOr<DemoWorld> BuildDemoWorld(const std::vector<LabelledImage>& images,
                                         const DemoWorldOptions& options, OriginServer& origin,
                                         const std::filesystem::path& dir,
                                         const std::filesystem::path& dataset_root);

}  // namespace atelier::demo
