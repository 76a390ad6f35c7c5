// join_route_bench: the processors' join + route, consume -> RocksDB -> produce (PRODUCT.md §8).
//
// Kafka mode (default; needs a real broker: TRACEFEED_BENCH_KAFKA=host:port, e.g. from
// scripts/kafka/start.sh DIR, which writes DIR/bootstrap):
//   1. preload: --events envelopes of loadgen's realistic mix (producers/emit/traffic.h: 1-5 span
//      traces, a thumbs up/down per trace, 20 % down, 10 % feedback before its trace, 1 %
//      duplicates) into fresh <prefix>traces / <prefix>assessments topics (--partitions each).
//   2. throughput: a JoinProcessor with a Router (the quickstart rule "feedback.user_feedback =
//      false" -> labeling session) consumes everything from the beginning into a fresh store,
//      producing review records to <prefix>review; events/s from the first applied record to the
//      last. --exactly-once sets JoinProcessorOptions::exactly_once (Kafka transactions).
//   3. latency: loadgen's mix sent live at --rate events/s for --latency-seconds; a read_committed
//      consumer of <prefix>review measures thumbs-down sent -> review record received (both in
//      this process, one steady clock): p50/p99/max.
//   Peak RSS is reported for phases 2-3 (the kernel's high-water mark is reset after the preload).
//
// --state-only: no Kafka. The same mix, parsed and applied with the Joiner and routed with the
//   Router in batches of --max-batch, written with offsets, as the join does after each poll —
//   the state write path alone, and the memory figure for --traces N traces in state.
// --bulk: fills a store with --traces traces fast, writing what the join would leave for each
//   interaction (trace, feedback assessment, applied event ids, the rule's decision, the time
//   index entry) with blind puts in batches, no reads; then --bulk-reads random joined-trace reads
//   and decision reads over the whole key space (the join's read pattern on old traces), which
//   pull index and filter blocks into the cache. With --keep, a later --state-only run adds live
//   traffic on top; --bulk --keep --traces 0 runs the read phase alone over a kept store. For the
//   10 M-trace memory figure (run it under /usr/bin/time -v).
// --reopen: opens the store in --dir and reads its offsets (the restart after kill -9), timed.
//
// Flags: --events N (2000000) --partitions P (8) --rate R (10000) --latency-seconds S (20)
//        --max-batch B (2000) --memory-mb M (512, the state.memory_budget default)
//        --exactly-once --state-only --bulk --bulk-reads N (200000) --traces N (10000000)
//        --reopen --dir D --keep --seed S (1: ids of the traffic; use another one to add new traces
//        to a kept store)
//        --phase all|throughput|latency|floor (all; floor: the preloaded backlog consumed with the
//        join's consumer settings and nothing done with it — what Kafka alone costs, for scale)
//        --latency-timeline (also print the worst latency of each second of the live phase)
//        --join-property key=value (a librdkafka property for the join's clients; repeatable)

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/clock.h"
#include "core/event_json.h"
#include "core/json_writer.h"
#include "core/topics.h"
#include "kafka/admin.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "processors/join/join_processor.h"
#include "processors/join/joiner.h"
#include "processors/route/router.h"
#include "processors/route/time_index.h"
#include "producers/emit/latency_histogram.h"
#include "producers/emit/token_bucket.h"
#include "producers/emit/traffic.h"
#include "state/keys.h"
#include "state/store.h"
#include "state/write_batch.h"

namespace {

using namespace tracefeed;
using SteadyClock = std::chrono::steady_clock;

struct Flags {
  uint64_t events = 2'000'000;
  int partitions = 8;
  double rate = 10'000;
  int latency_seconds = 20;
  size_t max_batch = 2000;
  int64_t input_skew_ms = -1;  // JoinProcessorOptions::max_input_skew; -1: its default
  uint64_t memory_mb = 512;
  bool exactly_once = false;
  bool state_only = false;
  bool reopen = false;
  bool bulk = false;
  uint64_t bulk_reads = 200'000;
  bool keep = false;
  uint64_t traces = 10'000'000;
  uint64_t seed = 1;
  std::string dir;
  std::string phase = "all";
  bool latency_timeline = false;
  std::map<std::string, std::string> join_properties;  // --join-property k=v: the join's consumer
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr, "join_route_bench: %s\n", why.c_str());
  std::exit(2);
}

