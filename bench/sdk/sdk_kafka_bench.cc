// SDK → Kafka throughput: Tracer::log_feedback through KafkaTransport, as fast as the transport
// takes events (BufferFullPolicy::block), then flush. Target (issue 3): ≥ 500,000 feedback
// events/s on 2 cores.
//
//   sdk_kafka_bench [--events N] [--threads T] [--linger-ms L] [--batch N] [--compression C]
//                   [--partitions P] [--buffer N]
//
// Against the embedded (mock) broker by default; against a real broker when
// TRACEFEED_BENCH_KAFKA=host:port is set (scripts/kafka/start.sh DIR; DIR/bootstrap).
// Prints events/s (acknowledged; first send → last ack), the enqueue rate, p50/p99
// enqueue→ack latency and peak RSS.
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "core/ids.h"
#include "kafka/admin.h"
#include "kafka/embedded_broker.h"
#include "producers/emit/latency_histogram.h"
#include "producers/sdk/kafka_transport.h"
#include "producers/sdk/tracer.h"

using namespace std::chrono_literals;
using namespace tracefeed;

int main(int argc, char** argv) {
  uint64_t events = 2'000'000;
  int threads = 1, linger_ms = 20, batch = 10000, partitions = 6, buffer = 1'000'000;
  std::string compression = "lz4";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--events") events = std::strtoull(v, nullptr, 10);
    else if (k == "--threads") threads = std::atoi(v);
    else if (k == "--linger-ms") linger_ms = std::atoi(v);
    else if (k == "--batch") batch = std::atoi(v);
    else if (k == "--compression") compression = v;
    else if (k == "--partitions") partitions = std::atoi(v);
    else if (k == "--buffer") buffer = std::atoi(v);
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }

  std::unique_ptr<kafka::EmbeddedBroker> embedded;
  std::string brokers;
  const std::string prefix = "bench-sdk-" + new_event_id().substr(0, 8) + ".";
  if (const char* env = std::getenv("TRACEFEED_BENCH_KAFKA"); env != nullptr && *env != '\0') {
    brokers = env;
    auto admin = kafka::Admin::create(kafka::ClientOptions{brokers, "sdk-bench", {}});
    if (!admin.is_ok()) {
      std::fprintf(stderr, "admin: %s\n", admin.status().to_string().c_str());
      return 1;
    }
    Status s = (*admin)->create_topics({{prefix + "assessments", partitions, 1, {}}, {prefix + "traces", partitions, 1, {}}}, 30s);
    if (!s.is_ok()) {
      std::fprintf(stderr, "create topics: %s\n", s.to_string().c_str());
      return 1;
    }
  } else {
    auto b = kafka::EmbeddedBroker::start();
    if (!b.is_ok()) {
      std::fprintf(stderr, "embedded broker: %s\n", b.status().to_string().c_str());
      return 1;
    }
    embedded = std::move(*b);
    brokers = embedded->bootstrap_servers();
    if (!embedded->create_topic(prefix + "assessments", partitions).is_ok() ||
        !embedded->create_topic(prefix + "traces", partitions).is_ok()) {
      std::fprintf(stderr, "create topics failed\n");
      return 1;
    }
  }

  emit::LatencyHistogram latency;
  std::atomic<bool> measuring{false};  // warm-up acks are not sampled
  std::atomic<uint64_t> failed{0};
  KafkaTransportOptions o;
  o.brokers = brokers;
  o.topic_prefix = prefix;
  o.client_id = "sdk-bench";
  o.max_buffered_events = buffer;
  o.max_buffered_kbytes = 1 << 20;  // 1 GiB: the event bound binds first
  o.linger_ms = linger_ms;
  o.batch_num_messages = batch;
  o.batch_size_bytes = 4 << 20;
  o.compression = compression;
  o.on_ack = [&](const Status& s, int64_t ns) {
    if (measuring.load(std::memory_order_relaxed)) latency.record(ns);
    if (!s.is_ok()) failed.fetch_add(1, std::memory_order_relaxed);
  };
  auto transport = KafkaTransport::create(o);
  if (!transport.is_ok()) {
    std::fprintf(stderr, "transport: %s\n", transport.status().to_string().c_str());
    return 1;
  }
  TracerOptions to;
  to.remembered_assessments = 0;  // no override_feedback here: skip the id→name cache
  Tracer tracer(**transport, SystemClock::instance(), to);

  // Warm-up: connect, fetch metadata, acquire the idempotent producer id.
  {
    const std::string tid = new_trace_id();
    for (int i = 0; i < 1000; ++i) (void)tracer.log_feedback({.trace_id = tid, .name = "warmup", .value = true});
    if (!tracer.flush(60s).is_ok()) {
      std::fprintf(stderr, "warm-up flush failed\n");
      return 1;
    }
  }
  const uint64_t warm_acks = (*transport)->stats().acknowledged;
  measuring.store(true);

  std::vector<std::string> trace_ids(10000);
  for (auto& t : trace_ids) t = new_trace_id();
  const uint64_t per_thread = events / static_cast<uint64_t>(threads);
  std::atomic<uint64_t> send_errors{0};
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> senders;
  for (int th = 0; th < threads; ++th) {
    senders.emplace_back([&, th] {
      FeedbackArgs args;
      args.name = "user_feedback";
      args.rationale = "Missing details about MLflow's key features";
      args.source = {SourceType::human, "enduser_123"};
      for (uint64_t i = 0; i < per_thread; ++i) {
        args.trace_id = trace_ids[(i * static_cast<uint64_t>(threads) + static_cast<uint64_t>(th)) % trace_ids.size()];
        args.value = (i % 5) != 0;
        if (!tracer.log_feedback(args).is_ok()) send_errors.fetch_add(1);
      }
    });
  }
  for (auto& t : senders) t.join();
  const auto t_enqueued = std::chrono::steady_clock::now();
  Status flushed = tracer.flush(300s);
  const auto t_acked = std::chrono::steady_clock::now();

  const auto st = (*transport)->stats();
  const uint64_t acked = st.acknowledged - warm_acks;
  const double enq_s = std::chrono::duration<double>(t_enqueued - t0).count();
  const double all_s = std::chrono::duration<double>(t_acked - t0).count();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("sdk_kafka_bench: broker=%s events=%llu threads=%d linger_ms=%d batch=%d compression=%s partitions=%d\n",
              embedded ? "embedded(mock)" : brokers.c_str(), static_cast<unsigned long long>(per_thread * threads),
              threads, linger_ms, batch, compression.c_str(), partitions);
  std::printf("  acknowledged %llu (failed %llu, send errors %llu) in %.3f s: %.0f events/s acknowledged\n",
              static_cast<unsigned long long>(acked), static_cast<unsigned long long>(failed.load()),
              static_cast<unsigned long long>(send_errors.load()), all_s, static_cast<double>(acked) / all_s);
  std::printf("  enqueue: %.3f s, %.0f events/s\n", enq_s, static_cast<double>(per_thread * threads) / enq_s);
  std::printf("  enqueue→ack latency: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", latency.percentile_ns(50) / 1e6,
              latency.percentile_ns(99) / 1e6, latency.max_ns() / 1e6);
  std::printf("  peak RSS: %.1f MiB\n", static_cast<double>(ru.ru_maxrss) / 1024.0);
  if (!flushed.is_ok()) std::printf("  flush: %s\n", flushed.to_string().c_str());
  (void)(*transport)->close(30s);
  return flushed.is_ok() && failed.load() == 0 && send_errors.load() == 0 ? 0 : 1;
}
