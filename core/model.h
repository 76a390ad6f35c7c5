#pragma once
// The event model: trace, span, assessment and the event envelope, as PRODUCT.md §3 and
// MLflow 3's proto-JSON define them (snake_case field names).
//
// Arbitrary JSON payloads (span inputs/outputs/attributes, assessment values) are kept as
// canonical, minified JSON text (`JsonText`): the parser re-serializes them, so whatever is
// stored is valid JSON and is emitted again byte-for-byte.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace tracefeed {

// Canonical minified JSON text of one value ("true", "3.5", "\"x\"", "[1,2]", "{\"a\":1}").
using JsonText = std::string;

// Ordered string map (proto `map<string,string>`); small, so a vector beats a tree.
using StringMap = std::vector<std::pair<std::string, std::string>>;

// Unix time in nanoseconds (google.protobuf.Timestamp on the wire, RFC 3339).
using UnixNanos = int64_t;

enum class TraceState : uint8_t { unspecified, ok, error, in_progress };
enum class SpanStatus : uint8_t { unset, ok, error };
enum class SourceType : uint8_t { unspecified, human, llm_judge, code };
enum class EventType : uint8_t { trace, assessment, assessment_update, assessment_delete };

std::string_view to_string(TraceState s) noexcept;   // "OK", "ERROR", "IN_PROGRESS", "STATE_UNSPECIFIED"
std::string_view to_string(SpanStatus s) noexcept;   // "OK", "ERROR", "UNSET"
std::string_view to_string(SourceType s) noexcept;   // "HUMAN", "LLM_JUDGE", "CODE", "SOURCE_TYPE_UNSPECIFIED"
std::string_view to_string(EventType t) noexcept;    // "trace", "assessment", ...

struct Span {
  std::string span_id;         // 16 lowercase hex
  std::string parent_span_id;  // empty for the root span
  std::string name;
  int64_t start_time_unix_nano = 0;
  int64_t end_time_unix_nano = 0;
  SpanStatus status = SpanStatus::unset;
  std::string span_type;       // LLM, CHAIN, RETRIEVER, ... or any string; "UNKNOWN" when absent
  JsonText inputs;             // empty = absent
  JsonText outputs;            // empty = absent
  std::vector<std::pair<std::string, JsonText>> attributes;
  JsonText events;             // a JSON array, empty = absent

  bool is_root() const noexcept { return parent_span_id.empty(); }
};

struct AssessmentSource {
  SourceType source_type = SourceType::unspecified;
  std::string source_id;
};

struct AssessmentError {
  std::string error_code;
  std::string error_message;
};

struct Feedback {
  JsonText value;  // empty = absent (allowed only with an error)
  std::optional<AssessmentError> error;
};

struct Expectation {
  JsonText value;  // for serialized_value, the parsed JSON of serialized_value.value
};

struct Assessment {
  // Which optional fields a client actually sent: an assessment_update changes only these.
  enum Field : uint32_t {
    f_assessment_id = 1u << 0, f_name = 1u << 1, f_trace_id = 1u << 2, f_span_id = 1u << 3,
    f_source = 1u << 4, f_create_time = 1u << 5, f_last_update_time = 1u << 6,
    f_feedback = 1u << 7, f_expectation = 1u << 8, f_rationale = 1u << 9, f_metadata = 1u << 10,
    f_overrides = 1u << 11, f_valid = 1u << 12,
  };

  std::string assessment_id;  // "a-" + hex; made by tracefeed when absent
  std::string assessment_name;
  std::string trace_id;
  std::string span_id;        // optional
  AssessmentSource source;
  UnixNanos create_time = 0;
  UnixNanos last_update_time = 0;
  std::variant<std::monostate, Feedback, Expectation> value;
  std::string rationale;
  StringMap metadata;
  std::string overrides;      // id of the assessment this one replaces
  bool valid = true;
  uint32_t present = 0;       // bitmask of Field

  bool has(Field f) const noexcept { return (present & f) != 0; }
  bool is_feedback() const noexcept { return std::holds_alternative<Feedback>(value); }
  bool is_expectation() const noexcept { return std::holds_alternative<Expectation>(value); }
};

struct TraceInfo {
  std::string trace_id;  // "tr-" + 32 lowercase hex
  std::string client_request_id;
  JsonText trace_location;  // MLflow's {type, mlflow_experiment: {experiment_id}}; kept as sent
  UnixNanos request_time = 0;
  int64_t execution_duration_ns = 0;
  TraceState state = TraceState::unspecified;
  std::string request_preview;
  std::string response_preview;
  StringMap trace_metadata;
  StringMap tags;
  std::vector<Assessment> assessments;  // filled on reads
};

struct Trace {
  TraceInfo trace_info;
  std::vector<Span> spans;

  // The root span (parent_span_id empty), or nullptr while only child spans have arrived.
  const Span* root_span() const noexcept;
};

// The unit on Kafka and on POST /api/v1/events. `event_id` is the idempotency key.
struct Envelope {
  std::string event_id;
  EventType type = EventType::trace;
  UnixNanos time = 0;
  // trace for EventType::trace; assessment for the other three types.
  std::variant<Trace, Assessment> payload;

  Trace& trace() { return std::get<Trace>(payload); }
  const Trace& trace() const { return std::get<Trace>(payload); }
  Assessment& assessment() { return std::get<Assessment>(payload); }
  const Assessment& assessment() const { return std::get<Assessment>(payload); }
  // Kafka key: every event of one trace goes to one partition.
  const std::string& trace_id() const;
};

}  // namespace tracefeed