Flags parse_flags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage("missing value for " + k);
      return argv[++i];
    };
    if (k == "--events") f.events = std::stoull(value());
    else if (k == "--partitions") f.partitions = std::stoi(value());
    else if (k == "--rate") f.rate = std::stod(value());
    else if (k == "--latency-seconds") f.latency_seconds = std::stoi(value());
    else if (k == "--max-batch") f.max_batch = std::stoull(value());
    else if (k == "--input-skew-ms") f.input_skew_ms = std::stoll(value());
    else if (k == "--memory-mb") f.memory_mb = std::stoull(value());
    else if (k == "--exactly-once") f.exactly_once = true;
    else if (k == "--state-only") f.state_only = true;
    else if (k == "--reopen") f.reopen = true;
    else if (k == "--bulk") f.bulk = true;
    else if (k == "--bulk-reads") f.bulk_reads = std::stoull(value());
    else if (k == "--keep") f.keep = true;
    else if (k == "--traces") f.traces = std::stoull(value());
    else if (k == "--seed") f.seed = std::stoull(value());
    else if (k == "--dir") f.dir = value();
    else if (k == "--phase") f.phase = value();
    else if (k == "--latency-timeline") f.latency_timeline = true;
    else if (k == "--join-property") {
      const std::string kv = value();
      const auto eq = kv.find('=');
      if (eq == std::string::npos) usage("--join-property wants key=value");
      f.join_properties[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    else usage("unknown flag " + k);
  }
  if (f.dir.empty()) f.dir = "/tmp/join_route_bench-" + std::to_string(::getpid());
  return f;
}

// VmHWM / VmRSS of this process, in MiB.
double proc_status_mib(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::strtod(line.c_str() + std::strlen(field), nullptr) / 1024.0;
  }
  return -1;
}

// Resets the peak RSS (VmHWM) so that it covers what runs after this call only.
void reset_peak_rss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
}

int64_t now_ns(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock.now().time_since_epoch()).count();
}

// User + system CPU seconds of every thread of this process so far.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// The machine's CPU time by kind since boot (/proc/stat's first line, in clock ticks). On a
// shared VM the hypervisor's steal time swings from a few % to over 20 % between runs and moves
// the results with it: every phase reports it, so that a run can be judged by its neighbours.
struct MachineTicks {
  uint64_t busy = 0, idle = 0, steal = 0;
  static MachineTicks now() {
    MachineTicks t;
    std::ifstream in("/proc/stat");
    std::string cpu;
    uint64_t v[8] = {};  // user nice system idle iowait irq softirq steal
    in >> cpu;
    for (auto& x : v) in >> x;
    t.idle = v[3] + v[4];
    t.steal = v[7];
    t.busy = v[0] + v[1] + v[2] + v[5] + v[6];
    return t;
  }
};

// "machine: busy 74 %, steal 6 %, idle 20 %" between `from` and now (all CPUs together).
std::string machine_since(const MachineTicks& from) {
  const MachineTicks to = MachineTicks::now();
  const double busy = double(to.busy - from.busy), idle = double(to.idle - from.idle), steal = double(to.steal - from.steal);
  const double total = std::max(1.0, busy + idle + steal);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "machine: busy %.0f %%, steal %.0f %%, idle %.0f %%", 100 * busy / total,
                100 * steal / total, 100 * idle / total);
  return buf;
}

double seconds_since(SteadyClock::time_point t) {
  return std::chrono::duration<double>(SteadyClock::now() - t).count();
}

state::StoreOptions store_options(const Flags& f) {
  state::StoreOptions o;  // what apps/runtime.cc uses: the defaults + the configured budget
  o.path = f.dir + "/state";
  o.memory_budget_bytes = f.memory_mb << 20;
  return o;
}

emit::TrafficOptions traffic(const Flags& f) {
  emit::TrafficOptions o;
  o.seed = f.seed;
  return o;
}

route::Rule quickstart_rule() {
  auto r = route::compile_rule("thumbs_down_to_review", "feedback.user_feedback = false", 1.0, 0, false,
                               {{route::RuleAction::Kind::labeling_session, "quickstart_review"}});
  if (!r.is_ok()) usage(r.status().to_string());
  return std::move(r).value();
}

