// gateway_bench: how many feedback events per second the gateway acknowledges.
//
// In one process: Kafka (real when TRACEFEED_BENCH_KAFKA=host:port is set — scripts/kafka/start.sh
// DIR writes it to DIR/bootstrap — else the embedded mock cluster), a real Producer, the
// KafkaEventSink (dedup window on), the Gateway on an http::Server, and N client threads, each
// with its own keep-alive httplib::Client, posting JSON arrays of `--batch` feedback events with
// unique event ids as fast as the gateway answers. Only 202 {"accepted": batch} counts.
//
// Prints events/s acknowledged, requests/s, p50/p99/max request latency and peak RSS
// (getrusage), for the measured period after a warm-up.
//
// Flags: --seconds S (10) --warmup S (2) --connections N (4) --batch B (100) --http-threads T (2)
//        --linger-ms L (5) --partitions P (8)

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include "kafka/admin.h"
#include "kafka/embedded_broker.h"
#include "kafka/producer.h"
#include "producers/gateway/gateway.h"
#include "producers/publish/kafka_event_sink.h"

namespace {

struct Flags {
  int seconds = 10, warmup = 2, connections = 4, batch = 100, http_threads = 2, linger_ms = 5, partitions = 8;
};

Flags parse(int argc, char** argv) {
  Flags f;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const int v = std::atoi(argv[i + 1]);
    if (k == "--seconds") f.seconds = v;
    else if (k == "--warmup") f.warmup = v;
    else if (k == "--connections") f.connections = v;
    else if (k == "--batch") f.batch = v;
    else if (k == "--http-threads") f.http_threads = v;
    else if (k == "--linger-ms") f.linger_ms = v;
    else if (k == "--partitions") f.partitions = v;
    else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      std::exit(2);
    }
  }
  return f;
}

