#pragma once
// The ingestion gateway's HTTP routes: the native batch endpoint and MLflow 3's write endpoints
// (traces and assessments). OTLP /v1/traces lives in producers/otlp and is registered beside
// these by the wiring. Every route answers only after the EventSink acknowledged what it accepted.
//
//   POST   /api/v1/events                                        native batch (JSON array or NDJSON)
//   POST   /api/3.0/mlflow/traces                                StartTraceV3 → trace event
//   POST   /api/3.0/mlflow/traces/{trace_id}/assessments         CreateAssessment → assessment event
//   PATCH  /api/3.0/mlflow/traces/{trace_id}/assessments/{id}    UpdateAssessment → assessment_update
//          (replies with the full updated assessment when an AssessmentLookup finds the stored one)
//   DELETE /api/3.0/mlflow/traces/{trace_id}/assessments/{id}    DeleteAssessment → assessment_delete
//   GET    /version                                              the MLflow server version we speak
//
// Native batch status codes (see README.md for the full contract):
//   202 {"accepted": N}                         every item acknowledged by Kafka
//   202 {"accepted": N, "rejected": [...]}      some items invalid, the rest acknowledged
//   400 {"error_code", "message", "accepted": 0, "rejected": [...]}  nothing valid
//   503 + Retry-After, same body with the not-accepted items listed (TEMPORARILY_UNAVAILABLE)
//   413 more than max_events_per_request items (or body over the server's limit)
//   415 Content-Type other than JSON / NDJSON
//
// Idempotency: an envelope's event_id is the key. Missing event ids are generated, so retries of
// such events are NOT deduplicated — unless the request has an Idempotency-Key header, which
// names the single event (or, for a batch, item i gets "<key>:<i>"). MLflow writes get a
// deterministic event id (hash of method, path and body): the MLflow client's retries of one
// call publish once and get the same assessment_id back.
//
// Threads: handlers run on the HTTP worker pool. Each worker keeps its own parser and buffers
// (thread_local); the Gateway itself holds only the sink, clock, lookup and atomic counters.

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/event_sink.h"
#include "core/model.h"
#include "core/result.h"
#include "http/server.h"

namespace tracefeed::publish {
class DeadLetterSink;
}

namespace tracefeed::gateway {

struct GatewayOptions {
  // Most items accepted in one POST /api/v1/events; more → 413. Default: 10000.
  size_t max_events_per_request = 10000;
  // Retry-After (seconds) sent with 503. Default: 1.
  int retry_after_seconds = 1;
  // Body of GET /version. The MLflow client needs ≥ 3.4 to send spans over OTLP (log_spans).
  // Default: "3.5.0".
  std::string mlflow_version = "3.5.0";
  // Longest Idempotency-Key header accepted (longer → 400). Default: 100 bytes (leaves room for
  // the ":<index>" suffix within the 128-byte event_id limit).
  size_t max_idempotency_key_bytes = 100;
};

// Why an item or request was refused; the label of tracefeed_events_rejected_total{reason}.
enum class RejectReason : uint8_t {
  invalid_event,           // an envelope/trace/assessment failed parsing or validation
  malformed_body,          // the body as a whole is not a JSON array / NDJSON / JSON object
  unsupported_media_type,  // 415
  too_many_events,         // 413 (max_events_per_request)
  unavailable,             // 503: the sink could not acknowledge it (queue full, broker down)
  publish_failed,          // the sink refused it for another reason (e.g. record too large)
  kCount,
};
[[nodiscard]] std::string_view to_string(RejectReason r) noexcept;

// Counters a metrics sink reads at any time: tracefeed_events_ingested_total{type} and
// tracefeed_events_rejected_total{reason}. Thread-safe (relaxed atomics; a snapshot is not
// atomic across counters, which Prometheus does not need).
class GatewayStats {
 public:
  void count_ingested(EventType type, uint64_t n = 1) noexcept {
    _ingested[static_cast<size_t>(type)].fetch_add(n, std::memory_order_relaxed);
  }
  void count_rejected(RejectReason reason, uint64_t n = 1) noexcept {
    _rejected[static_cast<size_t>(reason)].fetch_add(n, std::memory_order_relaxed);
  }
  [[nodiscard]] uint64_t ingested(EventType type) const noexcept {
    return _ingested[static_cast<size_t>(type)].load(std::memory_order_relaxed);
  }
  [[nodiscard]] uint64_t rejected(RejectReason reason) const noexcept {
    return _rejected[static_cast<size_t>(reason)].load(std::memory_order_relaxed);
  }
  // {label, value} for every label, zeros included (stable series for Prometheus).
  [[nodiscard]] std::vector<std::pair<std::string, uint64_t>> ingested_by_type() const;
  [[nodiscard]] std::vector<std::pair<std::string, uint64_t>> rejected_by_reason() const;