void print_store(state::Store& store) {
  auto st = store.stats();
  if (!st.is_ok()) return;
  std::printf("state: %.0f MiB in SST, %.0f MiB memtables, ~%" PRIu64 " keys, block cache %.0f/%.0f MiB (pinned %.0f)\n",
              st->sst_bytes / 1048576.0, st->memtable_bytes / 1048576.0, st->estimated_keys,
              st->block_cache_usage_bytes / 1048576.0, st->block_cache_capacity_bytes / 1048576.0,
              st->block_cache_pinned_bytes / 1048576.0);
}

// ---- --reopen ------------------------------------------------------------------------------------

int run_reopen(const Flags& f) {
  const auto t0 = SteadyClock::now();
  auto store = state::Store::open(store_options(f), SystemClock::instance());
  if (!store.is_ok()) usage(store.status().to_string());
  const double open_s = seconds_since(t0);
  auto ids = (*store)->known_cluster_ids();
  size_t partitions = 0;
  if (ids.is_ok()) {
    for (const auto& id : *ids) {
      auto offsets = (*store)->stored_offsets(id);
      if (offsets.is_ok()) partitions += offsets->size();
    }
  }
  const double total_s = seconds_since(t0);
  std::printf("reopen: open %.3f s, open + stored offsets %.3f s (%zu partition offsets)\n", open_s, total_s, partitions);
  print_store(**store);
  std::printf("peak RSS: %.0f MiB\n", proc_status_mib("VmHWM:"));
  return 0;
}

// ---- --bulk ------------------------------------------------------------------------------------

int run_bulk(const Flags& f) {
  SystemClock& clock = SystemClock::instance();
  if (!f.keep) std::filesystem::remove_all(f.dir);
  auto opened = state::Store::open(store_options(f), clock);
  if (!opened.is_ok()) usage(opened.status().to_string());
  state::Store& store = **opened;
  emit::TrafficGenerator gen(traffic(f), clock);
  EventParser parser;
  Envelope env;
  std::vector<emit::GeneratedEvent> events;
  std::vector<std::string> ids;  // every 50th trace id, for the read phase
  state::WriteBatch batch(store);
  std::string json, key;
  uint64_t traces = 0, offset = 0, in_batch = 0;
  const auto start = SteadyClock::now();
  while (traces < f.traces) {
    events.clear();
    gen.next_interaction(events);
    for (const auto& e : events) {
      if (Status s = parser.parse_envelope(e.json, env); !s.is_ok()) usage(s.to_string());
      batch.mark_applied(env.event_id, clock.now());
      json.clear();
      JsonWriter w(json);
      if (env.type == EventType::trace) {
        const Trace& t = env.trace();
        write_json(w, t);
        batch.put(state::Family::traces, t.trace_info.trace_id, json);
        route::time_index::assign_key(key, route::time_index::timestamp_ms_of(t.trace_info.request_time),
                                      t.trace_info.trace_id);
        batch.put(state::Family::meta, key, "");
      } else {
        const Assessment& a = env.assessment();
        write_json(w, a);
        batch.put(state::Family::assessments, state::child_key(a.trace_id, a.assessment_id), json);
        const bool down = std::get<Feedback>(a.value).value == "false";
        route::write_decision_json(json, a.trace_id, "thumbs_down_to_review",
                                   down ? route::Decision::routed : route::Decision::filtered_out,
                                   down ? "all conditions met" : "condition not met: feedback.user_feedback = false",
                                   now_ns(clock));
        batch.put(state::Family::decisions, state::child_key(a.trace_id, "thumbs_down_to_review"), json);
      }
      ++offset;
      if (++in_batch == f.max_batch) {
        batch.set_offset("bench-cluster", "bench.traces", 0, static_cast<int64_t>(offset));
        if (Status s = store.write(batch); !s.is_ok()) usage(s.to_string());
        in_batch = 0;
      }
    }
    if (traces % 50 == 0) ids.push_back(events.front().trace_id);
    ++traces;
    if (traces % 1'000'000 == 0) {
      std::printf("%8.1f s: %" PRIu64 " traces, RSS %.0f MiB\n", seconds_since(start), traces, proc_status_mib("VmRSS:"));
      std::fflush(stdout);
    }
  }
  batch.set_offset("bench-cluster", "bench.traces", 0, static_cast<int64_t>(offset));
  if (Status s = store.write(batch); !s.is_ok()) usage(s.to_string());
  std::printf("bulk: %" PRIu64 " traces (%" PRIu64 " events) written in %.1f s; RSS %.0f MiB, peak %.0f MiB\n", traces,
              offset, seconds_since(start), proc_status_mib("VmRSS:"), proc_status_mib("VmHWM:"));
  print_store(store);
  std::fflush(stdout);

  if (traces == 0) {
    // --keep --traces 0: only the read phase, over the traces of a kept store (every 50th id).
    uint64_t n = 0;
    Status s = store.scan_prefix(state::Family::traces, "", [&](std::string_view id, std::string_view) {
      if (n++ % 50 == 0) ids.emplace_back(id);
      return true;
    });
    if (!s.is_ok()) usage(s.to_string());
    std::printf("read phase only: %" PRIu64 " stored traces\n", n);
  }
  // Reads as the join does them for a trace that gets new feedback: the trace, its assessments,
  // its decision, an absent event id. One read per batch, as the join reads (begin_batch).
  join::Joiner joiner;
  Trace joined;
  std::mt19937_64 rng(7);
  const auto t_reads = SteadyClock::now();
  uint64_t found = 0;
  for (uint64_t i = 0; i < f.bulk_reads && !ids.empty(); ++i) {
    const std::string& id = ids[rng() % ids.size()];
    joiner.begin_batch();
    bool present = false;
    if (Status s = joiner.load_joined(batch, id, joined, present); !s.is_ok()) usage(s.to_string());
    found += present;
    auto d = batch.get(state::Family::decisions, state::child_key(id, "thumbs_down_to_review"));
    auto e = batch.get(state::Family::dedup, "ev-absent-" + std::to_string(i));
    if (!d.is_ok() || !e.is_ok()) usage("read failed");
  }
  const double rs = seconds_since(t_reads);
  std::printf("reads: %" PRIu64 " joined-trace reads (+ decision + absent event id) in %.1f s: %.0f/s, %" PRIu64
              " found\n",
              f.bulk_reads, rs, f.bulk_reads / rs, found);
  print_store(store);
  std::printf("RSS now %.0f MiB, peak RSS %.0f MiB\n", proc_status_mib("VmRSS:"), proc_status_mib("VmHWM:"));
  if (Status s = store.close(); !s.is_ok()) usage(s.to_string());
  return 0;
}

