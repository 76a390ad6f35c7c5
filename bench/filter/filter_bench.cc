// The rule hot path: one matches() per (trace change, rule), so it must cost well under a
// microsecond on a typical trace (3 spans, 3 assessments).
#include <benchmark/benchmark.h>

#include <cstdio>

#include "processors/filter/filter.h"
#include "processors/filter/sampling.h"

namespace tf = tracefeed;
namespace tff = tracefeed::filter;

namespace {

tf::Trace typical_trace() {
  tf::Trace t;
  auto& i = t.trace_info;
  i.trace_id = "tr-0123456789abcdef0123456789abcdef";
  i.request_time = 1'700'000'000'000'000'000;
  i.execution_duration_ns = 1'250'000'000;
  i.state = tf::TraceState::ok;
  i.trace_metadata = {{"mlflow.trace.user", "alice"}, {"mlflow.trace.session", "s-1"}};
  i.tags = {{"env", "prod"}};
  const char* names[] = {"answer_question", "retrieve_docs", "ChatOpenAI"};
  const char* types[] = {"CHAIN", "RETRIEVER", "CHAT_MODEL"};
  for (int k = 0; k < 3; ++k) {
    tf::Span s;
    s.span_id = "b00000000000000" + std::to_string(k);
    s.parent_span_id = k == 0 ? "" : "b000000000000000";
    s.name = names[k];
    s.span_type = types[k];
    t.spans.push_back(s);
  }
  auto add = [&](const char* name, const char* value, int64_t time) {
    tf::Assessment a;
    a.assessment_name = name;
    a.value = tf::Feedback{value, std::nullopt};
    a.create_time = a.last_update_time = time;
    i.assessments.push_back(a);
  };
  add("helpfulness", "4", 1);
  add("response_accuracy", "\"Partially Accurate\"", 2);
  add("user_feedback", "false", 3);
  return t;
}

void BM_MatchesSpecRule(benchmark::State& state) {
  auto f = tff::parse_filter("feedback.user_feedback = false AND span.type = 'RETRIEVER'");
  tf::Trace t = typical_trace();
  for (auto _ : state) benchmark::DoNotOptimize(f->matches(t));
}
BENCHMARK(BM_MatchesSpecRule);

void BM_MatchesFiveConditions(benchmark::State& state) {
  auto f = tff::parse_filter(
      "trace.status = 'OK' AND metadata.`mlflow.trace.user` = 'alice' AND span.name LIKE '%Chat%' "
      "AND feedback.response_accuracy IN ('Inaccurate', 'Partially Accurate') AND "
      "feedback.helpfulness < 5");
  tf::Trace t = typical_trace();
  for (auto _ : state) benchmark::DoNotOptimize(f->matches(t));
}
BENCHMARK(BM_MatchesFiveConditions);

void BM_MatchesFailsFast(benchmark::State& state) {
  auto f = tff::parse_filter("feedback.user_feedback = true AND span.type = 'RETRIEVER'");
  tf::Trace t = typical_trace();
  for (auto _ : state) benchmark::DoNotOptimize(f->matches(t));
}
BENCHMARK(BM_MatchesFailsFast);

void BM_ParseSpecRule(benchmark::State& state) {
  for (auto _ : state) {
    auto f = tff::parse_filter("feedback.user_feedback = false AND span.type = 'RETRIEVER'");
    benchmark::DoNotOptimize(f);
  }
}
BENCHMARK(BM_ParseSpecRule);

void BM_SampledIn(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        tff::sampled_in("tr-0123456789abcdef0123456789abcdef", "thumbs_down_to_review", 0.3));
  }
}
BENCHMARK(BM_SampledIn);

}  // namespace

BENCHMARK_MAIN();
