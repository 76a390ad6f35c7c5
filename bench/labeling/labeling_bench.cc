// labeling_bench: the labeling sink's two figures (issue #5).
//
// --mode claims (default): how many claims + submits per second one session sustains. One
//   session of --items items (100,000) in RocksDB on disk (a fresh temp dir), --reviewers
//   threads (20) each looping claim → submit (one categorical label) until the queue is empty.
//   The labels go to --sink null (acknowledged at once: the service's own cost) or kafka (a real
//   Producer + KafkaEventSink: each submit waits for Kafka's acknowledgement; real Kafka with
//   TRACEFEED_BENCH_KAFKA=host:port, else the embedded broker). --http 1 goes through the HTTP
//   API (http::Server, keep-alive clients) instead of calling the service. --sync 1 fsyncs the
//   WAL before every answer. Prints ops/s (claims + submits), items/s, p50/p99 of claim and of
//   submit, peak RSS.
//
// --mode routed: routed-to-claimable latency. A producer writes review records at --rate per
//   second for --seconds to the review topic (--partitions), each stamped with the time it was
//   produced; the ReviewConsumer applies them; the service's on_routed hook measures the time
//   from that stamp to the item being claimable. Prints p50/p99/max and items/s.
//
// Flags: --mode claims|routed --items N --reviewers R --reviews-per-item K --sink null|kafka
//        --http 0|1 --http-threads T (4) --sync 0|1 --rate N --seconds S --partitions P

#include <httplib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/time_format.h"
#include "core/topics.h"
#include "http/server.h"
#include "kafka/admin.h"
#include "kafka/embedded_broker.h"
#include "kafka/producer.h"
#include "producers/publish/kafka_event_sink.h"
#include "sinks/labeling/labeling_api.h"
#include "sinks/labeling/labeling_service.h"
#include "sinks/labeling/review_consumer.h"
#include "state/store.h"

namespace {

using namespace tracefeed;
using Clock = std::chrono::steady_clock;

struct Flags {
  std::string mode = "claims", sink = "null";
  int items = 100'000, reviewers = 20, reviews_per_item = 1, http = 0, http_threads = 4, sync = 0;
  int rate = 10'000, seconds = 10, partitions = 8;
};

Flags parse(int argc, char** argv) {
  Flags f;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--mode")
      f.mode = v;
    else if (k == "--sink")
      f.sink = v;
    else if (k == "--items")
      f.items = std::atoi(v.c_str());
    else if (k == "--reviewers")
      f.reviewers = std::atoi(v.c_str());
    else if (k == "--reviews-per-item")
      f.reviews_per_item = std::atoi(v.c_str());
    else if (k == "--http")
      f.http = std::atoi(v.c_str());
    else if (k == "--http-threads")
      f.http_threads = std::atoi(v.c_str());
    else if (k == "--sync")
      f.sync = std::atoi(v.c_str());
    else if (k == "--rate")
      f.rate = std::atoi(v.c_str());
    else if (k == "--seconds")
      f.seconds = std::atoi(v.c_str());
    else if (k == "--partitions")
      f.partitions = std::atoi(v.c_str());
    else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      std::exit(2);
    }
  }
  return f;
}

[[noreturn]] void die(const Status& s) {
  std::fprintf(stderr, "labeling_bench: %s\n", s.to_string().c_str());
  std::exit(1);
}

std::string trace_id(uint64_t i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "tr-%032llx", static_cast<unsigned long long>(i));
  return buf;
}

class NullSink final : public EventSink {
 public:
  std::vector<Status> publish(std::span<const Envelope> events) override {
    return std::vector<Status>(events.size());
  }
};

double pct(std::vector<int64_t>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return static_cast<double>(
             v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))]) /
         1000.0;
}

double peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

// Kafka for the kafka sink and the routed mode: real when TRACEFEED_BENCH_KAFKA is set.
struct Kafka {
  std::unique_ptr<kafka::EmbeddedBroker> broker;
  std::string bootstrap;
  std::string cluster_id;

