#pragma once
// Read APIs served from processor state (PRODUCT.md §4, MLflow-compatible paths):
//   GET /api/3.0/mlflow/traces/{trace_id}                              → {trace: {trace_info}}
//   GET /api/3.0/mlflow/traces/get?trace_id=                           → {trace: {trace_info, spans}}
//       spans in tracefeed's shape (PRODUCT.md §3); with the header X-MLflow-Client-Version (sent
//       by MLflow's Python client on every request) MLflow's GetTrace.Response instead: spans as
//       OpenTelemetry Span messages (mlflow_trace_json.h), which mlflow.get_trace parses
//   GET /api/3.0/mlflow/traces/batchGet?trace_ids=&trace_ids=          → {traces: [GetTrace's trace]}
//       MLflow's BatchGetTraces, through which mlflow.search_traces loads spans; the order asked
//   GET /api/3.0/mlflow/traces/{trace_id}/assessments/{assessment_id}  → {assessment}
//   POST /api/3.0/mlflow/traces/search {locations, filter, max_results, order_by, page_token}
//                                                                      → {traces: [trace_info], next_page_token}
//
// Search with MLflow's default order (timestamp_ms DESC, request_id ASC) walks the trace time
// index (processors/route/time_index.h) newest first and stops after max_results + 1 matches;
// its page token is the index key of the last trace returned, so page N costs the same as page
// 1. Any other order collects every match and sorts it (offset page tokens); a filter on
// trace.timestamp_ms then bounds the candidates to that range of the index. Until the index is
// complete (it is built once over traces stored before it existed) — or without a store, in the
// first overload — search scans every trace, with identical results.
//
// Read-your-writes: the join applies events asynchronously (milliseconds behind the gateway's
// acknowledgement), so a read that finds nothing waits up to `read_your_writes_wait` for the
// processor before answering 404. MLflow's override_feedback reads an assessment right after
// creating it; this makes that work without a client-side retry.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"

namespace tracefeed::http {
class Server;
}
namespace tracefeed::join {
class TraceReader;
}
namespace tracefeed::state {
class Store;
}

namespace tracefeed::query {

struct ReadApiOptions {
  // Longest wait for a not-yet-applied trace or assessment before 404. Default: 2 s.
  std::chrono::milliseconds read_your_writes_wait{2000};
  // Largest max_results a search may ask for. Default: 1000.
  size_t max_search_results = 1000;
  // Most trace ids one BatchGetTraces may ask for (MLflow's client sends 10). Default: 100.
  size_t max_batch_get_traces = 100;
  // The traces of an MLflow run that do not carry the run in their metadata: a labeling session
  // is a run whose traces were added to it, not created under it
  // (labeling::SessionMembership::traces_of_run). A search for `attribute.run_id = X` /
  // `metadata.mlflow.sourceRun = X` (what mlflow.search_traces(run_id=X) sends) matches them as if
  // their metadata said mlflow.sourceRun = X. nullopt when X is no such run. Default: none.
  std::function<std::optional<std::vector<std::string>>(std::string_view run_id)> run_members;
};

// Registers the routes; `reader` (and `store`) must outlive the server. Handlers run on HTTP
// worker threads. Without `store` search does not use the time index.
void register_read_routes(http::Server& server, const join::TraceReader& reader, ReadApiOptions options);
void register_read_routes(http::Server& server, const join::TraceReader& reader, const state::Store& store,
                          ReadApiOptions options);

}  // namespace tracefeed::query
