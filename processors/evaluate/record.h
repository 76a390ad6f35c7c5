#pragma once
// EvalRecord: what a scorer sees of one evaluated example — MLflow's
// `{inputs, outputs, expectations, trace}` — and how it is built from a joined trace.
//
// From a trace (record_from_trace): inputs and outputs are the root span's; expectations are
// the trace's *valid* expectation assessments by name (when several share a name, the most
// recently updated wins; overridden ones never count); retrievals are the outputs of its
// RETRIEVER spans; latency is the trace's execution duration.
//
// Pure functions, thread-safe.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/model.h"
#include "core/result.h"

namespace tracefeed::evaluate {

// The outputs of one RETRIEVER span: the context retrieval_groundedness judges against.
struct Retrieval {
  std::string span_id;
  JsonText outputs;
};

struct EvalRecord {
  // Identifies the record within its run: the trace id, or the dataset record's id.
  std::string record_id;
  // The trace the scores are written to as assessments; empty = none (a dataset record with no
  // source trace): the scores are kept in the run's results only.
  std::string trace_id;
  JsonText inputs;   // empty = absent
  JsonText outputs;  // empty = absent
  // Expectation name → value (canonical JSON), one per name.
  std::vector<std::pair<std::string, JsonText>> expectations;
  std::vector<Retrieval> retrievals;
  std::optional<double> latency_ms;
  // True when `outputs` (and latency_ms) come from re-running the app through predict_url
  // rather than from the trace.
  bool outputs_predicted = false;
  // The joined trace (spans and assessments), for scorers that want all of it (the HTTP
  // scorer sends it). Null for dataset records.
  std::shared_ptr<const Trace> trace;
  // Set when the record cannot be scored at all (trace not found, no root span, the app's
  // predict call failed): scorers are not run and the result carries this error.
  std::string error_code;
  std::string error_message;

  [[nodiscard]] const JsonText* expectation(std::string_view name) const noexcept;
  [[nodiscard]] bool has_error() const noexcept { return !error_code.empty(); }
};

// Builds the record of a joined trace (trace_info.assessments filled, spans included). A trace
// without a root span (only child spans or only assessments have arrived) gives a record whose
// error is NO_ROOT_SPAN.
[[nodiscard]] EvalRecord record_from_trace(std::shared_ptr<const Trace> trace);

// The record of one evaluation-dataset line (GET /api/v1/datasets/{name}/records, MLflow's
// dataset record): {dataset_record_id, inputs, outputs, expectations: {name: value},
// source: {source_data: {trace_id}}}. record_id = dataset_record_id (or the trace id); trace_id =
// the source trace (scores are written there), empty when there is none. Errors name the field.
[[nodiscard]] Result<EvalRecord> record_from_dataset_line(std::string_view json_line);

// The text a judge or a token scorer reads from a JSON value:
//   a string → itself; a number or bool → its JSON;
//   an object with one string member ({"user_question": "What is MLflow?"}) → that string;
//   an OpenAI chat completion → choices[0].message.content;
//   {"messages": [...]} → the content of the last message;
//   a list of strings → the strings, one per line;
//   a list of documents ({page_content} or {content} or {text}) → their texts, one per line;
//   anything else → its JSON. Empty → "".
[[nodiscard]] std::string text_of(const JsonText& json);

// text_of() without a copy when it can: a JSON string without escapes is viewed in place,
// anything else is converted into `storage` (which the view then points into).
[[nodiscard]] std::string_view text_view(const JsonText& json, std::string& storage);

// A JSON value as a list of strings: a string → [it]; a list → its elements as text_of();
// anything else → [text_of(value)]. Used for expected_facts and guidelines.
[[nodiscard]] std::vector<std::string> strings_of(const JsonText& json);

// At most `max_bytes` of `text`, cut on a UTF-8 boundary, with "…[truncated]" appended when cut.
[[nodiscard]] std::string clip_utf8(std::string_view text, size_t max_bytes);

}  // namespace tracefeed::evaluate
