// Parse + validate + serialize of the event model (issue #2 target: >= 1,000,000 feedback
// events/s parsed and validated on one core). Run: build/bin/event_json_bench
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "core/event_json.h"
#include "core/ids.h"

namespace tracefeed {
namespace {

// ~250 B: the quickstart's thumbs-down.
std::string feedback_event(IdGenerator& ids) {
  return R"({"event_id":")" + ids.event_id() + R"(","type":"assessment","time":"2025-06-01T12:00:02.125Z","assessment":{"assessment_name":"user_feedback","trace_id":")" +
         ids.trace_id() +
         R"(","source":{"source_type":"HUMAN","source_id":"enduser_123"},"feedback":{"value":false},"rationale":"Missing details about key features"}})";
}

// ~1.3 KB: a trace with three spans (chain → retriever, llm), every field set.
std::string trace_event(IdGenerator& ids) {
  const std::string root = ids.span_id(), r = ids.span_id(), l = ids.span_id();
  return R"({"event_id":")" + ids.event_id() + R"(","type":"trace","trace":{"trace_info":{"trace_id":")" +
         ids.trace_id() +
         R"(","client_request_id":"req-1","request_time":"2025-06-01T12:00:00.250Z","execution_duration":"1.250s","state":"OK","request_preview":"What is MLflow?","response_preview":"MLflow is an open-source platform for managing the ML lifecycle.","trace_metadata":{"mlflow.trace.user":"enduser_123","mlflow.trace.session":"session-42"},"tags":{"env":"prod","app":"chatbot"}},"spans":[)"
         R"({"span_id":")" + root + R"(","parent_span_id":"","name":"my_chatbot","start_time_unix_nano":1748779200250000000,"end_time_unix_nano":1748779201500000000,"status":"OK","span_type":"CHAIN","inputs":{"user_question":"What is MLflow?"},"outputs":"MLflow is an open-source platform for managing the ML lifecycle."},)"
         R"({"span_id":")" + r + R"(","parent_span_id":")" + root + R"(","name":"retrieve_context","start_time_unix_nano":1748779200260000000,"end_time_unix_nano":1748779200300000000,"status":"OK","span_type":"RETRIEVER","inputs":{"query":"What is MLflow?"},"outputs":"MLflow is an open-source platform for managing the end-to-end machine learning lifecycle."},)"
         R"({"span_id":")" + l + R"(","parent_span_id":")" + root + R"(","name":"chat.completions","start_time_unix_nano":1748779200300000000,"end_time_unix_nano":1748779201490000000,"status":"OK","span_type":"CHAT_MODEL","inputs":{"model":"gpt-4o","temperature":0.7,"max_tokens":150},"outputs":{"choices":[{"message":{"role":"assistant","content":"MLflow is an open-source platform."}}]},"attributes":{"mlflow.spanType":"CHAT_MODEL","llm.token_count":57}}]}})";
}

std::vector<std::string> make_events(std::string (*make)(IdGenerator&), size_t n) {
  IdGenerator ids(1);
  std::vector<std::string> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(make(ids));
  return out;
}

void parse_bench(benchmark::State& state, std::string (*make)(IdGenerator&)) {
  const auto events = make_events(make, 1024);
  EventParser parser;
  Envelope e;
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const std::string& json = events[i++ & 1023];
    if (!parser.parse_envelope(json, e).is_ok()) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(e);
    bytes += json.size();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

void serialize_bench(benchmark::State& state, std::string (*make)(IdGenerator&)) {
  const auto events = make_events(make, 1024);
  EventParser parser;
  std::vector<Envelope> parsed(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    if (!parser.parse_envelope(events[i], parsed[i]).is_ok()) state.SkipWithError("parse failed");
  }
  std::string out;
  size_t i = 0;
  for (auto _ : state) {
    out.clear();
    JsonWriter w(out);
    write_json(w, parsed[i++ & 1023]);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void BM_ParseValidateFeedback(benchmark::State& s) { parse_bench(s, feedback_event); }
void BM_ParseValidateTrace(benchmark::State& s) { parse_bench(s, trace_event); }
void BM_SerializeFeedback(benchmark::State& s) { serialize_bench(s, feedback_event); }
void BM_SerializeTrace(benchmark::State& s) { serialize_bench(s, trace_event); }

BENCHMARK(BM_ParseValidateFeedback);
BENCHMARK(BM_ParseValidateTrace);
BENCHMARK(BM_SerializeFeedback);
BENCHMARK(BM_SerializeTrace);

}  // namespace
}  // namespace tracefeed

BENCHMARK_MAIN();
