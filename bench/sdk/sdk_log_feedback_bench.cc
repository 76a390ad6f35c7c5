// The SDK's own cost per event, without Kafka: Tracer::log_feedback into a transport that only
// counts, so the figure is what the SDK adds on top of the librdkafka enqueue (sdk_kafka_bench
// measures the whole path). Google Benchmark; one thread.
//
//   taskset -c 1 build/bin/sdk_log_feedback_bench --benchmark_repetitions=5
//   --benchmark_report_aggregates_only=true
//
// Cases: the bench's feedback event (the fast path), the same with the override_feedback name
// cache on (the default), and log_expectation (the general path: Assessment, validate_envelope,
// core's writer), for comparison.
#include <benchmark/benchmark.h>

#include <atomic>
#include <string>
#include <vector>

#include "core/ids.h"
#include "producers/sdk/tracer.h"

namespace tracefeed {
namespace {

// Takes every event and keeps only a checksum of its size, so nothing is optimized away.
class CountingTransport final : public Transport {
 public:
  Status send(const OutgoingEvent& e) override {
    ++_sent;
    _bytes += e.json.size();
    return Status::ok();
  }
  Status flush(std::chrono::milliseconds) override { return Status::ok(); }
  Status close(std::chrono::milliseconds) override { return Status::ok(); }
  TransportStats stats() const override {
    TransportStats s;
    s.enqueued = s.acknowledged = _sent;
    return s;
  }
  uint64_t bytes() const { return _bytes; }

 private:
  uint64_t _sent = 0, _bytes = 0;
};

std::vector<std::string> trace_ids() {
  std::vector<std::string> ids(1024);
  for (auto& t : ids) t = new_trace_id();
  return ids;
}

FeedbackArgs bench_args() {
  FeedbackArgs args;
  args.name = "user_feedback";
  args.rationale = "Missing details about MLflow's key features";
  args.source = {SourceType::human, "enduser_123"};
  return args;
}

void run_feedback(benchmark::State& state, size_t remembered) {
  CountingTransport transport;
  TracerOptions options;
  options.remembered_assessments = remembered;
  Tracer tracer(transport, SystemClock::instance(), options);
  const auto ids = trace_ids();
  FeedbackArgs args = bench_args();
  size_t i = 0;
  for (auto _ : state) {
    args.trace_id = ids[i % ids.size()];
    args.value = (i % 5) != 0;
    auto id = tracer.log_feedback(args);
    benchmark::DoNotOptimize(id);
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(transport.bytes()));
}

void BM_LogFeedback(benchmark::State& state) {
  run_feedback(state, 0);
}
void BM_LogFeedbackRememberingNames(benchmark::State& state) {
  run_feedback(state, 10000);
}

void BM_LogExpectationGeneralPath(benchmark::State& state) {
  CountingTransport transport;
  Tracer tracer(transport);
  const auto ids = trace_ids();
  ExpectationArgs args;
  args.name = "expected_response";
  args.source = {SourceType::human, "enduser_123"};
  size_t i = 0;
  for (auto _ : state) {
    args.trace_id = ids[i % ids.size()];
    args.value = (i % 5) != 0;
    auto id = tracer.log_expectation(args);
    benchmark::DoNotOptimize(id);
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(transport.bytes()));
}

BENCHMARK(BM_LogFeedback);
BENCHMARK(BM_LogFeedbackRememberingNames);
BENCHMARK(BM_LogExpectationGeneralPath);

}  // namespace
}  // namespace tracefeed

BENCHMARK_MAIN();
