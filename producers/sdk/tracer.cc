#include "producers/sdk/tracer.h"

#include <algorithm>
#include <vector>

#include "core/event_json.h"
#include "core/ids.h"
#include "core/json_writer.h"
#include "producers/sdk/feedback_writer.h"

namespace tracefeed {

std::string_view to_string(SpanType t) noexcept {
  switch (t) {
    case SpanType::Llm: return "LLM";
    case SpanType::Chain: return "CHAIN";
    case SpanType::Agent: return "AGENT";
    case SpanType::Tool: return "TOOL";
    case SpanType::ChatModel: return "CHAT_MODEL";
    case SpanType::Retriever: return "RETRIEVER";
    case SpanType::Parser: return "PARSER";
    case SpanType::Embedding: return "EMBEDDING";
    case SpanType::Reranker: return "RERANKER";
    case SpanType::Unknown: break;
  }
  return "UNKNOWN";
}

namespace detail {

// One trace being built: shared by all its spans. `mu` guards everything; spans of one trace may
// end on different threads.
struct TraceBuilder {
  std::mutex mu;
  std::string trace_id;
  UnixNanos root_start = 0;
  std::vector<Span> ended;  // ended spans not emitted yet
  bool root_ended = false;
  TraceState final_state = TraceState::in_progress;
  StringMap metadata;
  StringMap tags;
};

struct SpanState {
  Tracer* tracer = nullptr;
  std::shared_ptr<TraceBuilder> trace;
  Span span;
  bool status_set = false;
  std::atomic<bool> ended{false};
};

}  // namespace detail

namespace {

using detail::SpanState;
using detail::TraceBuilder;

// This thread's open spans, innermost last, across all tracers. Entries ended elsewhere (another
// thread) are skipped and dropped lazily, which the shared ownership makes safe.
thread_local std::vector<std::shared_ptr<SpanState>> t_open_spans;

void put(StringMap& m, std::string_view k, std::string_view v) {
  for (auto& [key, value] : m) {
    if (key == k) {
      value.assign(v);
      return;
    }
  }
  m.emplace_back(std::string(k), std::string(v));
}

}  // namespace

// ---- ActiveSpan ----------------------------------------------------------------------------

ActiveSpan::ActiveSpan(std::shared_ptr<detail::SpanState> state) : _state(std::move(state)) {}
ActiveSpan::~ActiveSpan() { (void)end(); }
ActiveSpan::ActiveSpan(ActiveSpan&&) noexcept = default;
ActiveSpan& ActiveSpan::operator=(ActiveSpan&& other) noexcept {
  if (this != &other) {
    (void)end();
    _state = std::move(other._state);
  }
  return *this;
}

ActiveSpan& ActiveSpan::set_inputs(const JsonValue& v) {
  if (_state) _state->span.inputs = v.text();
  return *this;
}
ActiveSpan& ActiveSpan::set_outputs(const JsonValue& v) {
  if (_state) _state->span.outputs = v.text();
  return *this;
}
ActiveSpan& ActiveSpan::set_attribute(std::string_view key, const JsonValue& v) {
  if (!_state) return *this;
  auto& attrs = _state->span.attributes;
  auto it = std::find_if(attrs.begin(), attrs.end(), [&](const auto& kv) { return kv.first == key; });
  if (it != attrs.end()) {
    it->second = v.text();
  } else {
    attrs.emplace_back(std::string(key), v.text());
  }
  return *this;
}
ActiveSpan& ActiveSpan::set_status(SpanStatus status) {
  if (_state) {
    _state->span.status = status;
    _state->status_set = true;
  }
  return *this;
}
ActiveSpan& ActiveSpan::set_trace_metadata(std::string_view key, std::string_view value) {
  if (_state) {
    std::lock_guard lock(_state->trace->mu);
    put(_state->trace->metadata, key, value);
  }
  return *this;
}
ActiveSpan& ActiveSpan::set_trace_tag(std::string_view key, std::string_view value) {
  if (_state) {
    std::lock_guard lock(_state->trace->mu);
    put(_state->trace->tags, key, value);
  }
  return *this;
}

const std::string& ActiveSpan::span_id() const {
  static const std::string empty;
  return _state ? _state->span.span_id : empty;
}
const std::string& ActiveSpan::trace_id() const {
  static const std::string empty;
  return _state ? _state->trace->trace_id : empty;
}
bool ActiveSpan::is_root() const { return _state && _state->span.is_root(); }

Status ActiveSpan::end() {
  if (!_state) return Status::ok();
  return _state->tracer->end_span(*_state);
}

// ---- Tracer --------------------------------------------------------------------------------

Tracer::Tracer(Transport& transport, const Clock& clock, TracerOptions options)
    : _transport(transport), _clock(clock), _options(std::move(options)), _names(_options.remembered_assessments) {}

Tracer::~Tracer() = default;

UnixNanos Tracer::now_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(_clock.now().time_since_epoch()).count();
}

