#pragma once
// `tracefeed emit FILE...`: sends NDJSON envelope files (or "-" for stdin) to the gateway's
// POST /api/v1/events in batches, one request in flight, retrying 429/5xx/connection errors
// (Retry-After honoured) and reporting every rejection with its file and line.
//
// Output goes to `err` (stderr in the CLI): a progress bar when it is a TTY, plain lines
// otherwise, then a summary (sent, accepted, rejected with the first errors, duration, events/s).

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace tracefeed::emit {

struct EmitOptions {
  // NDJSON files of envelopes; "-" reads stdin. Required.
  std::vector<std::string> files;
  // Gateway base URL. Default: "http://127.0.0.1:8080".
  std::string url = "http://127.0.0.1:8080";
  // Envelopes per request. Default: 500.
  size_t batch_size = 500;
  // Bytes per request. Default: 4 MiB.
  size_t max_batch_bytes = 4u << 20;
  // Parse every line locally first (core's EventParser); invalid lines are reported with their
  // line number and not sent. Default: true.
  bool validate = true;
  // Progress bar: default (nullopt) = when `err` is a TTY.
  std::optional<bool> progress;
  // Give up on a batch after retrying this long. Default: 60 s.
  std::chrono::milliseconds retry_timeout = std::chrono::seconds(60);
  // Rejections printed in the summary. Default: 10.
  size_t max_reported_errors = 10;
};

struct EmitSummary {
  uint64_t lines = 0;     // non-blank lines read
  uint64_t sent = 0;      // envelopes posted
  uint64_t accepted = 0;
  uint64_t rejected = 0;  // by the gateway, plus invalid lines when validating locally
  uint64_t failed = 0;    // never delivered (gave up retrying, I/O errors)
  uint64_t retries = 0;
  double seconds = 0;
  std::vector<std::string> first_errors;  // "FILE:LINE: ERROR_CODE: message"
};

// Runs the whole emit, writing progress and the summary to `err`. An error Status only for
// problems that stop it (bad options, unreadable file, gateway unreachable past retry_timeout).
[[nodiscard]] Result<EmitSummary> emit_files(const EmitOptions& options, std::FILE* err);

// The CLI entry point: 0 when everything was accepted, 1 when anything was rejected or failed,
// 2 when it could not run.
int run_emit(const EmitOptions& options);

}  // namespace tracefeed::emit