  void start(const Topics& topics, int partitions) {
    if (const char* real = std::getenv("TRACEFEED_BENCH_KAFKA"); real && *real) {
      bootstrap = real;
      auto admin = kafka::Admin::create(kafka::ClientOptions{.brokers = bootstrap});
      if (!admin.is_ok()) die(admin.status());
      std::vector<kafka::TopicSpec> specs;
      for (const auto& t : topics.all()) specs.push_back({t, partitions, 1, {}});
      if (Status s = (*admin)->create_topics(specs, std::chrono::seconds(30)); !s.is_ok()) die(s);
    } else {
      auto b = kafka::EmbeddedBroker::start();
      if (!b.is_ok()) die(b.status());
      broker = std::move(*b);
      bootstrap = broker->bootstrap_servers();
      for (const auto& t : topics.all()) {
        if (Status s = broker->create_topic(t, partitions); !s.is_ok()) die(s);
      }
    }
    auto admin = kafka::Admin::create(kafka::ClientOptions{.brokers = bootstrap});
    if (!admin.is_ok()) die(admin.status());
    auto id = (*admin)->cluster_id(std::chrono::seconds(30));
    if (!id.is_ok()) die(id.status());
    cluster_id = *id;
  }
  std::string name() const { return broker ? "embedded" : bootstrap; }
};

std::unique_ptr<state::Store> open_store(const std::filesystem::path& dir) {
  std::filesystem::remove_all(dir);
  state::StoreOptions o;
  o.path = dir.string();
  o.memory_budget_bytes = 256u << 20;
  auto s = state::Store::open(o, SystemClock::instance());
  if (!s.is_ok()) die(s.status());
  return std::move(s).value();
}

config::LabelSchema accuracy_schema() {
  config::LabelSchema s;
  s.name = "response_accuracy";
  s.title = "Is the response factually accurate?";
  s.input = config::CategoricalInput{{"Accurate", "Partially Accurate", "Inaccurate"}};
  return s;
}

