#pragma once
// tracefeed's C++ SDK: trace an app with RAII spans and log feedback, with MLflow 3's names.
//
//   KafkaTransport transport = ...;          // or HttpTransport (to the gateway)
//   Tracer tracer(transport);
//   {
//     auto root = tracer.span("my_chatbot", SpanType::Chain);
//     root.set_inputs(JsonValue::object({{"user_question", q}}));
//     {
//       auto r = tracer.span("retrieve_context", SpanType::Retriever);  // child of `root`
//       r.set_outputs(context);
//     }
//     root.set_outputs(answer);
//   }                                        // root ends → the trace is emitted
//   auto id = tracer.log_feedback({.trace_id = tracer.last_trace_id(), .name = "user_feedback",
//                                  .value = false, .source = {SourceType::human, "enduser_123"}});
//
// Parent/child: a new span's parent is the innermost open span *of this tracer on this thread*
// (a thread-local stack); a span with no parent starts a new trace. Spans that cross threads
// should be created with span_child_of().
//
// Emission: a trace is emitted (one "trace" envelope to topic `traces`) when its root span ends,
// with every span of the trace that has ended by then. With TracerOptions::emit_spans_as_they_end,
// each child span is emitted on its own as it ends (a partial trace, state IN_PROGRESS) and the
// root's envelope carries only what was not sent yet; spans ending after the root are sent as
// parts too. Parts merge downstream (PRODUCT.md §3).
//
// Errors: log_* return the error (validation, buffer full). A span ending in a destructor cannot,
// so its error is counted in emit_errors() / last_emit_error(); call end() to get it directly.
//
// Thread model: Tracer is thread-safe; an ActiveSpan is used by one thread at a time. The Tracer
// does not own the Transport and must outlive its spans; the Transport must outlive the Tracer.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/model.h"
#include "core/result.h"
#include "producers/sdk/json_value.h"
#include "producers/sdk/remembered_names.h"
#include "producers/sdk/transport.h"

namespace tracefeed {

// MLflow's span types; any other string works through span(name, std::string_view type).
enum class SpanType { Unknown, Llm, Chain, Agent, Tool, ChatModel, Retriever, Parser, Embedding, Reranker };
std::string_view to_string(SpanType t) noexcept;  // "UNKNOWN", "LLM", "CHAIN", ..., "CHAT_MODEL"

class Tracer;
namespace detail {
struct SpanState;
struct FeedbackView;
}

// An open span. Ends (and records its end time) when end() is called or it is destroyed. Move-only.
class ActiveSpan {
 public:
  ActiveSpan() = default;  // an empty handle: every setter is a no-op
  ~ActiveSpan();
  ActiveSpan(ActiveSpan&&) noexcept;
  ActiveSpan& operator=(ActiveSpan&&) noexcept;
  ActiveSpan(const ActiveSpan&) = delete;
  ActiveSpan& operator=(const ActiveSpan&) = delete;

  ActiveSpan& set_inputs(const JsonValue& v);
  ActiveSpan& set_outputs(const JsonValue& v);
  ActiveSpan& set_attribute(std::string_view key, const JsonValue& v);
  // Default when never set: OK. A root span with ERROR makes the trace's state ERROR.
  ActiveSpan& set_status(SpanStatus status);
  // String maps of the whole trace (e.g. "mlflow.trace.user", "mlflow.trace.session"); sent
  // with the root's envelope.
  ActiveSpan& set_trace_metadata(std::string_view key, std::string_view value);
  ActiveSpan& set_trace_tag(std::string_view key, std::string_view value);

  const std::string& span_id() const;   // "" for an empty handle
  const std::string& trace_id() const;  // "" for an empty handle
  bool is_root() const;

  // Ends the span now; for a root span, emits the trace and returns the transport's verdict on
  // taking it. Later calls are no-ops returning ok.
  Status end();

