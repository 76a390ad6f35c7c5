// SDK → Kafka throughput: Tracer::log_feedback through KafkaTransport, as fast as the transport
// takes events (BufferFullPolicy::block), then flush. Target (issue 3): ≥ 500,000 feedback
// events/s on 2 cores.
//
//   sdk_kafka_bench [--events N] [--threads T] [--linger-ms L] [--batch N] [--compression C]
//                   [--partitions P] [--buffer N] [--broker-pid PID] [--peer 0|1]
//
// Against the embedded (mock) broker by default; against a real broker when
// TRACEFEED_BENCH_KAFKA=host:port is set (scripts/kafka/start.sh DIR; DIR/bootstrap).
// Prints events/s (acknowledged; first send → last ack), the enqueue rate, p50/p99
// enqueue→ack latency and peak RSS, and where the CPU went: this process per thread (the
// senders, librdkafka's broker thread, the producer's poll thread) and, with --broker-pid
// (DIR/kafka.pid), the Kafka broker's JVM — in CPU-µs per event, so that the figure shows how
// many events/s two cores can carry at all.
//
// Peer (--peer 1, the default): the same number of the same envelope bytes, same keys and
// settings, produced through kafka::Producer directly (no SDK: no Tracer, no serialization, no
// transport), after the SDK run in the same process: the floor the SDK sits on, as a ratio.
#include <pthread.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <condition_variable>
#include <map>
#include <mutex>
#include <sstream>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "core/ids.h"
#include "kafka/admin.h"
#include "kafka/embedded_broker.h"
#include "kafka/producer.h"
#include "producers/emit/latency_histogram.h"
#include "producers/sdk/kafka_transport.h"
#include "producers/sdk/tracer.h"

using namespace std::chrono_literals;
using namespace tracefeed;

