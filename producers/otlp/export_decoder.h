#pragma once
// OTLP/HTTP trace export requests (ExportTraceServiceRequest, protobuf or OTLP/JSON) →
// tracefeed Traces (PRODUCT.md §3), one per trace id.
//
// Mapping (README.md has the full table):
//  - trace_id → "tr-" + 32 hex, or the span's `mlflow.traceRequestId` when it is a valid
//    MLflow trace id; span_id / parent_span_id → 16 hex; name, times, status as is.
//  - span_type from `mlflow.spanType`, else `gen_ai.operation.name` (chat → CHAT_MODEL, ...),
//    else `openinference.span.kind`, else UNKNOWN.
//  - inputs/outputs from `mlflow.spanInputs`/`mlflow.spanOutputs`, else the GenAI semantic
//    conventions' `gen_ai.input.messages`/`gen_ai.output.messages` (or the older
//    `gen_ai.prompt`/`gen_ai.completion`). MLflow's values may arrive JSON-encoded (the
//    OpenTelemetry exporter path: "\"RETRIEVER\"") or typed (MLflow's own REST client): both work.
//  - every other attribute → span attributes as JSON values; events → a JSON array.
//  - the root span (no parent) fills trace_info: request_time, execution_duration, state,
//    request/response previews; resource `service.name` → trace_metadata.
//
// A span that fails validation is rejected on its own (counted, and named in error_message);
// the others go through. Only an undecodable body fails the whole request.
//
// Thread-safe: no shared state (each call uses its own or thread-local parsers).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"
#include "core/result.h"

namespace tracefeed::otlp {

enum class Encoding : uint8_t { protobuf, json };

// "application/x-protobuf" → protobuf, "application/json" → json (parameters such as
// "; charset=utf-8" and letter case ignored); anything else → nullopt (HTTP 415).
[[nodiscard]] std::optional<Encoding> encoding_for_content_type(std::string_view content_type) noexcept;

struct DecodeOptions {
  // MLflow experiment the traces belong to (the `x-mlflow-experiment-id` header) → every
  // trace's trace_info.trace_location. Default: empty (no location).
  std::string experiment_id;
  // Longest request_preview / response_preview, in bytes (cut on a UTF-8 boundary).
  // Default: 1000, as MLflow.
  size_t preview_max_bytes = 1000;
  // error_message names at most this many rejected spans ("... and N more"). Default: 5.
  size_t max_error_details = 5;
};

struct DecodedExport {
  // Accepted spans grouped by tracefeed trace id, in order of first appearance.
  std::vector<Trace> traces;
  int64_t accepted_spans = 0;
  int64_t rejected_spans = 0;
  // Why spans were rejected, naming the field ("resource_spans[0].scope_spans[0].spans[2].
  // trace_id: expected 16 bytes, got 3"); empty when none was.
  std::string error_message;
};

// Decodes and maps one request body (already un-gzipped). invalid_argument when the body is
// not a decodable ExportTraceServiceRequest in `enc` (the message names where it failed).
[[nodiscard]] Result<DecodedExport> decode_export_request(std::string_view body, Encoding enc,
                                                          const DecodeOptions& options = {});

// "tr-" + 32 lowercase hex for 16 OTLP trace id bytes.
[[nodiscard]] std::string mlflow_trace_id_from_otel(std::string_view trace_id_bytes);

// MLflow span type for a GenAI semantic-conventions `gen_ai.operation.name`
// (chat → CHAT_MODEL, embeddings → EMBEDDING, execute_tool → TOOL, ...); empty when unknown.
[[nodiscard]] std::string_view span_type_for_gen_ai_operation(std::string_view operation) noexcept;

}  // namespace tracefeed::otlp
