// join_worker: the join + route processor alone, as a process the crash tests and the restart
// bench can SIGKILL. Rules are ordering_rules() (ordering_stream.h).
//
//   join_worker --brokers=HOST:PORT --prefix=P --group=G --state=DIR --progress=FILE
//               [--eos] [--instance=ID] [--max-batch=N] [--strategy=range]
//               [--crash=[backfill_]outputs_sent|transaction_committed|state_written:N] [--fetch-bytes=N]
//               [--backfill-rule] [--backfill-per-step=N] [--log-level=debug]
//
// Every ~10 ms it rewrites FILE (atomically, by rename) with one line of key=value pairs:
//   consumed=<sum of the stored next offsets of the input topics> batches= replayed= suppressed=
//   transactions= aborted= routed= start_ms=<process start to start() returned> uptime_ms=
//   backfill_steps= backfill_outputs= backfill_done=<0|1: rule "bf" finished its backfill>
// --crash=P:N raises SIGKILL the N-th time the processor reaches commit point P with a batch
// that has outputs; backfill_P counts backfill steps (JoinProcessorOptions::backfill_fault_hook).
// --backfill-rule adds kRuleBackfill ("bf": thumbs-down -> labeling session bf_q, backfill: true)
// and requests its backfill, --backfill-per-step=N sets BackfillOptions::traces_per_step.
// SIGTERM/SIGINT: stop the processor, close the store, exit 0. A processor error: exit 3.
#include <signal.h>
#include <time.h>

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>

#include "kafka/admin.h"
#include "kafka/producer.h"
#include "processors/join/join_processor.h"
#include "processors/join/tests/ordering_stream.h"
#include "processors/route/router.h"
#include "state/store.h"

using namespace tracefeed;

namespace {

std::map<std::string, std::string> parse_args(int argc, char** argv) {
  std::map<std::string, std::string> a;
  for (int i = 1; i < argc; ++i) {
    std::string_view s = argv[i];
    if (s.size() < 3 || s.substr(0, 2) != "--") continue;
    s.remove_prefix(2);
    const auto eq = s.find('=');
    if (eq == std::string_view::npos) {
      a.emplace(std::string(s), std::string("1"));
    } else {
      a.emplace(std::string(s.substr(0, eq)), std::string(s.substr(eq + 1)));
    }
  }
  return a;
}

int die(const std::string& what, const Status& s) {
  std::fprintf(stderr, "join_worker: %s: %s\n", what.c_str(), s.to_string().c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const auto t0 = std::chrono::steady_clock::now();
  auto args = parse_args(argc, argv);
  for (const char* required : {"brokers", "prefix", "state", "progress"}) {
    if (!args.count(required)) {
      std::fprintf(stderr, "join_worker: --%s is required\n", required);
      return 2;
    }
  }
  // Block the stop signals before any thread starts, so only sigtimedwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  if (args.count("log-level")) spdlog::set_level(spdlog::level::from_str(args["log-level"]));
  spdlog::flush_on(spdlog::level::info);  // what was logged survives the SIGKILL
  SystemClock& clock = SystemClock::instance();
  kafka::ClientOptions client;
  client.brokers = args["brokers"];
  // Small fetches make the consumer alternate between partitions (and so between traces and
  // assessments) instead of draining one partition per fetch: routing happens all along the run.
  if (args.count("fetch-bytes")) client.properties["max.partition.fetch.bytes"] = args["fetch-bytes"];
  auto admin = kafka::Admin::create(client);
  if (!admin.is_ok()) return die("admin", admin.status());
  auto cluster = (*admin)->cluster_id(std::chrono::seconds(30));
  if (!cluster.is_ok()) return die("cluster id", cluster.status());

  state::StoreOptions so;
  so.path = args["state"];
  so.memory_budget_bytes = 256ull << 20;
  const auto t_store = std::chrono::steady_clock::now();
  auto store = state::Store::open(so, clock);
  if (!store.is_ok()) return die("store", store.status());
  const auto ms_since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t).count();
  };
  spdlog::info("join_worker: cluster id after {} ms, store opened in {} ms", ms_since(t0) - ms_since(t_store),
               ms_since(t_store));

  const Topics topics = Topics::with_prefix(args["prefix"]);
  route::RuleSet rules;
  auto rule_list = join::testing::ordering_rules();
  const bool backfill_rule = args.count("backfill-rule") != 0;
  if (backfill_rule) {
    auto bf = route::compile_rule("bf", "feedback.user_feedback = false", 1.0, 3, true,
                                  {{route::RuleAction::Kind::labeling_session, "bf_q"}});
    if (!bf.is_ok()) return die("backfill rule", bf.status());
    rule_list.push_back(std::move(bf).value());
  }
  rules.replace(std::move(rule_list));
  if (backfill_rule) rules.request_backfill("bf");
  route::BackfillOptions bo;
  if (args.count("backfill-per-step")) bo.traces_per_step = std::stoul(args["backfill-per-step"]);
  route::Router router(topics, rules, nullptr, bo);