int run_claims(const Flags& f, const std::filesystem::path& dir) {
  const Topics topics = Topics::with_prefix("bench-label-" + std::to_string(getpid()) + ".");
  Kafka kafka;
  std::unique_ptr<kafka::Producer> producer;
  std::unique_ptr<publish::KafkaEventSink> kafka_sink;
  NullSink null_sink;
  EventSink* sink = &null_sink;
  if (f.sink == "kafka") {
    kafka.start(topics, f.partitions);
    kafka::ProducerOptions po;
    po.client.brokers = kafka.bootstrap;
    po.client.client_id = "labeling-bench";
    po.linger_ms = 1;
    auto p = kafka::Producer::create(po);
    if (!p.is_ok()) die(p.status());
    producer = std::move(*p);
    kafka_sink =
        std::make_unique<publish::KafkaEventSink>(*producer, topics, SystemClock::instance());
    sink = kafka_sink.get();
  }

  auto store = open_store(dir);
  labeling::LabelingOptions lo;
  lo.sync_writes = f.sync != 0;
  lo.max_items_per_request = static_cast<size_t>(f.items);
  labeling::LabelingService service(*store, *sink, SystemClock::instance(), lo);
  config::LabelingSession session;
  session.name = "bench";
  session.label_schemas = {"response_accuracy"};
  session.reviews_per_item = f.reviews_per_item;
  if (Status s = service.load({accuracy_schema()}, {session}); !s.is_ok()) die(s);
  std::vector<std::string> ids;
  ids.reserve(static_cast<size_t>(f.items));
  for (int i = 0; i < f.items; ++i) ids.push_back(trace_id(static_cast<uint64_t>(i) + 1));
  const auto load0 = Clock::now();
  if (auto added = service.add_items("bench", ids); !added.is_ok()) die(added.status());
  const double load_s = std::chrono::duration<double>(Clock::now() - load0).count();

  std::unique_ptr<http::Server> server;
  if (f.http) {
    server = std::make_unique<http::Server>(
        http::ServerOptions{.listen = "127.0.0.1:0", .threads = f.http_threads});
    labeling::register_labeling_routes(*server, service);
    if (Status s = server->start(); !s.is_ok()) die(s);
  }

  const JsonTree labels = std::move(parse_json(R"({"response_accuracy":"Accurate"})")).value();
  std::atomic<uint64_t> claims{0}, submits{0}, errors{0};
  std::vector<std::vector<int64_t>> claim_us(static_cast<size_t>(f.reviewers)),
      submit_us(static_cast<size_t>(f.reviewers));
  std::vector<std::thread> threads;
  const auto t0 = Clock::now();
  for (int r = 0; r < f.reviewers; ++r) {
    threads.emplace_back([&, r] {
      const std::string me = "reviewer-" + std::to_string(r);
      auto& cl = claim_us[static_cast<size_t>(r)];
      auto& sl = submit_us[static_cast<size_t>(r)];
      std::unique_ptr<httplib::Client> cli;
      if (server) {
        cli = std::make_unique<httplib::Client>("127.0.0.1", server->port());
        cli->set_keep_alive(true);
        cli->set_tcp_nodelay(true);
      }
      const std::string claim_body = R"({"reviewer":")" + me + "\"}";
      for (;;) {
        if (errors.load() > 1000) return;  // something is badly wrong: stop rather than spin
        std::string trace, token;
        auto a = Clock::now();
        if (cli) {
          auto res =
              cli->Post("/api/v1/labeling-sessions/bench/claim", claim_body, "application/json");
          if (!res) {
            if (++errors <= 3)
              std::fprintf(stderr, "claim: %s\n", httplib::to_string(res.error()).c_str());
            continue;
          }
          if (res->status == 204) return;
          auto v = parse_json(res->body);
          if (res->status != 200 || !v.is_ok()) {
            if (++errors <= 3)
              std::fprintf(stderr, "claim: %d %s\n", res->status, res->body.substr(0, 200).c_str());
            continue;
          }
          trace = v->find("trace_id")->as_string();
          token = v->find("lease")->find("token")->as_string();
        } else {
          auto c = service.claim("bench", me);
          if (!c.is_ok()) die(c.status());
          if (!c->has_value()) return;
          trace = (*c)->trace_id;
          token = (*c)->lease.token;
        }
        auto b = Clock::now();
        cl.push_back(std::chrono::duration_cast<std::chrono::microseconds>(b - a).count());
        ++claims;
        bool ok = false;
        if (cli) {
          auto res = cli->Post("/api/v1/labeling-sessions/bench/items/" + trace + "/submit",
                               R"({"reviewer":")" + me + R"(","lease_token":")" + token +
                                   R"(","labels":{"response_accuracy":"Accurate"}})",
                               "application/json");
          ok = res && res->status == 200;
          if (!ok && errors.load() < 3) {
            std::fprintf(
                stderr, "submit: %s\n",
                res ? (std::to_string(res->status) + " " + res->body.substr(0, 200)).c_str()
                    : httplib::to_string(res.error()).c_str());
          }
        } else {
          ok = service.submit("bench", trace, me, token, labels, nullptr).is_ok();
        }
        auto c = Clock::now();
        if (!ok) {
          ++errors;
          continue;
        }
        sl.push_back(std::chrono::duration_cast<std::chrono::microseconds>(c - b).count());
        ++submits;
      }
    });
  }
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  if (server) server->stop();

  std::vector<int64_t> all_claims, all_submits;
  for (auto& v : claim_us) all_claims.insert(all_claims.end(), v.begin(), v.end());
  for (auto& v : submit_us) all_submits.insert(all_submits.end(), v.begin(), v.end());
  auto view = service.get_session("bench");
  std::printf(
      "labeling_bench mode=claims items=%d reviewers=%d reviews_per_item=%d sink=%s%s http=%d "
      "sync=%d\n",
      f.items, f.reviewers, f.reviews_per_item, f.sink.c_str(),
      f.sink == "kafka" ? ("(" + kafka.name() + ")").c_str() : "", f.http, f.sync);
  std::printf(
      "ops_per_s=%.0f (claims+submits) items_per_s=%.0f seconds=%.2f claims=%llu submits=%llu "
      "errors=%llu "
      "completed=%llu\n",
      static_cast<double>(claims + submits) / elapsed,
      static_cast<double>(submits) / elapsed / f.reviews_per_item, elapsed,
      static_cast<unsigned long long>(claims.load()),
      static_cast<unsigned long long>(submits.load()),
      static_cast<unsigned long long>(errors.load()),
      static_cast<unsigned long long>(view.is_ok() ? view->counts.completed : 0));
  std::printf(
      "claim_p50_ms=%.3f claim_p99_ms=%.3f submit_p50_ms=%.3f submit_p99_ms=%.3f "
      "load_%d_items_s=%.2f "
      "peak_rss_mib=%.1f\n",
      pct(all_claims, 0.5), pct(all_claims, 0.99), pct(all_submits, 0.5), pct(all_submits, 0.99),
      f.items, load_s, peak_rss_mib());
  if (producer) (void)producer->close(std::chrono::seconds(10));
  return 0;
}

