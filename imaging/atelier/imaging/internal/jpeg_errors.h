// Internal: libjpeg error handling shared by the JPEG decoder and encoder.
// libjpeg reports errors by calling error_exit, which must not return: the
// handlers longjmp to `jump`, which the caller has set with setjmp. Not
// thread-affine; one manager per (de)compressor.
#pragma once

#include <csetjmp>
#include <cstdio>

// jpeglib.h needs size_t and FILE declared first.
#include <jpeglib.h>

#include "absl/status/status.h"

namespace atelier::imaging::internal {

struct JpegErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  bool truncated = false;  // the data ended before the scan data did
  bool ran_out = false;    // libjpeg's "premature end of JPEG file" warning was seen
  char message[JMSG_LENGTH_MAX] = {};
};

// Installs handlers into err->pub: errors longjmp to err->jump with the
// message saved; warnings are counted. Running out of data ("premature end of
// JPEG file") alone is not an error: it is also what a file missing only its
// final EOI marker gives, after the last scan's data was read. A truncated
// file is the decoder then needing bits that are not there ("premature end of
// data segment" after the end of the data), which longjmps as an error.
void InstallErrorManager(JpegErrorManager* err);

// A progress monitor that refuses (longjmps) more than 1000 progressive scans:
// CPU bombs made of empty scans. Needs the manager above.
void JpegScanLimitMonitor(j_common_ptr cinfo);

// truncated_image or corrupt_image with libjpeg's message.
absl::Status ErrorFromManager(const JpegErrorManager& err);

}  // namespace atelier::imaging::internal