ActiveSpan Tracer::span(std::string_view name, SpanType type) { return span(name, to_string(type)); }

ActiveSpan Tracer::span(std::string_view name, std::string_view type) {
  // Drop entries ended on other threads from the top, then find this tracer's innermost span.
  while (!t_open_spans.empty() && t_open_spans.back()->ended.load(std::memory_order_acquire)) t_open_spans.pop_back();
  const SpanState* parent = nullptr;
  for (auto it = t_open_spans.rbegin(); it != t_open_spans.rend(); ++it) {
    if ((*it)->tracer == this && !(*it)->ended.load(std::memory_order_acquire)) {
      parent = it->get();
      break;
    }
  }
  return start_span(name, type, parent);
}

ActiveSpan Tracer::span_child_of(const ActiveSpan& parent, std::string_view name, SpanType type) {
  return start_span(name, to_string(type), parent._state.get());
}

ActiveSpan Tracer::start_span(std::string_view name, std::string_view type, const SpanState* parent) {
  auto state = std::make_shared<SpanState>();
  state->tracer = this;
  state->span.span_id = new_span_id();
  state->span.name.assign(name);
  state->span.span_type.assign(type);
  state->span.start_time_unix_nano = now_ns();
  if (parent != nullptr) {
    state->trace = parent->trace;
    state->span.parent_span_id = parent->span.span_id;
  } else {
    state->trace = std::make_shared<TraceBuilder>();
    state->trace->trace_id = new_trace_id();
    state->trace->root_start = state->span.start_time_unix_nano;
  }
  t_open_spans.push_back(state);
  return ActiveSpan(std::move(state));
}

Status Tracer::end_span(SpanState& state) {
  if (state.ended.exchange(true, std::memory_order_acq_rel)) return Status::ok();
  Span& span = state.span;
  span.end_time_unix_nano = std::max(now_ns(), span.start_time_unix_nano);
  if (!state.status_set) span.status = SpanStatus::ok;
  // Pop ended entries off this thread's stack (this span is usually the top).
  while (!t_open_spans.empty() && t_open_spans.back()->ended.load(std::memory_order_acquire)) t_open_spans.pop_back();

  TraceBuilder& tb = *state.trace;
  std::optional<Envelope> envelope;
  {
    std::lock_guard lock(tb.mu);
    const bool root = span.is_root();
    if (root) {
      tb.root_ended = true;
      tb.final_state = span.status == SpanStatus::error ? TraceState::error : TraceState::ok;
    }
    const bool emit_now = root || tb.root_ended || _options.emit_spans_as_they_end;
    tb.ended.push_back(span);  // a copy: the handle still answers span_id() after end()
    if (emit_now) {
      Trace t;
      TraceInfo& info = t.trace_info;
      info.trace_id = tb.trace_id;
      info.request_time = tb.root_start;
      info.state = tb.root_ended ? tb.final_state : TraceState::in_progress;
      if (root) {
        const Span& r = tb.ended.back();
        info.execution_duration_ns = r.end_time_unix_nano - r.start_time_unix_nano;
        if (!r.inputs.empty()) info.request_preview = json_preview(r.inputs, _options.max_preview_bytes);
        if (!r.outputs.empty()) info.response_preview = json_preview(r.outputs, _options.max_preview_bytes);
        info.trace_metadata = _options.trace_metadata;
        for (const auto& [k, v] : tb.metadata) put(info.trace_metadata, k, v);
        info.tags = tb.tags;
      }
      t.spans = std::move(tb.ended);
      tb.ended.clear();
      envelope.emplace();
      envelope->type = EventType::trace;
      envelope->payload = std::move(t);
    }
    if (root) {
      std::lock_guard tracer_lock(_mu);
      _last_trace_id = tb.trace_id;
    }
  }
  if (!envelope) return Status::ok();
  Status s = emit(*envelope, span.end_time_unix_nano);  // the end that made it due: no second clock read
  if (!s.is_ok()) {
    _emit_errors.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(_mu);
    _last_emit_error = s;
  }
  return s;
}

std::string Tracer::last_trace_id() const {
  std::lock_guard lock(_mu);
  return _last_trace_id;
}

Status Tracer::last_emit_error() const {
  std::lock_guard lock(_mu);
  return _last_emit_error;
}

Status Tracer::emit(Envelope& e, UnixNanos time) {
  e.event_id = new_event_id();
  e.time = time;
  TF_RETURN_IF_ERROR(validate_envelope(e));
  // One reused serialization buffer per thread: no allocation per event once warm.
  thread_local std::string buffer;
  buffer.clear();
  JsonWriter w(buffer);
  write_json(w, e);
  OutgoingEvent out;
  out.type = e.type;
  out.event_id = e.event_id;
  out.trace_id = e.trace_id();
  out.json = buffer;
  out.time = e.time;
  return _transport.send(out);
}