namespace {

// utime + stime of a /proc/.../stat file, in seconds; -1 when unreadable.
double proc_cpu_seconds(const std::string& stat_path) {
  std::ifstream in(stat_path);
  std::string line;
  if (!std::getline(in, line)) return -1;
  const auto close = line.rfind(')');  // the command name may contain spaces
  if (close == std::string::npos) return -1;
  std::istringstream fields(line.substr(close + 2));
  std::string f;
  long long utime = 0, stime = 0;
  for (int i = 3; fields >> f; ++i) {  // field 3 is the state
    if (i == 14) utime = std::stoll(f);
    if (i == 15) {
      stime = std::stoll(f);
      break;
    }
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// CPU seconds of this process's threads, summed by thread name (the senders share one).
std::map<std::string, double> thread_cpu_seconds() {
  std::map<std::string, double> by_name;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    const double cpu = proc_cpu_seconds(task.path() / "stat");
    if (cpu >= 0) by_name[name] += cpu;
  }
  return by_name;
}

// The peer's delivery accounting: counts acks and wakes the producing loop when room frees up.
class PeerListener final : public kafka::DeliveryListener {
 public:
  void on_delivered(std::span<const kafka::CookieDelivery> batch) override {
    uint64_t bad = 0;
    for (const auto& d : batch) bad += d.status.is_ok() ? 0 : 1;
    failed.fetch_add(bad);
    done.fetch_add(batch.size());
    std::lock_guard lock(mu);
    room.notify_all();
  }
  std::atomic<uint64_t> done{0}, failed{0};
  std::mutex mu;
  std::condition_variable room;
};

}  // namespace

int main(int argc, char** argv) {
  uint64_t events = 2'000'000;
  // Defaults: the settings that carried the most events/s per CPU on loopback (docs/benchmarks.md):
  // no compression (lz4 costs librdkafka ~1 µs per 500 B event, more than it saves the broker),
  // linger 20 ms, and the transport's default bound of 100k buffered events (a larger buffer only
  // adds memory and latency once the broker is the bottleneck).
  int threads = 1, linger_ms = 20, batch = 10000, partitions = 6, buffer = 100'000;
  long broker_pid = 0;
  bool peer = true;
  std::string compression = "none";
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
    else if (k == "--broker-pid") broker_pid = std::atol(v);
    else if (k == "--peer") peer = std::atoi(v) != 0;
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
  const std::string broker_stat = "/proc/" + std::to_string(broker_pid) + "/stat";
  const double broker_cpu0 = broker_pid > 0 ? proc_cpu_seconds(broker_stat) : -1;
  const auto threads_cpu0 = thread_cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> senders;
  std::mutex sender_cpu_mu;
  double sender_cpu = 0;  // the senders exit before the end snapshot: each adds its own
  for (int th = 0; th < threads; ++th) {
    senders.emplace_back([&, th] {
      pthread_setname_np(pthread_self(), "sender");
      struct CountCpu {
        std::mutex& mu;
        double& total;
        ~CountCpu() {
          timespec ts{};
          clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
          std::lock_guard lock(mu);
          total += static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
        }
      } count_cpu{sender_cpu_mu, sender_cpu};
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
  const double broker_cpu1 = broker_pid > 0 ? proc_cpu_seconds(broker_stat) : -1;
  const auto threads_cpu1 = thread_cpu_seconds();

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
  // CPU per event over the measured interval: with the broker's, the sum says how many events/s
  // the machine's cores could carry if nothing else ran and every thread overlapped perfectly.
  const double n = static_cast<double>(per_thread * threads);
  double client_cpu = sender_cpu;
  std::vector<std::pair<double, std::string>> rows = {{sender_cpu, threads > 1 ? "senders" : "sender"}};
  for (const auto& [name, cpu1] : threads_cpu1) {
    const auto it = threads_cpu0.find(name);
    const double cpu = cpu1 - (it != threads_cpu0.end() ? it->second : 0.0);
    client_cpu += cpu;
    if (cpu > 0.005) rows.emplace_back(cpu, name);
  }
  std::sort(rows.rbegin(), rows.rend());
  std::printf("  CPU per event: this process %.2f µs (%.0f %% of one core over the run)", client_cpu / n * 1e6,
              client_cpu / all_s * 100);
  for (const auto& [cpu, name] : rows) std::printf("; %s %.2f µs", name.c_str(), cpu / n * 1e6);
  if (broker_pid <= 0) {
    std::printf(" → at most %.0f events/s on %ld cores", n / client_cpu * static_cast<double>(sysconf(_SC_NPROCESSORS_ONLN)),
                sysconf(_SC_NPROCESSORS_ONLN));
  }
  std::printf("\n");
  if (broker_cpu0 >= 0 && broker_cpu1 >= 0) {
    const double broker_cpu = broker_cpu1 - broker_cpu0;
    const double total = client_cpu + broker_cpu;
    std::printf("  CPU per event: Kafka broker (pid %ld) %.2f µs (%.0f %% of one core); client + broker %.2f µs "
                "→ at most %.0f events/s on %ld cores\n",
                broker_pid, broker_cpu / n * 1e6, broker_cpu / all_s * 100, total / n * 1e6,
                n / total * static_cast<double>(sysconf(_SC_NPROCESSORS_ONLN)), sysconf(_SC_NPROCESSORS_ONLN));
  }
  if (!flushed.is_ok()) std::printf("  flush: %s\n", flushed.to_string().c_str());
  (void)(*transport)->close(30s);
  bool peer_ok = true;
  if (peer) {
    // One envelope exactly as the SDK writes it, captured through a Transport that keeps it.
    struct Capture final : Transport {
      std::string json;
      Status send(const OutgoingEvent& e) override {
        json.assign(e.json);
        return Status::ok();
      }
      Status flush(std::chrono::milliseconds) override { return Status::ok(); }
      Status close(std::chrono::milliseconds) override { return Status::ok(); }
      TransportStats stats() const override { return {}; }
    } capture;
    {
      Tracer t(capture, SystemClock::instance(), to);
      (void)t.log_feedback({.trace_id = trace_ids[0],
                            .name = "user_feedback",
                            .value = true,
                            .rationale = "Missing details about MLflow's key features",
                            .source = {SourceType::human, "enduser_123"}});
    }
    PeerListener listener;
    kafka::ProducerOptions po;
    po.client = {brokers, "sdk-bench-peer", {{"batch.num.messages", std::to_string(batch)},
                                            {"batch.size", std::to_string(4 << 20)},
                                            {"compression.codec", compression}}};
    po.max_queued_messages = buffer;
    po.max_queued_kbytes = 1 << 20;
    po.linger_ms = linger_ms;
    po.listener = &listener;
    auto producer = kafka::Producer::create(po);
    auto topic = producer.is_ok() ? (*producer)->topic(prefix + "assessments") : Result<kafka::TopicHandle>(producer.status());
    if (!topic.is_ok()) {
      std::fprintf(stderr, "peer: %s\n", topic.status().to_string().c_str());
      return 1;
    }
    for (int i = 0; i < 1000; ++i) (void)(*producer)->produce(*topic, trace_ids[0], capture.json, 0);  // warm-up
    (void)(*producer)->flush(60s);
    const uint64_t peer_warm = listener.done.load();
    const auto peer_threads0 = thread_cpu_seconds();
    const auto p0 = std::chrono::steady_clock::now();
    const uint64_t total = per_thread * static_cast<uint64_t>(threads);
    for (uint64_t i = 0; i < total; ++i) {
      const std::string& key = trace_ids[i % trace_ids.size()];
      while (true) {
        const uint64_t done_before = listener.done.load();
        Status st = (*producer)->produce(*topic, key, capture.json, 0);
        if (st.is_ok()) break;
        if (st.code() != ErrorCode::unavailable) {
          std::fprintf(stderr, "peer produce: %s\n", st.to_string().c_str());
          return 1;
        }
        std::unique_lock lock(listener.mu);  // full: wait for acks, as the transport does
        listener.room.wait_for(lock, 100ms, [&] { return listener.done.load() != done_before; });
      }
    }
    const Status peer_flushed = (*producer)->flush(300s);
    const double peer_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - p0).count();
    const auto peer_threads1 = thread_cpu_seconds();
    double peer_cpu = 0;  // every thread of the process, the producing main thread included
    for (const auto& [name, cpu1] : peer_threads1) {
      const auto it = peer_threads0.find(name);
      peer_cpu += cpu1 - (it != peer_threads0.end() ? it->second : 0.0);
    }
    const uint64_t peer_acked = listener.done.load() - peer_warm;
    const double peer_rate = static_cast<double>(peer_acked) / peer_s;
    std::printf("  peer (kafka::Producer alone: the same %zu B envelope, keys and settings, no SDK): %.0f events/s "
                "acknowledged (failed %llu), CPU %.2f µs per event; SDK / peer: %.2f× the time, %.2f× the CPU\n",
                capture.json.size(), peer_rate, static_cast<unsigned long long>(listener.failed.load()),
                peer_cpu / n * 1e6, peer_rate / (static_cast<double>(acked) / all_s), client_cpu / peer_cpu);
    peer_ok = peer_flushed.is_ok() && listener.failed.load() == 0 && peer_acked == total;
    (void)(*producer)->close(30s);
  }
  return flushed.is_ok() && failed.load() == 0 && send_errors.load() == 0 && peer_ok ? 0 : 1;
}