// ---- --state-only --------------------------------------------------------------------------------

int run_state_only(const Flags& f) {
  SystemClock& clock = SystemClock::instance();
  if (!f.keep) std::filesystem::remove_all(f.dir);
  auto opened = state::Store::open(store_options(f), clock);
  if (!opened.is_ok()) usage(opened.status().to_string());
  state::Store& store = **opened;
  route::RuleSet rules;
  rules.replace({quickstart_rule()});
  route::Router router(Topics::with_prefix("bench."), rules);
  join::Joiner joiner;
  EventParser parser;
  emit::TrafficGenerator gen(traffic(f), clock);

  std::vector<emit::GeneratedEvent> events;
  std::vector<std::string> touched;
  std::unordered_set<std::string> touched_set;
  std::vector<route::Output> outputs;
  Envelope env;
  Trace joined;
  state::WriteBatch batch(store);
  if (auto pending = joiner.load_indexes(store); !pending.is_ok()) usage(pending.status().to_string());
  uint64_t n_events = 0, batch_events = 0, offset = 0, outputs_total = 0, traces = 0;
  const auto start = SteadyClock::now();
  const double cpu_start = cpu_seconds();
  auto last_report = start;
  uint64_t last_traces = 0;

  auto flush = [&] {
    const int64_t t = now_ns(clock);
    for (const auto& id : touched) {
      bool present = false;
      auto joined = joiner.joined(batch, id, present);
      if (!joined.is_ok()) usage(joined.status().to_string());
      if (Status s = router.route(**joined, present, t, batch, outputs, joiner.trace_written(id)); !s.is_ok()) {
        usage(s.to_string());
      }
    }
    outputs_total += outputs.size();
    outputs.clear();
    batch.set_offset("bench-cluster", "bench.traces", 0, static_cast<int64_t>(offset));
    if (Status s = store.write(batch); !s.is_ok()) usage(s.to_string());
    joiner.batch_written(batch);  // as the join does: the LRU of stored traces, the pending index
    touched.clear();
    touched_set.clear();
    batch_events = 0;
  };

  while (traces < f.traces) {
    events.clear();
    gen.next_interaction(events);
    for (const auto& e : events) {
      if (Status s = parser.parse_envelope(e.json, env); !s.is_ok()) usage(s.to_string());
      auto r = joiner.apply(env, now_ns(clock), batch);
      if (r.kind == join::ApplyResult::Kind::applied && touched_set.insert(env.trace_id()).second) {
        touched.push_back(env.trace_id());
      }
      ++n_events;
      ++offset;
      if (++batch_events == f.max_batch) flush();
    }
    ++traces;
    if (traces % 1'000'000 == 0) {
      const double dt = std::chrono::duration<double>(SteadyClock::now() - last_report).count();
      std::printf("%8.1f s: %" PRIu64 " traces, %.0f traces/s now, RSS %.0f MiB\n", seconds_since(start), traces,
                  (traces - last_traces) / dt, proc_status_mib("VmRSS:"));
      std::fflush(stdout);
      last_report = SteadyClock::now();
      last_traces = traces;
    }
  }
  if (batch_events > 0) flush();
  const double secs = seconds_since(start);
  const double cpu = cpu_seconds() - cpu_start;
  std::printf("state-only: %" PRIu64 " traces, %" PRIu64 " events in %.1f s: %.0f events/s, %" PRIu64
              " review outputs; cpu %.1f s user+sys (incl. RocksDB background jobs): %.1f us per event, %.0f "
              "events per CPU-second\n",
              traces, n_events, secs, n_events / secs, outputs_total, cpu, cpu * 1e6 / n_events, n_events / cpu);
  print_store(store);
  std::printf("RSS now %.0f MiB, peak RSS %.0f MiB\n", proc_status_mib("VmRSS:"), proc_status_mib("VmHWM:"));
  if (Status s = store.close(); !s.is_ok()) usage(s.to_string());
  if (!f.keep) std::filesystem::remove_all(f.dir);
  return 0;
}