 private:
  std::array<std::atomic<uint64_t>, 4> _ingested{};
  std::array<std::atomic<uint64_t>, static_cast<size_t>(RejectReason::kCount)> _rejected{};
};

// The assessment as currently stored (the join's state), or nullopt when it is not known (not yet
// joined, deleted, or never existed). UpdateAssessment answers with the full updated assessment,
// as MLflow's does: the stored one with the update merged onto it. The gateway sits beside the
// processors, not above them, so the wiring passes their reader in (join::TraceReader::
// get_assessment where the process runs the join; nothing in a gateway-only process).
// Called on HTTP worker threads, concurrently: must be thread-safe.
using AssessmentLookup =
    std::function<Result<std::optional<Assessment>>(std::string_view trace_id, std::string_view assessment_id)>;

class Gateway {
 public:
  // `sink` and `clock` (and `dead_letters`, which may be null) must outlive the Gateway and the
  // server it is registered on. `lookup` may be empty: UpdateAssessment then answers with the
  // updated fields only.
  Gateway(GatewayOptions options, EventSink& sink, Clock& clock, publish::DeadLetterSink* dead_letters = nullptr,
          AssessmentLookup lookup = {});
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Registers every route above on `server` (before server.start()).
  void register_routes(http::Server& server);

  // The handlers, callable without a socket (unit tests, other transports).
  void handle_events(const http::Request& req, http::Response& res);
  void handle_start_trace(const http::Request& req, http::Response& res);
  void handle_create_assessment(const http::Request& req, http::Response& res);   // path_params: trace_id
  void handle_update_assessment(const http::Request& req, http::Response& res);   // trace_id, assessment_id
  void handle_delete_assessment(const http::Request& req, http::Response& res);   // trace_id, assessment_id
  void handle_version(const http::Request& req, http::Response& res);

  [[nodiscard]] const GatewayStats& stats() const noexcept { return _stats; }

 private:
  // Publishes one event built by an MLflow route; on failure writes the error and returns false.
  bool publish_one(const Envelope& e, http::Response& res);
  void reject(RejectReason reason, const Status& s, std::string_view raw);
  void write_unavailable(http::Response& res, const Status& s);
  int64_t now_ns() const;

  GatewayOptions _options;
  EventSink& _sink;
  Clock& _clock;
  publish::DeadLetterSink* _dead_letters;
  AssessmentLookup _lookup;
  GatewayStats _stats;
};

// The event id of an MLflow write: "mlflow-" + 32 hex of a 128-bit hash of method, path and body.
[[nodiscard]] std::string mlflow_event_id(std::string_view method, std::string_view path, std::string_view body);

// Splits a JSON array's top-level elements (views into `body`) without parsing them: the
// elements are validated one by one by EventParser. Errors only for a body that is not one
// well-bracketed array.
[[nodiscard]] Status split_json_array(std::string_view body, std::vector<std::string_view>& items);
// Splits NDJSON into its non-blank lines (a trailing '\r' is dropped).
void split_ndjson(std::string_view body, std::vector<std::string_view>& items);

}  // namespace tracefeed::gateway