int run_routed(const Flags& f, const std::filesystem::path& dir) {
  const Topics topics = Topics::with_prefix("bench-route-" + std::to_string(getpid()) + ".");
  Kafka kafka;
  kafka.start(topics, f.partitions);
  auto store = open_store(dir);
  NullSink sink;
  std::mutex mu;
  std::vector<int64_t> latencies_us;
  std::atomic<bool> measuring{false};
  labeling::LabelingOptions lo;
  lo.on_routed = [&](std::string_view, int64_t ns) {
    if (!measuring.load(std::memory_order_relaxed)) return;
    std::lock_guard lock(mu);
    latencies_us.push_back(ns / 1000);
  };
  labeling::LabelingService service(*store, sink, SystemClock::instance(), lo);
  config::LabelingSession session;
  session.name = "bench";
  session.label_schemas = {"response_accuracy"};
  if (Status s = service.load({accuracy_schema()}, {session}); !s.is_ok()) die(s);
  kafka::ClientOptions client{.brokers = kafka.bootstrap};
  labeling::ReviewConsumer consumer({.topic = topics.review, .cluster_id = kafka.cluster_id},
                                    client, *store, service);
  if (Status s = consumer.start(); !s.is_ok()) die(s);

  kafka::ProducerOptions po;
  po.client = client;
  po.client.client_id = "labeling-bench-router";
  po.linger_ms = 1;
  auto producer = kafka::Producer::create(po);
  if (!producer.is_ok()) die(producer.status());

  // Warm-up: the consumer joins its group and receives its partitions.
  const int warmup = 200;
  auto produce = [&](uint64_t i) {
    const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    const std::string id = trace_id(i);
    const std::string value = R"({"type":"review_item","labeling_session":"bench","trace_id":")" +
                              id + R"(","rule":"thumbs_down_to_review","priority":0,"time":")" +
                              format_rfc3339(now_ns) + "\"}";
    while (true) {
      Status s = (*producer)->produce(topics.review, id, value);
      if (s.is_ok()) return;
      if (s.code() != ErrorCode::unavailable) die(s);
      std::this_thread::yield();
    }
  };
  for (int i = 0; i < warmup; ++i) produce(static_cast<uint64_t>(i) + 1);
  while (service.stats().items_routed.load() < static_cast<uint64_t>(warmup)) {
    std::this_thread::sleep_for(
        std::chrono::milliseconds(10));  // waiting for the warm-up to drain, not measuring
  }
  measuring = true;
  const uint64_t total = static_cast<uint64_t>(f.rate) * static_cast<uint64_t>(f.seconds);
  const auto t0 = Clock::now();
  for (uint64_t i = 0; i < total; ++i) {
    // Paced to --rate: send each record at its scheduled time.
    const auto due =
        t0 + std::chrono::nanoseconds(static_cast<int64_t>(1e9 * static_cast<double>(i) / f.rate));
    if (Clock::now() < due) std::this_thread::sleep_until(due);
    produce(static_cast<uint64_t>(warmup) + i + 1);
  }
  const double produce_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (service.stats().items_routed.load() < total + warmup && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  consumer.stop();
  (void)(*producer)->close(std::chrono::seconds(10));
  std::lock_guard lock(mu);
  const size_t n = latencies_us.size();
  std::sort(latencies_us.begin(), latencies_us.end());
  std::printf("labeling_bench mode=routed broker=%s partitions=%d rate=%d seconds=%d\n",
              kafka.name().c_str(), f.partitions, f.rate, f.seconds);
  std::printf(
      "routed=%zu of %llu items_per_s=%.0f produce_s=%.2f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f "
      "batches=%llu "
      "peak_rss_mib=%.1f\n",
      n, static_cast<unsigned long long>(total), static_cast<double>(n) / elapsed, produce_s,
      pct(latencies_us, 0.5), pct(latencies_us, 0.99),
      n ? static_cast<double>(latencies_us.back()) / 1000.0 : 0.0,
      static_cast<unsigned long long>(consumer.stats().batches.load()), peak_rss_mib());
  return n == total ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const Flags f = parse(argc, argv);
  const auto dir =
      std::filesystem::temp_directory_path() / ("labeling-bench-" + std::to_string(getpid()));
  const int rc = f.mode == "routed" ? run_routed(f, dir) : run_claims(f, dir);
  std::filesystem::remove_all(dir);
  return rc;
}