// ---- Kafka mode ----------------------------------------------------------------------------------

// Sends envelopes to the traces/assessments topics, keyed by trace_id. When `sent_at` is set it
// records the send time of every thumbs-down (the latency phase's start point).
class Sender {
 public:
  Sender(kafka::Producer& producer, const Topics& topics) : _producer(producer), _topics(topics) {}

  void send(const emit::GeneratedEvent& e) {
    const std::string& topic = e.type == EventType::trace ? _topics.traces : _topics.assessments;
    while (true) {
      Status s = _producer.produce(topic, e.trace_id, e.json, std::nullopt, [this](const kafka::DeliveryReport& r) {
        if (!r.status.is_ok()) ++_failed;
      });
      if (s.is_ok()) break;
      if (s.code() != ErrorCode::unavailable) usage("produce: " + s.to_string());
      std::this_thread::sleep_for(std::chrono::milliseconds(1));  // local queue full: let it drain
    }
    ++_sent;
  }
  uint64_t sent() const { return _sent; }
  uint64_t failed() const { return _failed.load(); }

 private:
  kafka::Producer& _producer;
  const Topics& _topics;
  uint64_t _sent = 0;
  std::atomic<uint64_t> _failed{0};
};

uint64_t consumed(const join::JoinStats& s) {
  return s.applied.load() + s.duplicates.load() + s.rejected_malformed.load() + s.rejected_apply.load();
}