  const bool eos = args.count("eos") != 0;
  std::unique_ptr<kafka::Producer> producer;
  if (!eos) {
    kafka::ProducerOptions po;
    po.client = client;
    auto p = kafka::Producer::create(po);
    if (!p.is_ok()) return die("producer", p.status());
    producer = std::move(p).value();
  }

  join::JoinProcessorOptions jo;
  jo.topics = topics;
  jo.cluster_id = *cluster;
  if (args.count("group")) jo.group_id = args["group"];
  jo.exactly_once = eos;
  jo.instance_id = args["instance"];
  if (args.count("max-batch")) jo.max_batch = std::stoul(args["max-batch"]);
  if (args.count("strategy")) jo.assignment_strategy = args["strategy"];
  if (args.count("crash")) {
    const std::string spec = args["crash"];
    const auto colon = spec.find(':');
    std::string point = spec.substr(0, colon);
    const bool backfill = point.rfind("backfill_", 0) == 0;
    if (backfill) point = point.substr(9);
    const int at = colon == std::string::npos ? 1 : std::stoi(spec.substr(colon + 1));
    join::CommitPoint target = point == "outputs_sent"            ? join::CommitPoint::outputs_sent
                               : point == "transaction_committed" ? join::CommitPoint::transaction_committed
                                                                  : join::CommitPoint::state_written;
    // Only batches that had outputs count: a crash there is the one that can lose or repeat.
    auto count = std::make_shared<std::atomic<int>>(0);
    auto hook = [target, at, count, spec](join::CommitPoint p, size_t records, size_t outputs) {
      if (p == target && outputs > 0 && ++*count == at) {
        std::fprintf(stderr, "join_worker: crashing at %s (a batch of %zu records, %zu outputs)\n", spec.c_str(),
                     records, outputs);
        ::raise(SIGKILL);
      }
    };
    (backfill ? jo.backfill_fault_hook : jo.fault_hook) = hook;
  }
  join::JoinProcessor processor(jo, client, **store, producer.get(), &router, clock);
  const auto t_start = std::chrono::steady_clock::now();
  if (Status s = processor.start(); !s.is_ok()) return die("start", s);
  spdlog::info("join_worker: JoinProcessor::start took {} ms", ms_since(t_start));
  const auto start_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  spdlog::info("join_worker: started in {} ms", start_ms);

  const std::string progress = args["progress"];
  const timespec tick{0, 10'000'000};
  int exit_code = 0;
  for (;;) {
    if (sigtimedwait(&stop_signals, nullptr, &tick) > 0) break;
    if (Status e = processor.last_error(); !e.is_ok()) {
      std::fprintf(stderr, "join_worker: processor stopped: %s\n", e.to_string().c_str());
      exit_code = 3;
      break;
    }
    int64_t consumed = 0;
    if (auto offsets = (*store)->stored_offsets(*cluster); offsets.is_ok()) {
      for (const auto& [tp, next] : *offsets) {
        if (tp.topic == topics.traces || tp.topic == topics.assessments) consumed += next;
      }
    }
    const auto& st = processor.stats();
    int backfill_done = 0;
    if (backfill_rule) {
      auto bp = route::read_backfill_progress(**store, "bf");
      backfill_done = bp.is_ok() && bp->has_value() && (*bp)->done ? 1 : 0;
    }
    const auto uptime_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    {
      std::ofstream f(progress + ".tmp", std::ios::trunc);
      f << "consumed=" << consumed << " batches=" << st.batches << " replayed=" << st.replayed
        << " suppressed=" << st.suppressed_outputs << " transactions=" << st.transactions
        << " aborted=" << st.aborted_transactions << " routed=" << st.routed_outputs << " start_ms=" << start_ms
        << " uptime_ms=" << uptime_ms << " backfill_steps=" << st.backfill_steps
        << " backfill_outputs=" << st.backfill_outputs << " backfill_done=" << backfill_done << "\n";
    }
    std::rename((progress + ".tmp").c_str(), progress.c_str());
  }
  processor.stop();
  if (producer) (void)producer->close();
  if (Status s = (*store)->close(); !s.is_ok()) return die("store close", s);
  return exit_code;
}
