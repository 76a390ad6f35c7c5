#pragma once
// JSON in and out for the event model (PRODUCT.md §3, MLflow 3 proto-JSON).
//
// EventParser parses *and validates*: a returned error names the field at fault, e.g.
// `trace.trace_info.trace_id: expected "tr-" + 32 lowercase hex, got "tr-12"`. Unknown fields are
// ignored (MLflow clients send more than we use). Parsing uses simdjson On-Demand over a reused
// padded copy of the input, so a parser allocates nothing per event once warm except the
// strings of the parsed objects themselves.

#include <memory>
#include <string>
#include <string_view>

#include "core/json_writer.h"
#include "core/model.h"
#include "core/result.h"

namespace tracefeed {

// Limits that keep one event from taking the pipeline down. Oversize → invalid_argument.
inline constexpr size_t kMaxNameBytes = 256;             // assessment_name, span name, map keys
inline constexpr size_t kMaxAssessmentValueBytes = 64 * 1024;
inline constexpr size_t kMaxRationaleBytes = 64 * 1024;
inline constexpr size_t kMaxEventIdBytes = 128;
inline constexpr int kMaxJsonDepth = 64;

// Not thread-safe: one parser per thread (they are cheap to keep).
class EventParser {
 public:
  EventParser();
  ~EventParser();
  EventParser(EventParser&&) noexcept;
  EventParser& operator=(EventParser&&) noexcept;

  // {"event_id", "type", "time", "trace" | "assessment"} → validated Envelope.
  [[nodiscard]] Status parse_envelope(std::string_view json, Envelope& out);
  [[nodiscard]] Result<Envelope> parse_envelope(std::string_view json);

  // {"trace_info": {...}, "spans": [...]} → validated Trace.
  [[nodiscard]] Status parse_trace(std::string_view json, Trace& out);
  // A bare assessment object, validated as a new assessment (type "assessment").
  [[nodiscard]] Status parse_assessment(std::string_view json, Assessment& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> _impl;
};

// The SIMD kernel simdjson's On-Demand parser was compiled for ("haswell", "westmere",
// "fallback"): fixed at compile time by the target ISA (see cmake/tracefeed.cmake).
[[nodiscard]] std::string_view json_kernel_name();

// Semantic checks, shared by the parser and by code that builds events itself (the SDK).
// `path` prefixes field names in messages ("trace", "assessment", "").
[[nodiscard]] Status validate_trace(const Trace& trace, std::string_view path = "");
[[nodiscard]] Status validate_assessment(const Assessment& a, EventType type, std::string_view path = "");
[[nodiscard]] Status validate_envelope(const Envelope& e);

// True when `s` is valid UTF-8 (SIMD-accelerated).
[[nodiscard]] bool is_valid_utf8(std::string_view s) noexcept;

// Human-readable preview of a JSON value, at most `max_bytes` (cut on a UTF-8 boundary): a
// string shows as its text, an object with one string field as that string
// ({"user_question": "What is MLflow?"} → What is MLflow?), anything else as its JSON.
[[nodiscard]] std::string json_preview(const JsonText& json, size_t max_bytes);

// Writers emit proto-JSON as MLflow does: default-valued fields are omitted, times are RFC 3339.
void write_json(JsonWriter& w, const Span& span);
void write_json(JsonWriter& w, const TraceInfo& info);
void write_json(JsonWriter& w, const Trace& trace);
void write_json(JsonWriter& w, const Assessment& a);
void write_json(JsonWriter& w, const Envelope& e);

template <typename T>
std::string to_json(const T& v) {
  std::string out;
  JsonWriter w(out);
  write_json(w, v);
  return out;
}

}  // namespace tracefeed