// --phase floor: what Kafka alone costs this process per event — the same consumer settings as
// the join (read_committed, batches of --max-batch), no parsing and no state, one small output
// produced per ten records (the review share of the mix) and flushed per batch as the join does.
int run_floor(const Flags& f, const kafka::ClientOptions& client, const Topics& topics, uint64_t preloaded) {
  kafka::ConsumerOptions co;
  co.client = client;
  co.client.client_id = "bench-floor";
  auto consumer = kafka::Consumer::create(co);
  if (!consumer.is_ok()) usage(consumer.status().to_string());
  std::vector<kafka::TopicPartitionOffset> from;
  for (int p = 0; p < f.partitions; ++p) {
    from.push_back({topics.traces, p, kafka::kOffsetBeginning});
    from.push_back({topics.assessments, p, kafka::kOffsetBeginning});
  }
  if (Status s = (*consumer)->assign(from); !s.is_ok()) usage(s.to_string());
  kafka::ProducerOptions po;
  po.client = client;
  po.client.client_id = "bench-floor-out";
  po.linger_ms = 0;
  auto out = kafka::Producer::create(po);
  if (!out.is_ok()) usage(out.status().to_string());
  uint64_t seen = 0, bytes = 0, batches = 0;
  SteadyClock::time_point t_first{};
  double cpu_first = 0;
  const std::string payload(200, 'x');
  while (seen < preloaded) {
    auto batch = (*consumer)->poll_batch(f.max_batch, std::chrono::milliseconds(100));
    if (!batch.is_ok()) usage(batch.status().to_string());
    if (batch->empty()) continue;
    if (t_first == SteadyClock::time_point{}) {
      t_first = SteadyClock::now();
      cpu_first = cpu_seconds();
    }
    for (const auto& m : *batch) {
      bytes += m.value().size();
      if (++seen % 10 == 0) {
        if (Status s = (*out)->produce(topics.review, m.key(), payload, std::nullopt, nullptr); !s.is_ok()) usage(s.to_string());
      }
    }
    if (Status s = (*out)->flush(std::chrono::seconds(30)); !s.is_ok()) usage(s.to_string());
    ++batches;
  }
  const double secs = seconds_since(t_first), cpu = cpu_seconds() - cpu_first;
  std::printf("floor: %" PRIu64 " records (%.0f MiB) in %.2f s: %.0f records/s, %" PRIu64
              " batches; cpu %.1f s: %.1f us per record (consume + 10 %% produce, nothing else)\n",
              seen, bytes / 1048576.0, secs, seen / secs, batches, cpu, cpu * 1e6 / seen);
  (void)(*out)->close();
  (void)(*consumer)->close();
  return 0;
}

