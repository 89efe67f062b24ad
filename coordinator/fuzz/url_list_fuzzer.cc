// Fuzzes IngestUrlList (url_list_ingest.h). The first byte picks the list's
// kind and columns: bit 0 a .csv (else .txt), bit 1 label_columns {"label"}
// (else every other column), bit 2 url_column "URL" (else "url"); the rest is
// the file.
#include <cstddef>
#include <cstdint>

#include "atelier/common/testing/fuzz_input_file.h"
#include "atelier/coordinator/url_list_ingest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static atelier::testing::FuzzInputFile txt(".txt");
  static atelier::testing::FuzzInputFile csv(".csv");
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  atelier::testing::FuzzInputFile& file = (mode & 1) ? csv : txt;
  atelier::UrlsSourceSpec spec;
  spec.file = file.Write(data + 1, size - 1).string();
  if (mode & 2) spec.label_columns = {"label"};
  if (mode & 4) spec.url_column = "URL";
  atelier::coordinator::CollectingSink sink;
  (void)atelier::coordinator::IngestUrlList(spec, "urls:fuzz", sink);
  return 0;
}
