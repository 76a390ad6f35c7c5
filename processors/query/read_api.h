#pragma once
// Read APIs served from processor state (PRODUCT.md §4, MLflow-compatible paths):
//   GET /api/3.0/mlflow/traces/{trace_id}                              → {trace: {trace_info}}
//   GET /api/3.0/mlflow/traces/get?trace_id=                           → {trace: {trace_info, spans}}
//   GET /api/3.0/mlflow/traces/{trace_id}/assessments/{assessment_id}  → {assessment}
//   POST /api/3.0/mlflow/traces/search {locations, filter, max_results, order_by, page_token}
//                                                                      → {traces: [trace_info], next_page_token}
//
// Search scans every stored trace and sorts the matches: fine for the single-node volumes of
// `tracefeed run`; a time index to bound the scan is future work (see README).
//
// Read-your-writes: the join applies events asynchronously (milliseconds behind the gateway's
// acknowledgement), so a read that finds nothing waits up to `read_your_writes_wait` for the
// processor before answering 404. MLflow's override_feedback reads an assessment right after
// creating it; this makes that work without a client-side retry.

#include <chrono>

#include "core/clock.h"

namespace tracefeed::http {
class Server;
}
namespace tracefeed::join {
class TraceReader;
}

namespace tracefeed::query {

struct ReadApiOptions {
  // Longest wait for a not-yet-applied trace or assessment before 404. Default: 2 s.
  std::chrono::milliseconds read_your_writes_wait{2000};
  // Largest max_results a search may ask for. Default: 1000.
  size_t max_search_results = 1000;
};

// Registers the routes; `reader` must outlive the server. Handlers run on HTTP worker threads.
void register_read_routes(http::Server& server, const join::TraceReader& reader, ReadApiOptions options);

}  // namespace tracefeed::query
