#pragma once
// The search and rule grammar (PRODUCT.md §5): one parser for rule filters and for
// `POST /api/3.0/mlflow/traces/search`. It follows MLflow's `search_traces` filter syntax
// (mlflow/utils/search_utils.py, SearchTraceUtils) so what MLflow users type works here;
// README.md beside this file is the reference (fields, operators, literals, errors).
//
//   Result<Filter> f = parse_filter("feedback.user_feedback = false AND span.type = 'RETRIEVER'");
//   if (f && f->matches(trace)) ...
//
// A Filter is immutable after parsing and safe to share between threads; matches() does not
// allocate once a thread has decoded its longest escaped JSON string (a reused thread-local
// buffer; most values have no escapes and are compared in place).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"
#include "core/result.h"

namespace tracefeed::filter {

// What a condition reads. The trace_* fields and span_* fields need the trace itself;
// feedback/expectation read trace_info.assessments only.
enum class Field : uint8_t {
  trace_status,             // trace.status: "OK" | "ERROR" | "IN_PROGRESS" | "STATE_UNSPECIFIED"
  trace_timestamp_ms,       // trace.timestamp_ms: request_time in ms
  trace_execution_time_ms,  // trace.execution_time_ms: execution_duration in ms
  trace_end_time_ms,        // trace.end_time_ms: timestamp_ms + execution_time_ms
  trace_name,               // trace.name: tag mlflow.traceName, else the root span's name
  trace_request_id,         // trace.request_id / trace.trace_id
  trace_client_request_id,  // trace.client_request_id
  tag,                      // tag.<key>
  metadata,                 // metadata.<key> (trace_metadata)
  span_name,                // span.name (any span)
  span_type,                // span.type (any span)
  span_status,              // span.status (any span)
  span_attribute,           // span.attributes.<key> (any span)
  span_content,             // span.content: raw inputs/outputs JSON (any span)
  feedback,                 // feedback.<name>: latest valid feedback with that name
  expectation,              // expectation.<name>: latest valid expectation with that name
};

enum class Op : uint8_t { eq, ne, lt, le, gt, ge, like, ilike, in, not_in, is_null, is_not_null };

// "=", "!=", "<", ..., "LIKE", "ILIKE", "IN", "NOT IN", "IS NULL", "IS NOT NULL".
[[nodiscard]] std::string_view to_string(Op op) noexcept;

struct Literal {
  enum class Kind : uint8_t { string, number, boolean };
  Kind kind = Kind::string;
  std::string text;      // the decoded string (Kind::string), or the literal as typed
  double number = 0;     // Kind::number
  bool boolean = false;  // Kind::boolean
};

// A compiled LIKE pattern: `%` = any run of characters, `_` = one character (UTF-8 code
// point), `\` escapes the next pattern character. ILIKE folds ASCII letters.
class LikePattern {
 public:
  LikePattern() = default;
  LikePattern(std::string_view pattern, bool case_insensitive);
  [[nodiscard]] bool matches(std::string_view text) const noexcept;

 private:
  struct Piece {
    enum class Kind : uint8_t { literal, one, many } kind;
    char c;
  };
  std::vector<Piece> _pieces;
  bool _fold = false;
};

struct Condition {
  Field field = Field::trace_status;
  Op op = Op::eq;
  std::string key;              // tag / metadata / span attribute key, assessment name
  std::vector<Literal> values;  // one for comparisons, n for IN lists, none for IS [NOT] NULL
  LikePattern pattern;          // LIKE / ILIKE
  size_t offset = 0;            // byte offset of the condition in the filter text
  std::string text;             // the condition as typed, e.g. "feedback.user_feedback = false"
};

// Where a parse error is, for config (file:line:col) and the UI (underline).
struct ErrorPosition {
  size_t offset = 0;  // byte offset into the text
  int line = 1;       // 1-based
  int column = 1;     // 1-based, in UTF-8 code points from the start of the line
};

class Filter {
 public:
  Filter() = default;  // the empty filter: matches everything

  // True when every condition holds. Thread-safe; no allocation in steady state.
  [[nodiscard]] bool matches(const Trace& trace) const;

  // Index of the first condition that does not hold (for decision reasons), or -1.
  [[nodiscard]] int first_unmatched(const Trace& trace) const;

  // Evaluates only the feedback/expectation conditions, over assessments alone: a rule can
  // record `filtered_out` before the trace arrives, or `waiting_for_trace` when these pass
  // and needs_trace().
  [[nodiscard]] bool matches_assessments(std::span<const Assessment> assessments) const;

  // True when some condition reads the trace itself (trace.*, tag.*, metadata.*, span.*).
  [[nodiscard]] bool needs_trace() const noexcept { return _needs_trace; }
  // True when some condition reads feedback or expectations.
  [[nodiscard]] bool references_assessments() const noexcept { return _references_assessments; }
  // Distinct names in order of first use.
  [[nodiscard]] std::vector<std::string> referenced_feedback_names() const;
  [[nodiscard]] std::vector<std::string> referenced_expectation_names() const;

  [[nodiscard]] bool empty() const noexcept { return _conditions.empty(); }
  [[nodiscard]] const std::vector<Condition>& conditions() const noexcept { return _conditions; }
  [[nodiscard]] const std::string& text() const noexcept { return _text; }

 private:
  friend Result<Filter> parse_filter(std::string_view text, ErrorPosition* error_position);
  std::string _text;
  std::vector<Condition> _conditions;
  bool _needs_trace = false;
  bool _references_assessments = false;
};

// Parses a filter. Errors are invalid_argument with a message like
//   filter: column 27: expected an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS)
//   after "feedback.user_feedback", got "=="
// ("filter: line 2, column 5: ..." when the text has several lines). When error_position is
// given it receives the position of the error as numbers.
[[nodiscard]] Result<Filter> parse_filter(std::string_view text,
                                          ErrorPosition* error_position = nullptr);

// Evaluates one condition (exposed for tests and for search planning).
[[nodiscard]] bool matches(const Condition& condition, const Trace& trace);

}  // namespace tracefeed::filter
