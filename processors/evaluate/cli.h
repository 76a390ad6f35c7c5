#pragma once
// `tracefeed evaluate`: the quickstart's step 6 from a terminal.
//
//   tracefeed evaluate --session quickstart_review --scorer correctness [--predict-url URL]
//                      [--output results.jsonl]
//
// POSTs the evaluation to a running tracefeed (POST /api/v1/evaluations), follows it with a
// progress bar (stderr; plain lines when stderr is not a TTY), then prints the aggregates and a
// results table (stdout) and, with --output, writes every record's result as JSON lines.
//
// Exit status: 0 when the evaluation finished (whatever the scores), 1 when it failed, 2 when it
// could not run (bad arguments, server unreachable, request refused, --timeout).

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace tracefeed::evaluate {

struct EvaluateCliOptions {
  // tracefeed base URL. Default: "http://127.0.0.1:8080".
  std::string url = "http://127.0.0.1:8080";
  // Exactly one source: a labeling session (id or name), a dataset, or a search filter.
  std::string session;
  std::string dataset;
  std::optional<int64_t> dataset_version;
  std::optional<std::string> filter;
  // Scorer names ("correctness") or JSON specs ('{"name":"tone","type":"guidelines",...}').
  // Required.
  std::vector<std::string> scorers;
  // Guidelines for the "guidelines" scorer (added to the scorers if not named).
  std::vector<std::string> guidelines;
  std::string predict_url;
  std::string name;
  std::string evaluation_id;
  std::optional<uint64_t> max_records;
  // JSONL file for every record's result. Default: "" (none).
  std::string output;
  // Bearer token for a server with http.auth_tokens. Default: "" = $TRACEFEED_TOKEN if set.
  std::string token;
  // Progress bar: default (nullopt) = when stderr is a TTY.
  std::optional<bool> progress;
  // How often the run is polled. Default: 500 ms.
  std::chrono::milliseconds poll_interval{500};
  // Give up waiting after this long (the run continues on the server). 0 = wait for the end.
  // Default: 0.
  std::chrono::milliseconds timeout{0};
  // Records shown in the terminal table (all of them go to --output). Default: 20.
  size_t table_rows = 20;
};

// Runs the command; `out` gets the results, `err` progress and errors. Returns the exit status.
int run_evaluate_cli(const EvaluateCliOptions& options, std::FILE* out, std::FILE* err);

// The POST body the options make, or an error message for bad options.
struct CliRequest {
  std::string body;
  std::string error;
};
[[nodiscard]] CliRequest build_cli_request(const EvaluateCliOptions& options);

}  // namespace tracefeed::evaluate