 private:
  friend class Tracer;
  explicit ActiveSpan(std::shared_ptr<detail::SpanState> state);
  // Shared with this thread's open-span stack, so a span ended on another thread never leaves a
  // dangling entry behind (the stack drops ended entries lazily).
  std::shared_ptr<detail::SpanState> _state;
};

// Arguments of log_feedback, named (and ordered) as mlflow.log_feedback's.
struct FeedbackArgs {
  std::string trace_id;                 // required
  std::string name = "feedback";        // MLflow's default; no '.'
  JsonValue value;                      // bool / number / string / list / map; null = absent (then `error` is required)
  std::string rationale;
  AssessmentSource source;              // unspecified → {CODE, "default"} as MLflow does
  std::string span_id;                  // optional: feedback on one span
  StringMap metadata;
  std::optional<AssessmentError> error;  // feedback that failed to compute (e.g. a judge error)
};

// Arguments of log_expectation, named as mlflow.log_expectation's.
struct ExpectationArgs {
  std::string trace_id;
  std::string name = "expectation";
  JsonValue value;  // required
  AssessmentSource source;
  std::string span_id;
  StringMap metadata;
};

// Arguments of override_feedback(trace_id, assessment_id, value, rationale, source, metadata).
struct OverrideFeedbackArgs {
  std::string trace_id;
  std::string assessment_id;  // the feedback being replaced ("a-" + hex)
  JsonValue value;
  std::string rationale;
  AssessmentSource source;
  StringMap metadata;
  // Name of the new assessment; empty → the name of `assessment_id` if this Tracer logged it
  // (remembered for the last TracerOptions::remembered_assessments), else invalid_argument.
  std::string name;
};

struct TracerOptions {
  // Emit each child span as it ends instead of with its root. Default: false.
  bool emit_spans_as_they_end = false;
  // Added to every trace's trace_metadata (e.g. {"mlflow.trace.user", "u1"}). Default: empty.
  StringMap trace_metadata;
  // Bytes of request_preview / response_preview taken from the root's inputs/outputs. Default: 1000.
  size_t max_preview_bytes = 1000;
  // How many of its own assessment ids → names the Tracer remembers for override_feedback.
  // Bounded; the oldest is forgotten first. Default: 10000.
  size_t remembered_assessments = 10000;
};

class Tracer {
 public:
  // `transport` and `clock` are borrowed and must outlive the Tracer.
  explicit Tracer(Transport& transport, const Clock& clock = SystemClock::instance(), TracerOptions options = {});
  ~Tracer();
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  // Starts a span: child of this thread's innermost open span of this tracer, else a new trace.
  [[nodiscard]] ActiveSpan span(std::string_view name, SpanType type = SpanType::Unknown);
  [[nodiscard]] ActiveSpan span(std::string_view name, std::string_view type);
  // Starts a child of `parent` explicitly (e.g. on another thread). `parent` must be open.
  [[nodiscard]] ActiveSpan span_child_of(const ActiveSpan& parent, std::string_view name,
                                         SpanType type = SpanType::Unknown);

  // Id of the trace whose root span ended last (on any thread); "" before the first. Under
  // concurrency prefer ActiveSpan::trace_id().
  [[nodiscard]] std::string last_trace_id() const;
  // MLflow's name for last_trace_id().
  [[nodiscard]] std::string get_last_active_trace_id() const { return last_trace_id(); }

  // Each returns the new assessment's id ("a-" + 32 hex, made here) once the transport took the
  // event (not yet acknowledged: flush() waits for that).
  [[nodiscard]] Result<std::string> log_feedback(const FeedbackArgs& args);
  [[nodiscard]] Result<std::string> log_expectation(const ExpectationArgs& args);
  // A new feedback assessment with `overrides` = args.assessment_id; the old one becomes invalid
  // downstream (valid=false), as MLflow's override_feedback does.
  [[nodiscard]] Result<std::string> override_feedback(const OverrideFeedbackArgs& args);
  [[nodiscard]] Result<std::string> override_feedback(std::string trace_id, std::string assessment_id,
                                                      JsonValue value, std::string rationale = {},
                                                      AssessmentSource source = {}, StringMap metadata = {});

  // The transport's flush / close.
  [[nodiscard]] Status flush(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  Status close(std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // Traces whose emission failed inside a span destructor (see the header comment).
  [[nodiscard]] uint64_t emit_errors() const noexcept { return _emit_errors.load(std::memory_order_relaxed); }
  [[nodiscard]] Status last_emit_error() const;

  // Internal (used by ActiveSpan): ends a span, emitting what is due.
  Status end_span(detail::SpanState& state);

 private:
  ActiveSpan start_span(std::string_view name, std::string_view type, const detail::SpanState* parent);
  // log_feedback and override_feedback: the direct writer when the arguments are plainly valid,
  // else the general path (which words the validation error).
  Result<std::string> emit_feedback(const detail::FeedbackView& f);
  Result<std::string> emit_assessment(Assessment a, UnixNanos time);
  // Serializes and sends `e`, stamped with `time` (the clock is read once per event, by the caller).
  Status emit(Envelope& e, UnixNanos time);
  void remember(std::string_view assessment_id, std::string_view name);
  std::optional<std::string> remembered_name(std::string_view assessment_id) const;
  UnixNanos now_ns() const;

  Transport& _transport;
  const Clock& _clock;
  const TracerOptions _options;

  mutable std::mutex _mu;  // guards the members below
  std::string _last_trace_id;
  Status _last_emit_error;
  detail::RememberedNames _names;  // assessment id → name, bounded

  std::atomic<uint64_t> _emit_errors{0};
};

}  // namespace tracefeed