int run_kafka(const Flags& f) {
  const char* bootstrap = std::getenv("TRACEFEED_BENCH_KAFKA");
  if (!bootstrap || !*bootstrap) {
    usage("set TRACEFEED_BENCH_KAFKA=host:port (scripts/kafka/start.sh DIR writes DIR/bootstrap), or use --state-only");
  }
  SystemClock& clock = SystemClock::instance();
  kafka::ClientOptions client;
  client.brokers = bootstrap;
  const Topics topics = Topics::with_prefix("bench" + std::to_string(::getpid()) + ".");

  auto admin = kafka::Admin::create(client);
  if (!admin.is_ok()) usage(admin.status().to_string());
  std::vector<kafka::TopicSpec> specs;
  for (const auto& t : topics.all()) specs.push_back({t, f.partitions, 1, {}});
  if (Status s = (*admin)->create_topics(specs, std::chrono::seconds(30)); !s.is_ok()) usage(s.to_string());
  auto cluster_id = (*admin)->cluster_id(std::chrono::seconds(10));
  if (!cluster_id.is_ok()) usage(cluster_id.status().to_string());

  kafka::ProducerOptions po;
  po.client = client;
  po.client.client_id = "bench-loadgen";
  po.linger_ms = 5;
  po.max_queued_messages = 500'000;
  auto load_producer = kafka::Producer::create(po);
  if (!load_producer.is_ok()) usage(load_producer.status().to_string());
  Sender sender(**load_producer, topics);
  emit::TrafficGenerator gen(traffic(f), clock);
  std::vector<emit::GeneratedEvent> events;

  // 1. preload
  const auto t_preload = SteadyClock::now();
  while (sender.sent() < f.events) {
    events.clear();
    gen.next_interaction(events);
    for (const auto& e : events) sender.send(e);
  }
  if (Status s = (*load_producer)->flush(std::chrono::minutes(5)); !s.is_ok()) usage("preload flush: " + s.to_string());
  if (sender.failed() != 0) usage(std::to_string(sender.failed()) + " preload events failed");
  const uint64_t preloaded = sender.sent();
  std::printf("preload: %" PRIu64 " events (%" PRIu64 " traces, %" PRIu64 " feedback, %" PRIu64
              " duplicates) in %.1f s, %d partitions, Kafka %s\n",
              preloaded, gen.counts().traces, gen.counts().feedback, gen.counts().duplicates, seconds_since(t_preload),
              f.partitions, bootstrap);
  std::fflush(stdout);
  reset_peak_rss();

  if (f.phase == "floor") return run_floor(f, client, topics, preloaded);

  // 2. throughput
  if (!f.keep) std::filesystem::remove_all(f.dir);
  auto opened = state::Store::open(store_options(f), clock);
  if (!opened.is_ok()) usage(opened.status().to_string());
  state::Store& store = **opened;
  route::RuleSet rules;
  rules.replace({quickstart_rule()});
  route::Router router(topics, rules);
  kafka::ProducerOptions out_po;
  out_po.client = client;
  out_po.client.client_id = "bench-join-out";
  out_po.linger_ms = 0;  // as the runtime's join output producer
  auto out_producer = kafka::Producer::create(out_po);
  if (!out_producer.is_ok()) usage(out_producer.status().to_string());
  join::JoinProcessorOptions jo;
  jo.topics = topics;
  jo.group_id = "bench-join-" + std::to_string(::getpid());
  jo.cluster_id = *cluster_id;
  jo.max_batch = f.max_batch;
  if (f.input_skew_ms >= 0) jo.max_input_skew = std::chrono::milliseconds(f.input_skew_ms);
  jo.exactly_once = f.exactly_once;
  kafka::ClientOptions join_client = client;
  for (const auto& [k, v] : f.join_properties) join_client.properties[k] = v;
  join::JoinProcessor join(jo, join_client, store, out_producer->get(), &router, clock);
  const auto t_start = SteadyClock::now();
  if (Status s = join.start(); !s.is_ok()) usage("join start: " + s.to_string());
  SteadyClock::time_point t_first{};
  uint64_t at_first = 0;
  double cpu_first = 0;
  MachineTicks machine_first;
  while (consumed(join.stats()) < preloaded) {
    if (Status e = join.last_error(); !e.is_ok()) usage("join: " + e.to_string());
    const uint64_t c = consumed(join.stats());
    if (t_first == SteadyClock::time_point{} && c > 0) {
      t_first = SteadyClock::now();
      at_first = c;
      cpu_first = cpu_seconds();
      machine_first = MachineTicks::now();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // polling the stats, not synchronising
  }
  const double secs = std::chrono::duration<double>(SteadyClock::now() - t_first).count();
  const double cpu = cpu_seconds() - cpu_first;
  const uint64_t measured = preloaded - at_first;
  const auto& st = join.stats();
  // On a shared machine wall time depends on the neighbours; CPU time per event much less.
  std::printf("cpu: %.1f s user+sys of this process (join thread, RocksDB background jobs, librdkafka) over the "
              "catch-up: %.1f us per event, %.0f events per CPU-second; %s\n",
              cpu, cpu * 1e6 / measured, measured / cpu, machine_since(machine_first).c_str());
  std::printf("throughput (%s): %" PRIu64 " events in %.2f s after the first batch: %.0f events/s "
              "(start-to-end %.2f s incl. group join); %" PRIu64 " batches, %" PRIu64 " review outputs, %" PRIu64
              " duplicates, %" PRIu64 " transactions\n",
              f.exactly_once ? "exactly-once" : "at-least-once", measured, secs, measured / secs, seconds_since(t_start),
              st.batches.load(), st.routed_outputs.load(), st.duplicates.load(), st.transactions.load());
  std::printf("input alignment: %" PRIu64 " feedback partition pauses; %" PRId64 " feedback pending at the end\n",
              st.input_pauses.load(), st.pending_assessments.load());
  std::printf("peak RSS during the catch-up: %.0f MiB\n", proc_status_mib("VmHWM:"));
  print_store(store);
  std::fflush(stdout);

  // 3. latency at a fixed rate
  if (f.phase == "all" || f.phase == "latency") {
    kafka::ConsumerOptions co;
    co.client = client;
    co.client.client_id = "bench-review-reader";
    co.read_committed = true;
    auto reader = kafka::Consumer::create(co);
    if (!reader.is_ok()) usage(reader.status().to_string());
    std::vector<kafka::TopicPartitionOffset> from;
    for (int p = 0; p < f.partitions; ++p) from.push_back({topics.review, p, kafka::kOffsetEnd});
    if (Status s = (*reader)->assign(from); !s.is_ok()) usage(s.to_string());
    // Let the assignment take effect (reads from the end) before anything is sent.
    for (int i = 0; i < 20; ++i) (void)(*reader)->poll_batch(1000, std::chrono::milliseconds(50));

    std::mutex mu;
    std::unordered_map<std::string, SteadyClock::time_point> sent_at;  // thumbs-down trace -> send time
    emit::LatencyHistogram latency;
    std::atomic<bool> done{false};
    std::atomic<uint64_t> received{0}, unmatched{0};
    SteadyClock::time_point timeline_start{};  // set before the first live send (under mu)
    std::vector<int64_t> worst_by_second(static_cast<size_t>(f.latency_seconds) + 1, 0);
    std::thread consumer([&] {
      while (!done) {
        auto batch = (*reader)->poll_batch(1000, std::chrono::milliseconds(20));
        if (!batch.is_ok()) continue;
        const auto now = SteadyClock::now();
        std::lock_guard lock(mu);
        for (const auto& m : *batch) {
          auto it = sent_at.find(std::string(m.key()));
          if (it == sent_at.end()) {
            ++unmatched;
            continue;
          }
          const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - it->second).count();
          latency.record(ns);
          if (timeline_start != SteadyClock::time_point{}) {
            // The worst latency per second of the live phase, by when the feedback was sent.
            const auto second = static_cast<size_t>(std::max<int64_t>(
                0, std::chrono::duration_cast<std::chrono::seconds>(it->second - timeline_start).count()));
            if (second < worst_by_second.size()) worst_by_second[second] = std::max(worst_by_second[second], ns);
          }
          sent_at.erase(it);
          ++received;
        }
      }
    });

    emit::TokenBucket bucket(f.rate, std::max(1.0, f.rate / 100), clock);
    const uint64_t before = consumed(join.stats());
    const uint64_t batches_before = join.stats().batches.load(), pauses_before = join.stats().input_pauses.load();
    const double cpu_before = cpu_seconds();
    const MachineTicks machine_before = MachineTicks::now();
    const auto t_live = SteadyClock::now();
    {
      std::lock_guard lock(mu);
      timeline_start = t_live;
    }
    const auto t_end = t_live + std::chrono::seconds(f.latency_seconds);
    uint64_t live_sent = 0, thumbs_down = 0;
    while (SteadyClock::now() < t_end) {
      events.clear();
      gen.next_interaction(events);
      for (const auto& e : events) {
        while (!bucket.try_take()) {
          std::this_thread::sleep_for(std::chrono::nanoseconds(std::max<int64_t>(bucket.wait_ns(), 20'000)));
        }
        if (e.type == EventType::assessment && e.json.find(R"("feedback":{"value":false})") != std::string::npos) {
          std::lock_guard lock(mu);
          // The first send of the thumbs-down: a duplicate must not move the start point.
          if (sent_at.emplace(e.trace_id, SteadyClock::now()).second) ++thumbs_down;
        }
        sender.send(e);
        ++live_sent;
      }
    }
    const double live_secs = seconds_since(t_live);
    // Wait for the join to apply everything sent and the review records to arrive.
    const auto deadline = SteadyClock::now() + std::chrono::seconds(60);
    while (SteadyClock::now() < deadline && (consumed(join.stats()) < before + live_sent || received < thumbs_down)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    done = true;
    consumer.join();
    std::printf("latency at %.0f events/s offered (%.0f sent/s over %.1f s): %" PRIu64 " thumbs-down -> %" PRIu64
                " review records; feedback sent -> review received p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
                f.rate, live_sent / live_secs, live_secs, thumbs_down, received.load(),
                latency.percentile_ns(50) / 1e6, latency.percentile_ns(99) / 1e6, latency.max_ns() / 1e6);
    if (f.latency_timeline) {
      std::printf("worst latency per second sent (ms):");
      for (int64_t ns : worst_by_second) std::printf(" %.0f", ns / 1e6);
      std::printf("\n");
    }
    const uint64_t live_batches = join.stats().batches.load() - batches_before;
    std::printf("live phase: %" PRIu64 " batches (%.0f records each), %" PRIu64
                " feedback partition pauses; this process %.2f cores (generator, join, review reader); %s\n",
                live_batches, live_batches ? double(consumed(join.stats()) - before) / live_batches : 0.0,
                join.stats().input_pauses.load() - pauses_before, (cpu_seconds() - cpu_before) / seconds_since(t_live),
                machine_since(machine_before).c_str());
    (void)(*reader)->close();
  }
  join.stop();
  std::printf("peak RSS (join + route phases): %.0f MiB\n", proc_status_mib("VmHWM:"));
  (void)(*out_producer)->close();
  (void)(*load_producer)->close();
  if (Status s = store.close(); !s.is_ok()) usage(s.to_string());
  if (!f.keep) std::filesystem::remove_all(f.dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Flags f = parse_flags(argc, argv);
  if (f.reopen) return run_reopen(f);
  if (f.bulk) return run_bulk(f);
  if (f.state_only) return run_state_only(f);
  return run_kafka(f);
}
