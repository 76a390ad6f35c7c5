#pragma once
// POST /v1/traces — OTLP/HTTP trace export (protobuf and JSON, optionally gzip) into tracefeed.
//
// Each decoded trace becomes one `trace` envelope published through the EventSink; the
// response is sent only after the sink has acknowledged every envelope (nothing acknowledged is
// lost). Status codes follow the OTLP/HTTP spec:
//   200  ExportTraceServiceResponse in the request's encoding; partial_success names the
//        rejected spans (bad ids, missing names, ...) while the good ones were published
//   400  undecodable body (google.rpc.Status in the request's encoding)
//   413  body (or its gzip inflation) larger than the limit
//   415  Content-Type other than application/x-protobuf / application/json, or an unknown
//        Content-Encoding
//   503  + Retry-After: the sink is unavailable (queue full, Kafka down); OTLP exporters retry,
//        and the deterministic event ids make a retried batch publish each trace once.
//
// Threads: handlers run on the HTTP worker pool; they share nothing but the EventSink
// (thread-safe by contract).

#include <cstddef>
#include <string>

#include "core/event_sink.h"
#include "core/model.h"
#include "http/server.h"

namespace tracefeed::otlp {

struct OtlpOptions {
  // Largest request body after gzip inflation; larger → 413 (the zip-bomb guard).
  // Default: 64 MiB.
  size_t max_decompressed_bytes = 64u << 20;
  // Longest trace_info request_preview / response_preview, in bytes. Default: 1000 (MLflow's).
  size_t preview_max_bytes = 1000;
  // Retry-After (seconds) sent with 503. Default: 1.
  int retry_after_seconds = 1;
};

// Registers POST /v1/traces on `server` (call before server.start()). `sink` must outlive the
// server's serving.
void register_otlp_routes(http::Server& server, EventSink& sink, OtlpOptions options);

// What the route does, callable without a socket (tests, other transports).
void handle_otlp_export(const http::Request& req, http::Response& res, EventSink& sink, const OtlpOptions& options);

// The idempotency key of the envelope carrying `trace`: "otlp-" + the trace's 32 hex digits +
// "-" + a hash of its span ids + a hash of its content. An exporter retrying the same batch
// makes the same ids, so the sink (and the processors) apply it once.
[[nodiscard]] std::string otlp_event_id(const Trace& trace);

}  // namespace tracefeed::otlp
