// Fuzzes IngestBam (bam_ingest.h) over BAM rows. The input is a SQL script
// after one byte of settings: it is run into a fresh SQLite file (the
// `modules`, `scores`, `automatic_labels` and `crowd_labels` tables with any
// column types and values), which IngestBam then reads. Settings byte: bits
// 0-1 label_source (scores, automatic, crowd, crowd), bit 2 include_mature,
// bit 3 limit 3, bit 4 min_score 0.5; the families are media and emotion.
//
// The script may only create, fill and read tables (an authorizer refuses
// ATTACH, PRAGMA and the like, VACUUM is refused) and is stopped after a
// bounded amount of work, so that an input cannot touch other files or hang.
#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "atelier/common/testing/fuzz_input_file.h"
#include "atelier/coordinator/bam_ingest.h"

namespace {

int Authorize(void*, int action, const char*, const char*, const char*, const char*) {
  switch (action) {
    case SQLITE_CREATE_INDEX:
    case SQLITE_CREATE_TABLE:
    case SQLITE_CREATE_VIEW:
    case SQLITE_DELETE:
    case SQLITE_DROP_TABLE:
    case SQLITE_DROP_VIEW:
    case SQLITE_FUNCTION:
    case SQLITE_INSERT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
    case SQLITE_SELECT:
    case SQLITE_TRANSACTION:
    case SQLITE_UPDATE:
      return SQLITE_OK;
    default:
      return SQLITE_DENY;
  }
}

// Stops the script after about 200 progress callbacks (200k VM steps).
int Progress(void* calls) { return ++*static_cast<int*>(calls) > 200; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static atelier::testing::FuzzInputFile db_file(".sqlite");
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const std::string script(reinterpret_cast<const char*>(data + 1), size - 1);
  if (absl::StrContains(absl::AsciiStrToLower(script), "vacuum")) return 0;

  std::error_code ec;
  std::filesystem::remove(db_file.path(), ec);
  std::filesystem::remove(db_file.path().string() + "-journal", ec);
  sqlite3* db = nullptr;
  if (sqlite3_open(db_file.path().c_str(), &db) != SQLITE_OK) {
    sqlite3_close(db);
    return 0;
  }
  int calls = 0;
  sqlite3_set_authorizer(db, Authorize, nullptr);
  sqlite3_progress_handler(db, 1000, Progress, &calls);
  sqlite3_exec(db, script.c_str(), nullptr, nullptr, nullptr);
  sqlite3_close(db);

  atelier::BamSourceSpec spec;
  spec.sqlite = db_file.path().string();
  spec.labels = {"media", "emotion"};
  static const char* const kSources[] = {"scores", "automatic", "crowd", "crowd"};
  spec.label_source = kSources[mode & 3];
  spec.include_mature = (mode & 4) != 0;
  if (mode & 8) spec.limit = 3;
  if (mode & 16) spec.min_score = 0.5;
  atelier::coordinator::CollectingSink sink;
  (void)atelier::coordinator::IngestBam(spec, "bam:fuzz", sink);
  return 0;
}