Result<std::string> Tracer::emit_assessment(Assessment a, UnixNanos time) {
  using F = Assessment::Field;
  a.assessment_id = new_assessment_id();
  a.create_time = time;
  a.last_update_time = a.create_time;
  if (a.source.source_type == SourceType::unspecified && a.source.source_id.empty()) {
    a.source = {SourceType::code, "default"};  // MLflow's default source
  }
  a.valid = true;
  a.present |= F::f_assessment_id | F::f_name | F::f_trace_id | F::f_source | F::f_create_time |
               F::f_last_update_time | F::f_valid;
  a.present |= a.is_feedback() ? F::f_feedback : F::f_expectation;
  if (!a.span_id.empty()) a.present |= F::f_span_id;
  if (!a.rationale.empty()) a.present |= F::f_rationale;
  if (!a.metadata.empty()) a.present |= F::f_metadata;
  if (!a.overrides.empty()) a.present |= F::f_overrides;

  Envelope e;
  e.type = EventType::assessment;
  e.payload = std::move(a);
  TF_RETURN_IF_ERROR(emit(e, time));
  const Assessment& sent = e.assessment();
  if (sent.is_feedback() && _options.remembered_assessments > 0) remember(sent.assessment_id, sent.assessment_name);
  return sent.assessment_id;
}

Result<std::string> Tracer::emit_feedback(const detail::FeedbackView& f) {
  const UnixNanos time = now_ns();  // the one clock read of the event
  if (auto fast = detail::write_feedback_envelope(f, time)) {
    TF_RETURN_IF_ERROR(_transport.send(fast->event));
    std::string id(fast->assessment_id);  // the one allocation of the event: the id we return
    if (_options.remembered_assessments > 0) remember(id, f.name);
    return id;
  }
  Assessment a;
  a.trace_id.assign(f.trace_id);
  a.assessment_name.assign(f.name);
  a.span_id.assign(f.span_id);
  a.source = f.source;
  a.rationale.assign(f.rationale);
  a.metadata = f.metadata;
  a.overrides.assign(f.overrides);
  Feedback fb;
  if (!f.value.is_null()) fb.value = f.value.text();
  fb.error = f.error;
  a.value = std::move(fb);
  return emit_assessment(std::move(a), time);
}

Result<std::string> Tracer::log_feedback(const FeedbackArgs& args) {
  return emit_feedback({.trace_id = args.trace_id,
                        .name = args.name,
                        .span_id = args.span_id,
                        .source = args.source,
                        .value = args.value,
                        .rationale = args.rationale,
                        .metadata = args.metadata,
                        .error = args.error,
                        .overrides = {}});
}

Result<std::string> Tracer::log_expectation(const ExpectationArgs& args) {
  Assessment a;
  a.trace_id = args.trace_id;
  a.assessment_name = args.name;
  a.span_id = args.span_id;
  a.source = args.source;
  a.metadata = args.metadata;
  a.value = Expectation{args.value.is_null() ? JsonText() : args.value.text()};
  return emit_assessment(std::move(a), now_ns());
}

Result<std::string> Tracer::override_feedback(const OverrideFeedbackArgs& args) {
  std::optional<std::string> remembered;
  if (args.name.empty()) {
    remembered = remembered_name(args.assessment_id);
    if (!remembered) {
      return Status::invalid_argument("override_feedback: name: required, assessment " + args.assessment_id +
                                      " was not logged by this Tracer (or is no longer remembered)");
    }
  }
  static const std::optional<AssessmentError> kNoError;
  return emit_feedback({.trace_id = args.trace_id,
                        .name = remembered ? *remembered : args.name,
                        .span_id = {},
                        .source = args.source,
                        .value = args.value,
                        .rationale = args.rationale,
                        .metadata = args.metadata,
                        .error = kNoError,
                        .overrides = args.assessment_id});
}

Result<std::string> Tracer::override_feedback(std::string trace_id, std::string assessment_id, JsonValue value,
                                              std::string rationale, AssessmentSource source, StringMap metadata) {
  OverrideFeedbackArgs args;
  args.trace_id = std::move(trace_id);
  args.assessment_id = std::move(assessment_id);
  args.value = std::move(value);
  args.rationale = std::move(rationale);
  args.source = std::move(source);
  args.metadata = std::move(metadata);
  return override_feedback(args);
}

void Tracer::remember(std::string_view assessment_id, std::string_view name) {
  std::lock_guard lock(_mu);
  _names.remember(assessment_id, name);
}

std::optional<std::string> Tracer::remembered_name(std::string_view assessment_id) const {
  std::lock_guard lock(_mu);
  return _names.name_of(assessment_id);
}

Status Tracer::flush(std::chrono::milliseconds timeout) { return _transport.flush(timeout); }
Status Tracer::close(std::chrono::milliseconds timeout) { return _transport.close(timeout); }

}  // namespace tracefeed
