#pragma once
// MLflow's wire form of a whole trace, for the routes only MLflow's Python client reads
// (GetTrace, BatchGetTraces): `mlflow.Trace` = {trace_info, spans}, where each span is an
// `opentelemetry.proto.trace.v1.Span` in proto-JSON — what MLflow's tracking server writes
// (Trace.to_proto → Span.to_otel_proto) and its client reads back (Span.from_otel_proto).
//
// From a tracefeed Span (core/model.h):
//   trace_id, span_id, parent_span_id   the id bytes in base64 (proto-JSON `bytes`); trace_id
//                                       from trace_info.trace_id without "tr-"; no
//                                       parent_span_id for a root span
//   name, start/end_time_unix_nano      times as decimal strings (`fixed64`); no end time while 0
//   kind                                SPAN_KIND_<X> from attribute otel.span_kind (then dropped)
//   status {code, message}              STATUS_CODE_OK|ERROR|UNSET; message from attribute
//                                       otel.status_description (then dropped)
//   attributes [{key, value}]           mlflow.traceRequestId, mlflow.spanType, mlflow.spanInputs,
//                                       mlflow.spanOutputs from the span's fields, then every other
//                                       attribute; each value a typed AnyValue (below)
//   events [{name, time_unix_nano, attributes}]  from the span's events array
//
// AnyValue of a JSON value, as MLflow's server sets it: string → string_value, integer →
// int_value (beyond int64: double_value), other number → double_value, bool → bool_value,
// array → array_value, object → kvlist_value, null → {} (unset). The client JSON-encodes each
// decoded value again, so span.inputs comes back as the same JSON value tracefeed stored.
//
// Pure functions, thread-safe; output goes through the caller's JsonWriter.

#include <string>
#include <string_view>

#include "core/json_writer.h"
#include "core/model.h"

namespace tracefeed::query {

// {"trace_info": {...}, "spans": [OTel spans]} — the `trace` of GetTrace.Response and each
// element of BatchGetTraces.Response.traces.
void write_mlflow_trace(JsonWriter& w, const Trace& trace);

// One span as an OpenTelemetry Span message; `trace_id` is the MLflow trace id ("tr-" + hex).
void write_otel_span(JsonWriter& w, const Span& span, std::string_view trace_id);

// Appends the AnyValue message of one JSON value (a JsonText). Text that is not JSON (it never
// is once stored; the fallback keeps the answer parseable) becomes a string_value of the text.
void append_any_value(std::string& out, std::string_view json);

// Standard base64 (with padding) of the bytes that `hex` spells; "" when `hex` is not an even
// number of hex digits.
[[nodiscard]] std::string base64_of_hex(std::string_view hex);

}  // namespace tracefeed::query
