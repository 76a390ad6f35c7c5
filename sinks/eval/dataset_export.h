#pragma once
// `tracefeed dataset export NAME`: downloads one version of a dataset as JSONL through
// GET /api/v1/datasets/{name}/records, a page at a time (bounded memory on both sides; every page
// pinned to the version the first page answered), retrying 429/5xx/connection errors
// (Retry-After honoured). The file is written as FILE.part and renamed when complete, so a failed
// export never leaves a file that looks whole.
//
// Output goes to `err` (stderr in the CLI): a progress bar when it is a TTY, a plain line per
// second otherwise, then a summary line.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "core/result.h"

namespace tracefeed::eval {

struct DatasetExportOptions {
  // tracefeed's base URL. Default: "http://127.0.0.1:8080".
  std::string url = "http://127.0.0.1:8080";
  // Dataset name. Required.
  std::string name;
  // Version to export. Default: nullopt = the latest.
  std::optional<int64_t> version;
  // Output file; "-" writes to stdout. Default: empty = "<name>-v<version>.jsonl".
  std::string output;
  // Records per request. Default: 1000.
  size_t page_size = 1000;
  // Progress bar: default (nullopt) = when `err` is a TTY.
  std::optional<bool> progress;
  // Give up on a page after retrying this long. Default: 30 s.
  std::chrono::milliseconds retry_timeout = std::chrono::seconds(30);
};

struct DatasetExportSummary {
  std::string output;     // the file written ("-" for stdout)
  int64_t version = 0;
  uint64_t records = 0;
  uint64_t bytes = 0;
  uint64_t requests = 0;
  uint64_t retries = 0;
  double seconds = 0;
};

// Runs the export. Errors: invalid_argument for bad options, not_found for an unknown dataset or
// version (the server's message), unavailable when the server stays unreachable past
// retry_timeout, io_error when the file cannot be written.
[[nodiscard]] Result<DatasetExportSummary> export_dataset(const DatasetExportOptions& options, std::FILE* err);

// The CLI entry point: 0 when the export is complete, 1 when the server refused it (unknown
// dataset or version, bad request), 2 when it could not run (unreachable, I/O).
int run_dataset_export(const DatasetExportOptions& options);

}  // namespace tracefeed::eval
