#include "producers/emit/traffic.h"

#include <algorithm>
#include <array>

#include "core/event_json.h"
#include "core/json_writer.h"

namespace tracefeed::emit {
namespace {

constexpr std::array<const char*, 6> kQuestions = {
    "What is MLflow?",
    "How do I log a model with MLflow?",
    "What is the Model Registry?",
    "How do I compare two runs?",
    "Can MLflow track LLM prompts?",
    "How do I deploy a model to a REST endpoint?",
};
constexpr std::array<const char*, 4> kRationales = {
    "Missing details about MLflow's key features like Projects and Model Registry",
    "The answer is out of date",
    "Did not answer the question",
    "Too vague",
};

std::string quoted(std::string_view s) {
  std::string out;
  JsonWriter::append_escaped(out, s);
  return out;
}

}  // namespace

TrafficGenerator::TrafficGenerator(TrafficOptions options, const Clock& clock)
    : _options(options), _clock(clock), _ids(options.seed), _rng(options.seed ^ 0x9E3779B97F4A7C15ULL) {}

bool TrafficGenerator::chance(double p) {
  if (p <= 0) return false;
  if (p >= 1) return true;
  return std::uniform_real_distribution<double>(0, 1)(_rng) < p;
}

UnixNanos TrafficGenerator::now_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(_clock.now().time_since_epoch()).count();
}

void TrafficGenerator::serialize(const Envelope& e, GeneratedEvent& out) {
  out.type = e.type;
  out.event_id = e.event_id;
  out.trace_id = e.trace_id();
  out.json.clear();
  JsonWriter w(out.json);
  write_json(w, e);
}

void TrafficGenerator::next_interaction(std::vector<GeneratedEvent>& out) {
  const UnixNanos end = now_ns();
  const int lo = std::clamp(_options.min_spans, 1, 5);
  const int hi = std::clamp(_options.max_spans, lo, 5);
  const int n_spans = std::uniform_int_distribution<int>(lo, hi)(_rng);
  const std::string question = kQuestions[_rng() % kQuestions.size()];
  const int user = static_cast<int>(_rng() % static_cast<uint64_t>(std::max(1, _options.users)));
  const std::string user_id = "enduser_" + std::to_string(user);

  // The trace: spans laid out back to back inside the root, ending now.
  Envelope trace_env;
  trace_env.event_id = _ids.event_id();
  trace_env.type = EventType::trace;
  trace_env.time = end;
  Trace t;
  const int64_t total_ns = 200'000'000 + static_cast<int64_t>(_rng() % 1'800'000'000);  // 0.2-2 s
  const UnixNanos start = end - total_ns;
  t.trace_info.trace_id = _ids.trace_id();
  t.trace_info.request_time = start;
  t.trace_info.execution_duration_ns = total_ns;
  t.trace_info.state = TraceState::ok;
  t.trace_info.request_preview = question;
  t.trace_info.response_preview = "MLflow is an open-source platform for the machine learning lifecycle.";
  t.trace_info.trace_metadata = {{"mlflow.trace.user", user_id},
                                 {"mlflow.trace.session", "session_" + std::to_string(_rng() % 100000)}};
  Span root;
  root.span_id = _ids.span_id();
  root.name = "my_chatbot";
  root.span_type = "CHAIN";
  root.status = SpanStatus::ok;
  root.start_time_unix_nano = start;
  root.end_time_unix_nano = end;
  root.inputs = "{\"user_question\":" + quoted(question) + "}";
  root.outputs = quoted(t.trace_info.response_preview);
  t.spans.push_back(root);
  static constexpr std::array<std::pair<const char*, const char*>, 4> kChildren = {{
      {"retrieve_context", "RETRIEVER"}, {"chat_completion", "CHAT_MODEL"}, {"search_docs", "TOOL"}, {"parse_answer", "PARSER"}}};
  const int64_t slice = total_ns / std::max(1, n_spans);
  for (int i = 1; i < n_spans; ++i) {
    Span s;
    s.span_id = _ids.span_id();
    s.parent_span_id = root.span_id;
    s.name = kChildren[i - 1].first;
    s.span_type = kChildren[i - 1].second;
    s.status = SpanStatus::ok;
    s.start_time_unix_nano = start + slice * (i - 1);
    s.end_time_unix_nano = start + slice * i;
    if (i == 1) {
      s.inputs = "{\"query\":" + quoted(question) + "}";
      s.outputs = "[{\"page_content\":\"MLflow is an open-source platform...\",\"metadata\":{\"doc_uri\":\"docs/index.md\"}}]";
    } else if (i == 2) {
      s.inputs = "{\"model\":\"databricks-claude-3-7-sonnet\",\"temperature\":0.7,\"max_tokens\":150}";
      s.outputs = root.outputs;
      s.attributes = {{"llm.token_count.total", std::to_string(100 + _rng() % 400)}};
    }
    t.spans.push_back(std::move(s));
  }
  const std::string trace_id = t.trace_info.trace_id;
  trace_env.payload = std::move(t);
  ++_counts.traces;
  _counts.spans += static_cast<uint64_t>(n_spans);

  const size_t first = out.size();
  auto emit = [&](const Envelope& e) {
    out.emplace_back();
    serialize(e, out.back());
  };

  std::optional<Envelope> feedback_env;
  if (chance(_options.feedback_ratio)) {
    const bool thumbs_down = chance(_options.thumbs_down_ratio);
    Assessment a;
    a.assessment_id = _ids.assessment_id();
    a.assessment_name = "user_feedback";
    a.trace_id = trace_id;
    a.source = {SourceType::human, user_id};
    a.create_time = a.last_update_time = end;
    a.value = Feedback{thumbs_down ? "false" : "true", std::nullopt};
    if (thumbs_down) a.rationale = kRationales[_rng() % kRationales.size()];
    feedback_env.emplace();
    feedback_env->event_id = _ids.event_id();
    feedback_env->type = EventType::assessment;
    feedback_env->time = end;
    feedback_env->payload = std::move(a);
    ++_counts.feedback;
    if (thumbs_down) ++_counts.thumbs_down;
  }
  if (feedback_env && chance(_options.feedback_first_ratio)) {
    ++_counts.feedback_first;
    emit(*feedback_env);
    emit(trace_env);
  } else {
    emit(trace_env);
    if (feedback_env) emit(*feedback_env);
  }
  // Duplicates: an exact resend of one of this interaction's events (a client retry).
  const size_t last = out.size();
  for (size_t i = first; i < last; ++i) {
    if (chance(_options.duplicate_ratio)) {
      out.push_back(out[i]);
      ++_counts.duplicates;
    }
  }
}

}  // namespace tracefeed::emit
