// Cost of the join's per-assessment hook (FeedbackMetrics::on_assessment_applied) and of one
// scrape with many series. Run: build/bin/quality_metrics_bench
#include <benchmark/benchmark.h>

#include "sinks/metrics/feedback_metrics.h"

namespace tracefeed::quality {
namespace {

std::vector<Assessment> sample_feedback() {
  // A realistic mix: thumbs, a judge score, a categorical label, over a few names.
  const char* names[] = {"user_feedback", "correctness", "response_accuracy", "relevance", "safety"};
  const char* values[] = {"true", "false", "0.83", "\"Accurate\"", "\"Inaccurate\"", "0.2", "true", "true"};
  std::vector<Assessment> out;
  for (int i = 0; i < 1024; ++i) {
    Assessment a;
    a.assessment_name = names[i % 5];
    a.create_time = 1'700'000'000'000'000'000 + static_cast<int64_t>(i) * 1'000'000;
    a.value = Feedback{values[(i * 7) % 8], std::nullopt};
    out.push_back(std::move(a));
  }
  return out;
}

void BM_OnAssessmentApplied(benchmark::State& state) {
  ManualClock clock;
  metrics::Metrics m;
  auto fm = FeedbackMetrics::create(m, clock).value();
  auto feedback = sample_feedback();
  size_t i = 0;
  for (auto _ : state) {
    fm->on_assessment_applied(nullptr, &feedback[i++ & 1023]);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OnAssessmentApplied);

void BM_Override(benchmark::State& state) {
  // An override is two calls: the new assessment and the old one becoming invalid.
  ManualClock clock;
  metrics::Metrics m;
  auto fm = FeedbackMetrics::create(m, clock).value();
  auto feedback = sample_feedback();
  size_t i = 0;
  for (auto _ : state) {
    const Assessment& old = feedback[i & 1023];
    Assessment invalid = old;
    invalid.valid = false;
    fm->on_assessment_applied(nullptr, &feedback[(i + 1) & 1023]);
    fm->on_assessment_applied(&old, &invalid);
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Override);

void BM_Scrape(benchmark::State& state) {
  // 100 names × 21 values + ratios: the cardinality guard's worst case.
  ManualClock clock;
  metrics::Metrics m;
  auto fm = FeedbackMetrics::create(m, clock).value();
  for (int n = 0; n < 100; ++n) {
    for (int v = 0; v < 30; ++v) {
      Assessment a;
      a.assessment_name = "name_" + std::to_string(n);
      a.create_time = 1'700'000'000'000'000'000;
      a.value = Feedback{"\"v" + std::to_string(v) + "\"", std::nullopt};
      fm->on_assessment_applied(nullptr, &a);
    }
  }
  size_t bytes = 0;
  for (auto _ : state) {
    std::string text = m.text();
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_Scrape)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tracefeed::quality

BENCHMARK_MAIN();