// One realistic ~300-byte feedback event (quickstart step 2), unique event id per event.
void append_event(std::string& out, int conn, uint64_t seq, int i) {
  char buf[640];
  const uint64_t trace = (seq * 131 + static_cast<uint64_t>(i) * 7 + static_cast<uint64_t>(conn)) % 1000003;
  const int n = std::snprintf(
      buf, sizeof buf,
      R"({"event_id":"b-%d-%llu-%d","type":"assessment","assessment":{"assessment_name":"user_feedback",)"
      R"("trace_id":"tr-%032llx","source":{"source_type":"HUMAN","source_id":"enduser_%d"},)"
      R"("feedback":{"value":%s},"rationale":"Missing details about MLflow's key features like Projects and Model Registry"}})",
      conn, static_cast<unsigned long long>(seq), i, static_cast<unsigned long long>(trace), i, (i % 3 == 0) ? "false" : "true");
  out.append(buf, static_cast<size_t>(n));
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tracefeed;
  const Flags f = parse(argc, argv);
  std::unique_ptr<kafka::EmbeddedBroker> broker;
  std::string bootstrap;
  const Topics topics = Topics::with_prefix("bench-gw-" + std::to_string(getpid()) + "-" +
                                            std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 100000) + ".");
  if (const char* real = std::getenv("TRACEFEED_BENCH_KAFKA"); real && *real) {
    bootstrap = real;
    auto admin = kafka::Admin::create(kafka::ClientOptions{.brokers = bootstrap});
    if (!admin.is_ok()) return std::fprintf(stderr, "%s\n", admin.status().to_string().c_str()), 1;
    std::vector<kafka::TopicSpec> specs;
    for (const auto& t : topics.all()) specs.push_back({t, f.partitions, 1, {}});
    if (Status s = (*admin)->create_topics(specs, std::chrono::seconds(30)); !s.is_ok()) {
      return std::fprintf(stderr, "%s\n", s.to_string().c_str()), 1;
    }
  } else {
    auto b = kafka::EmbeddedBroker::start();
    if (!b.is_ok()) return std::fprintf(stderr, "%s\n", b.status().to_string().c_str()), 1;
    broker = std::move(*b);
    bootstrap = broker->bootstrap_servers();
    for (const auto& t : topics.all()) {
      if (Status s = broker->create_topic(t, f.partitions); !s.is_ok()) return std::fprintf(stderr, "%s\n", s.to_string().c_str()), 1;
    }
  }

  kafka::ProducerOptions po;
  po.client.brokers = bootstrap;
  po.client.client_id = "gateway-bench";
  po.linger_ms = f.linger_ms;
  po.max_queued_messages = 1'000'000;
  auto producer = kafka::Producer::create(po);
  if (!producer.is_ok()) return std::fprintf(stderr, "%s\n", producer.status().to_string().c_str()), 1;
  publish::KafkaEventSink sink(**producer, topics, SystemClock::instance());
  gateway::Gateway gw(gateway::GatewayOptions{}, sink, SystemClock::instance(), &sink);
  http::Server server(http::ServerOptions{.listen = "127.0.0.1:0", .threads = f.http_threads});
  gw.register_routes(server);
  if (Status s = server.start(); !s.is_ok()) return std::fprintf(stderr, "%s\n", s.to_string().c_str()), 1;

  std::atomic<bool> measuring{false}, stop{false};
  std::atomic<uint64_t> events{0}, requests{0}, failures{0};
  std::vector<std::vector<int64_t>> latencies(static_cast<size_t>(f.connections));
  std::vector<std::thread> clients;
  const std::string expected = "{\"accepted\":" + std::to_string(f.batch) + "}";
  for (int c = 0; c < f.connections; ++c) {
    clients.emplace_back([&, c] {
      httplib::Client cli("127.0.0.1", server.port());
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);
      cli.set_read_timeout(std::chrono::seconds(60));
      std::string body;
      auto& lat = latencies[static_cast<size_t>(c)];
      lat.reserve(1 << 20);
      for (uint64_t seq = 0; !stop.load(std::memory_order_relaxed); ++seq) {
        body.clear();
        body.push_back('[');
        for (int i = 0; i < f.batch; ++i) {
          if (i) body.push_back(',');
          append_event(body, c, seq, i);
        }
        body.push_back(']');
        const auto t0 = std::chrono::steady_clock::now();
        auto res = cli.Post("/api/v1/events", body, "application/json");
        const auto t1 = std::chrono::steady_clock::now();
        const bool ok = res && res->status == 202 && res->body == expected;
        if (!measuring.load(std::memory_order_relaxed)) continue;
        if (!ok) {
          failures.fetch_add(1, std::memory_order_relaxed);
          if (res && failures.load() < 3) std::fprintf(stderr, "status %d: %s\n", res->status, res->body.substr(0, 300).c_str());
          continue;
        }
        events.fetch_add(static_cast<uint64_t>(f.batch), std::memory_order_relaxed);
        requests.fetch_add(1, std::memory_order_relaxed);
        lat.push_back(std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(f.warmup));  // a benchmark's warm-up, not test synchronisation
  measuring = true;
  const auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(f.seconds));
  measuring = false;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  stop = true;
  for (auto& t : clients) t.join();
  server.stop();

  std::vector<int64_t> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<size_t>(p * all.size()))] / 1000.0; };
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("gateway_bench broker=%s partitions=%d connections=%d http_threads=%d batch=%d linger_ms=%d seconds=%.1f\n",
              broker ? "embedded" : bootstrap.c_str(), f.partitions, f.connections, f.http_threads, f.batch, f.linger_ms, elapsed);
  std::printf("events_per_s=%.0f requests_per_s=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f failures=%llu peak_rss_mib=%.1f "
              "produced=%llu deduplicated=%llu\n",
              events.load() / elapsed, requests.load() / elapsed, pct(0.50), pct(0.99), all.empty() ? 0.0 : all.back() / 1000.0,
              static_cast<unsigned long long>(failures.load()), ru.ru_maxrss / 1024.0,
              static_cast<unsigned long long>(sink.stats().produced.load()),
              static_cast<unsigned long long>(sink.stats().deduplicated.load()));
  (void)(*producer)->close(std::chrono::seconds(10));
  return 0;
}
