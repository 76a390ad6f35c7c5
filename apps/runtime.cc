#include "apps/runtime.h"

#include <prometheus/histogram.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "apps/lag_monitor.h"
#include "core/json_writer.h"
#include "metrics/consumer_lag.h"
#include "processors/evaluate/evaluator.h"
#include "processors/evaluate/record.h"
#include "processors/evaluate/scorers.h"
#include "processors/evaluate/sources.h"
#include "sinks/metrics/eval_scores.h"
#include "http/server.h"
#include "metrics/exposition.h"
#include "metrics/metrics.h"
#include "sinks/metrics/feedback_metrics.h"
#include "kafka/admin.h"
#include "kafka/embedded_broker.h"
#include "kafka/producer.h"
#include "processors/join/join_processor.h"
#include "producers/gateway/gateway.h"
#include "producers/otlp/otlp_routes.h"
#include "producers/publish/kafka_event_sink.h"
#include "processors/join/trace_reader.h"
#include "processors/query/read_api.h"
#include "processors/route/router.h"
#include "processors/route/rules_api.h"
#include "processors/route/webhook.h"
#include "sinks/eval/dataset_api.h"
#include "sinks/eval/dataset_store.h"
#include "sinks/eval/eval_sink.h"
#include "processors/filter/filter.h"
#include "sinks/labeling/labeling_api.h"
#include "sinks/labeling/labeling_service.h"
#include "sinks/labeling/mlflow_label_schema_api.h"
#include "sinks/labeling/review_consumer.h"
#include "state/store.h"
#include "state/write_batch.h"

namespace tracefeed::apps {
namespace {

constexpr auto kAdminTimeout = std::chrono::seconds(15);
constexpr std::string_view kMetaClusterId = "kafka.cluster_id";

}  // namespace

std::vector<config::ConfigError> compile_config_rules(const config::Config& config, std::vector<route::Rule>* out) {
  std::vector<config::ConfigError> errors;
  for (size_t i = 0; i < config.rules.size(); ++i) {
    const auto& r = config.rules[i];
    std::vector<route::RuleAction> actions;
    for (const auto& a : r.actions) {
      route::RuleAction ra;
      ra.kind = a.kind == config::ActionKind::eval      ? route::RuleAction::Kind::eval
                : a.kind == config::ActionKind::webhook ? route::RuleAction::Kind::webhook
                                                        : route::RuleAction::Kind::labeling_session;
      ra.target = a.target;
      actions.push_back(std::move(ra));
    }
    filter::ErrorPosition pos;
    if (auto f = filter::parse_filter(r.filter, &pos); !f.is_ok()) {
      config::Mark mark = r.filter_mark;
      if (mark.known()) {
        mark.column = pos.line == 1 ? mark.column + pos.column - 1 : pos.column;
        mark.line += pos.line - 1;
      }
      errors.push_back({config.source, mark, "rules[" + std::to_string(i) + "].filter", route::filter_error_detail(f.status())});
      continue;
    }
    auto rule = route::compile_rule(r.name, r.filter, r.sample_rate, r.priority, r.backfill, std::move(actions));
    if (!rule.is_ok()) {
      errors.push_back({config.source, r.filter_mark, "rules[" + std::to_string(i) + "]", rule.status().message()});
      continue;
    }
    if (out) out->push_back(std::move(rule).value());
  }
  return errors;
}

namespace {

// config::ScorerConfig → evaluate::ScorerSpec, canonical (aliases, defaults) and checked.
Result<evaluate::ScorerSpec> scorer_spec(const config::ScorerConfig& c, const std::string& path) {
  evaluate::ScorerSpec spec;
  spec.name = c.name;
  spec.type = c.type;
  spec.guidelines = c.guidelines;
  spec.url = c.url;
  return evaluate::normalize_scorer_spec(std::move(spec), path);
}

// Trace ids of a labeling session's items (id or name), optionally of one status, in arrival order.
Result<std::vector<std::string>> session_trace_ids(const labeling::LabelingService& service, std::string_view ref,
                                                   std::optional<labeling::ItemStatus> status) {
  std::vector<std::string> ids;
  for (uint64_t from = 1;;) {
    TF_ASSIGN_OR_RETURN(labeling::ItemPage page, service.list_items(ref, status, from, 1000));
    for (const auto& [item, item_status] : page.items) ids.push_back(item.trace_id);
    if (page.next_seq == 0) return ids;
    from = page.next_seq;
  }
}

}  // namespace

std::vector<config::ConfigError> check_config_evaluation(const config::Config& config) {
  std::vector<config::ConfigError> errors;
  const auto& rules = config.evaluation.rules;
  for (size_t i = 0; i < rules.size(); ++i) {
    for (size_t j = 0; j < rules[i].scorers.size(); ++j) {
      const std::string path = "evaluation.rules[" + std::to_string(i) + "].scorers[" + std::to_string(j) + "]";
      if (auto spec = scorer_spec(rules[i].scorers[j], path); !spec.is_ok()) {
        errors.push_back({config.source, rules[i].scorers[j].mark, path, spec.status().message()});
      }
    }
  }
  return errors;
}

std::string Roles::to_string() const {
  if (gateway && process && labeling) return "all roles";
  std::string out;
  for (auto [on, name] : {std::pair{gateway, "gateway"}, {process, "process"}, {labeling, "labeling"}}) {
    if (on) out += (out.empty() ? "" : " + ") + std::string(name);
  }
  return out.empty() ? "no role" : out;
}

Runtime::Runtime(Clock& clock, Roles roles) : _clock(clock), _roles(roles) {}

Runtime::~Runtime() { stop(); }

Result<std::unique_ptr<Runtime>> Runtime::start(const config::Config& config, Clock& clock, Roles roles) {
  if (!roles.gateway && !roles.process && !roles.labeling) return Status::invalid_argument("no role to run");
  std::unique_ptr<Runtime> rt(new Runtime(clock, roles));
  if (Status s = rt->start_all(config); !s.is_ok()) {
    rt->stop();
    return s;
  }
  return rt;
}

Status Runtime::start_all(const config::Config& config) {
  _topics = Topics::with_prefix(config.kafka.topic_prefix);
  _metrics = std::make_unique<metrics::Metrics>(config.metrics);
  TF_RETURN_IF_ERROR(start_kafka(config));
  if (_roles.process || _roles.labeling) TF_RETURN_IF_ERROR(start_state(config));
  if (_roles.process) TF_RETURN_IF_ERROR(start_processors(config));
  if (_roles.labeling) TF_RETURN_IF_ERROR(start_labeling(config));
  if (_roles.process) TF_RETURN_IF_ERROR(start_evaluation(config));
  if (_roles.process || _roles.labeling) TF_RETURN_IF_ERROR(start_lag_monitor());
  TF_RETURN_IF_ERROR(start_http(config));
  _started = true;
  return Status::ok();
}

Status Runtime::start_kafka(const config::Config& config) {
  const auto& k = config.kafka;
  if (k.is_embedded()) {
    if (k.exactly_once) {
      // The mock cluster's transactions are no-ops (aborted messages stay visible): exactly-once
      // there would be a claim without substance.
      return Status::invalid_argument(
          "kafka.exactly_once: needs a real Kafka cluster (kafka.brokers), not the embedded broker");
    }
    TF_ASSIGN_OR_RETURN(_broker, kafka::EmbeddedBroker::start());
    _bootstrap = _broker->bootstrap_servers();
    spdlog::warn(
        "kafka: embedded broker (librdkafka mock cluster) at {} — for trying tracefeed on one machine: its "
        "log is in memory, lost on exit, and keeps only ~5 MiB per partition. Set kafka.brokers for production.",
        _bootstrap);
    for (const auto& topic : _topics.all()) {
      TF_RETURN_IF_ERROR(_broker->create_topic(topic, k.partitions, 1).with_context("kafka: create " + topic));
      _partitions[topic] = k.partitions;
    }
  } else {
    _bootstrap = k.brokers;
  }

  _client.brokers = _bootstrap;
  _client.properties = k.properties;
  for (const auto& [prop, env] : k.properties_env) {
    const char* v = std::getenv(env.c_str());
    if (!v) return Status::invalid_argument("kafka.properties_env." + prop + ": environment variable " + env + " is not set");
    _client.properties[prop] = v;
  }
  kafka::ClientOptions admin_client = _client;
  admin_client.client_id = "tracefeed-admin";
  TF_ASSIGN_OR_RETURN(_admin, kafka::Admin::create(admin_client));
  if (!_broker) {
    // Only the missing topics are created: another role (or an operator, or a cluster without
    // CreateTopics rights for us) may have made them already.
    std::vector<kafka::TopicSpec> specs;
    for (const auto& topic : _topics.all()) {
      auto parts = _admin->describe_topic_partitions(topic, kAdminTimeout);
      if (parts.is_ok()) {
        _partitions[topic] = *parts;
        continue;
      }
      if (parts.status().code() != ErrorCode::not_found) return parts.status().with_context("kafka: describe " + topic);
      specs.push_back({topic, k.partitions, k.replication_factor, {}});
      _partitions[topic] = k.partitions;
    }
    TF_RETURN_IF_ERROR(_admin->create_topics(specs, kAdminTimeout).with_context("kafka: create topics"));
  }
  // traces and assessments must be co-partitioned: a trace and its feedback meet in one
  // partition only when both topics have the same partition count.
  const int32_t trace_parts = _partitions.at(_topics.traces);
  const int32_t assess_parts = _partitions.at(_topics.assessments);
  if (trace_parts != assess_parts) {
    return Status::invalid_argument("kafka: " + _topics.traces + " has " + std::to_string(trace_parts) +
                                    " partitions but " + _topics.assessments + " has " + std::to_string(assess_parts) +
                                    "; they must match so a trace and its feedback meet in one partition");
  }
  TF_ASSIGN_OR_RETURN(_cluster_id, _admin->cluster_id(kAdminTimeout));
  // Each embedded start is a new, empty log: key stored offsets by its own id (log_id), so an
  // earlier one's offsets are never applied to it.
  if (_broker) _cluster_id = _broker->log_id();
  spdlog::info("kafka: cluster {} at {}, {} partitions per topic", _cluster_id, _bootstrap, trace_parts);
  kafka::ProducerOptions po;
  po.client = _client;
  po.client.client_id = "tracefeed-producer";
  TF_ASSIGN_OR_RETURN(_producer, kafka::Producer::create(po));
  return Status::ok();
}

Status Runtime::start_state(const config::Config& config) {
  state::StoreOptions options;
  options.path = config.state.dir;
  options.memory_budget_bytes = config.state.memory_budget_bytes;
  TF_ASSIGN_OR_RETURN(_store, state::Store::open(options, _clock));
  // Offsets are stored per cluster id: a new cluster (e.g. a restarted embedded broker) starts
  // from its own beginning and is never confused with the old one.
  TF_ASSIGN_OR_RETURN(auto previous, _store->get(state::Family::meta, kMetaClusterId));
  if (previous && *previous != _cluster_id) {
    spdlog::warn("state: Kafka cluster changed from {} to {}; offsets of the old cluster are not used",
                 *previous, _cluster_id);
  }
  state::WriteBatch batch(*_store);
  batch.put(state::Family::meta, kMetaClusterId, _cluster_id);
  TF_RETURN_IF_ERROR(_store->write(batch));
  TF_ASSIGN_OR_RETURN(auto bytes, _metrics->add_source(metrics::names::state_bytes,
                                                       [store = _store.get()](std::vector<metrics::Sample>& out) {
                                                         if (auto b = store->approximate_bytes(); b.is_ok()) {
                                                           out.push_back({{}, static_cast<double>(*b)});
                                                         }
                                                       }));
  _metric_sources.push_back(std::move(bytes));
  spdlog::info("state: RocksDB at {} (memory budget {} MiB)", config.state.dir, config.state.memory_budget_bytes >> 20);
  return Status::ok();
}

Status Runtime::start_processors(const config::Config& config) {
  std::vector<route::Rule> rules;
  if (auto errors = compile_config_rules(config, &rules); !errors.empty()) return config::errors_to_status(errors);
  _rules = std::make_unique<route::RuleSet>();
  _registry = std::make_unique<route::RulesRegistry>(*_store, *_rules, std::move(rules));
  TF_RETURN_IF_ERROR(_registry->load());
  // Webhook actions: the join's batch writes an outbox entry; the dispatcher delivers it after
  // commit (at-least-once, bounded retries, then a `failed` decision).
  _webhooks = std::make_unique<route::WebhookDispatcher>(*_store, _clock, route::WebhookOptions{});
  TF_RETURN_IF_ERROR(_webhooks->start().with_context("webhooks"));
  _router = std::make_unique<route::Router>(_topics, *_rules, _webhooks.get());

  _datasets = std::make_unique<eval::DatasetStore>(*_store, _clock);
  TF_RETURN_IF_ERROR(_datasets->load().with_context("datasets"));

  join::JoinProcessorOptions jo;
  jo.topics = _topics;
  jo.cluster_id = _cluster_id;
  jo.exactly_once = config.kafka.exactly_once;
  jo.instance_id = config.kafka.instance_id;
  jo.orphan_timeout = config.join.orphan_timeout;
  jo.max_input_skew = config.join.max_input_skew;
  TF_ASSIGN_OR_RETURN(_feedback_metrics, quality::FeedbackMetrics::create(*_metrics, _clock));
  jo.on_assessment_change = [fm = _feedback_metrics.get()](const Assessment* before, const Assessment* after) {
    fm->on_assessment_applied(before, after);
  };
  // Dataset records follow their traces: the join's batch marks touched members dirty (in the
  // same write) and the eval sink rebuilds them into a new version.
  jo.write_batch = [d = _datasets.get()](state::WriteBatch& batch, std::span<const std::string_view> touched) {
    return d->write_join_batch(batch, touched);
  };
  if (!jo.exactly_once) {
    kafka::ProducerOptions po;
    po.client = _client;
    po.client.client_id = "tracefeed-join-out";
    po.linger_ms = 0;
    TF_ASSIGN_OR_RETURN(_join_producer, kafka::Producer::create(po));
  }
  _join = std::make_unique<join::JoinProcessor>(jo, _client, *_store, _join_producer.get(), _router.get(), _clock);
  TF_RETURN_IF_ERROR(_join->start().with_context("join"));
  TF_ASSIGN_OR_RETURN(auto pending,
                      _metrics->add_source(metrics::names::join_pending_assessments,
                                           [j = _join.get()](std::vector<metrics::Sample>& out) {
                                             out.push_back({{}, static_cast<double>(j->stats().pending_assessments.load(
                                                                    std::memory_order_relaxed))});
                                           }));
  _metric_sources.push_back(std::move(pending));
  TF_ASSIGN_OR_RETURN(auto orphaned,
                      _metrics->add_source(metrics::names::join_orphaned_assessments_total,
                                           [j = _join.get()](std::vector<metrics::Sample>& out) {
                                             out.push_back({{}, static_cast<double>(j->stats().orphaned_assessments.load(
                                                                    std::memory_order_relaxed))});
                                           }));
  _metric_sources.push_back(std::move(orphaned));
  _reader = std::make_unique<join::TraceReader>(*_store);

  eval::EvalSinkOptions eo;
  eo.topic = _topics.eval;
  eo.dead_letter_topic = _topics.dead_letter;
  eo.cluster_id = _cluster_id;
  _eval_sink = std::make_unique<eval::EvalSink>(eo, _client, *_datasets, *_store, _producer.get(), _clock);
  TF_RETURN_IF_ERROR(_eval_sink->start().with_context("eval sink"));
  spdlog::info("join: consuming {} and {} (group {}), {} rules, {}", _topics.traces, _topics.assessments, jo.group_id,
               _rules->snapshot()->size(),
               jo.exactly_once ? "exactly-once (outputs and offsets in Kafka transactions)" : "at-least-once");
  return Status::ok();
}

Status Runtime::start_labeling(const config::Config& config) {
  // Reviewers' labels become assessments through the same idempotent, acknowledged sink as the
  // gateway's writes (its dedup window makes a retried submit produce nothing twice).
  _label_sink = std::make_unique<publish::KafkaEventSink>(*_producer, _topics, _clock, publish::KafkaEventSinkOptions{});
  labeling::LabelingOptions lo;
  lo.review_app_base_url = [this] { return http_base_url(); };
  if (_reader) {
    // POST /api/v1/labeling-sessions/{id}/items {"filter": ...}: the search grammar over stored traces.
    lo.search = [reader = _reader.get()](std::string_view text, size_t max) -> Result<std::vector<std::string>> {
      TF_ASSIGN_OR_RETURN(filter::Filter f, filter::parse_filter(text));
      std::vector<std::string> ids;
      TF_RETURN_IF_ERROR(reader->for_each([&](Trace&& t) {
        if (f.matches(t)) ids.push_back(t.trace_info.trace_id);
        return ids.size() < max;
      }));
      return ids;
    };
  }
  // tracefeed_route_latency_seconds: feedback event time → the trace claimable.
  lo.on_routed = [m = _metrics.get()](std::string_view, int64_t latency_ns) {
    m->route_latency().Observe(static_cast<double>(latency_ns) / 1e9);
  };
  // Continuous evaluation: a completed item goes to the evaluator's rules (when this process
  // runs them; the evaluator is created after the labeling service, before any HTTP request).
  lo.on_item_completed = [this](const labeling::CompletedItemInfo& item) {
    if (!_evaluator) return;
    evaluate::CompletedItem c{item.session_id, item.session_name, item.trace_id, item.assessment_ids};
    if (Status s = _evaluator->item_completed(std::move(c)); !s.is_ok()) {
      spdlog::warn("evaluation: item {} of {} not scored: {}", item.trace_id, item.session_name, s.to_string());
    }
  };
  _labeling = std::make_unique<labeling::LabelingService>(*_store, *_label_sink, _clock, std::move(lo));
  TF_RETURN_IF_ERROR(_labeling->load(config.label_schemas, config.labeling_sessions).with_context("labeling"));
  labeling::ReviewConsumerOptions ro;
  ro.topic = _topics.review;
  ro.cluster_id = _cluster_id;
  ro.dead_letter = [sink = _label_sink.get()](std::string_view reason, const Status& error, std::string_view raw) {
    sink->dead_letter(reason, error, raw);
  };
  _review_consumer = std::make_unique<labeling::ReviewConsumer>(ro, _client, *_store, *_labeling);
  TF_RETURN_IF_ERROR(_review_consumer->start().with_context("labeling"));
  // Queue figures at scrape time, from the service's memory (reviews from its stored progress,
  // so the counter survives restarts).
  auto add = [this](std::string_view family, metrics::SampleSource source) -> Status {
    TF_ASSIGN_OR_RETURN(auto reg, _metrics->add_source(family, std::move(source)));
    _metric_sources.push_back(std::move(reg));
    return Status::ok();
  };
  labeling::LabelingService* l = _labeling.get();
  TF_RETURN_IF_ERROR(add(metrics::names::review_queue_depth, [l](std::vector<metrics::Sample>& out) {
    for (const auto& m : l->session_metrics()) out.push_back({{m.session}, static_cast<double>(m.counts.pending)});
  }));
  TF_RETURN_IF_ERROR(add(metrics::names::review_item_age_seconds, [l](std::vector<metrics::Sample>& out) {
    for (const auto& m : l->session_metrics()) out.push_back({{m.session}, m.oldest_pending_age_seconds});
  }));
  TF_RETURN_IF_ERROR(add(metrics::names::reviews_completed_total, [l](std::vector<metrics::Sample>& out) {
    for (const auto& m : l->session_metrics()) {
      for (const auto& [reviewer, p] : m.reviewers) out.push_back({{m.session, reviewer}, static_cast<double>(p.reviewed)});
    }
  }));
  TF_RETURN_IF_ERROR(add(metrics::names::label_agreement, [l](std::vector<metrics::Sample>& out) {
    for (const auto& a : l->agreement()) {
      if (a.agreement.items > 0) out.push_back({{a.session, a.schema}, a.agreement.observed_agreement});
    }
  }));
  spdlog::info("labeling: consuming {} (group {}), {} sessions", _topics.review, ro.group_id,
               _labeling->list_sessions().size());
  return Status::ok();
}

Status Runtime::start_evaluation(const config::Config& config) {
  const config::EvaluationOptions& c = config.evaluation;
  if (auto errors = check_config_evaluation(config); !errors.empty()) return config::errors_to_status(errors);
  evaluate::EvaluatorOptions eo;
  if (c.judge.enabled) eo.judge.base_url = c.judge.base_url;
  eo.judge.model = c.judge.model;
  eo.judge.api_key_env = c.judge.api_key_env;
  eo.judge.timeout = c.judge.timeout;
  eo.judge.max_retries = c.judge.max_retries;
  eo.judge.max_concurrency = c.judge.max_concurrency;
  eo.judge.cache_entries = static_cast<size_t>(c.judge.cache_entries);
  eo.judge.ca_cert_file = c.judge.ca_cert_file;
  eo.prompts_dir = c.prompts_dir;
  eo.scoring.correctness_recall_threshold = c.correctness_recall_threshold;
  eo.scoring.fact_token_threshold = c.fact_token_threshold;
  for (auto [limits, out] : {std::pair{&c.predict, &eo.predict}, {&c.http_scorer, &eo.http_scorer}}) {
    out->timeout = limits->timeout;
    out->max_retries = limits->max_retries;
    out->max_concurrency = limits->max_concurrency;
  }
  eo.max_concurrent_runs = c.max_concurrent_runs;
  eo.record_concurrency = c.record_concurrency;
  eo.max_queued_runs = static_cast<size_t>(c.max_queued_runs);
  eo.max_records = static_cast<size_t>(c.max_records);
  eo.score_window = static_cast<size_t>(c.score_window);
  eo.label_wait = c.label_wait;
  for (size_t i = 0; i < c.rules.size(); ++i) {
    evaluate::ContinuousRule rule{c.rules[i].name, c.rules[i].labeling_session, {}};
    for (size_t j = 0; j < c.rules[i].scorers.size(); ++j) {
      TF_ASSIGN_OR_RETURN(auto spec, scorer_spec(c.rules[i].scorers[j], "evaluation.rules[" + std::to_string(i) +
                                                                          "].scorers[" + std::to_string(j) + "]"));
      rule.scorers.push_back(std::move(spec));
    }
    eo.rules.push_back(std::move(rule));
  }

  evaluate::EvaluatorSources sources;
  sources.get_trace = evaluate::reader_trace_getter(*_reader);
  sources.search = evaluate::reader_searcher(*_reader, eo.max_records);
  if (_labeling) {
    // Every item of the session, whatever its status (mlflow.search_traces(run_id=session run)).
    sources.session_traces = [l = _labeling.get()](const std::string& ref) {
      return session_trace_ids(*l, ref, std::nullopt);
    };
  }
  sources.dataset_records = [d = _datasets.get()](const std::string& name, std::optional<int64_t> version)
      -> Result<std::vector<evaluate::EvalRecord>> {
    std::vector<evaluate::EvalRecord> records;
    std::optional<int64_t> seq = 0;
    std::string text;
    while (seq) {
      text.clear();
      TF_ASSIGN_OR_RETURN(auto page, d->read_records(name, version, *seq, 1000, 4 << 20, text));
      version = page.version;  // every page from the version the first one read
      size_t start = 0;
      while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        if (end > start) {
          TF_ASSIGN_OR_RETURN(auto r, evaluate::record_from_dataset_line(std::string_view(text).substr(start, end - start)));
          records.push_back(std::move(r));
        }
        start = end + 1;
      }
      seq = page.next_seq;
    }
    return records;
  };

  quality::EvalScoresOptions so;
  so.window = eo.score_window;
  TF_ASSIGN_OR_RETURN(_eval_scores, quality::EvalScores::create(*_metrics, so));
  evaluate::EvaluatorHooks hooks;
  hooks.on_score = [e = _eval_scores.get()](std::string_view scorer, double value) { e->record(scorer, value); };
  // Scores become assessments through the same acknowledged, deduplicating sink as every write.
  _score_sink = std::make_unique<publish::KafkaEventSink>(*_producer, _topics, _clock, publish::KafkaEventSinkOptions{});
  _evaluator = std::make_unique<evaluate::Evaluator>(std::move(eo), std::move(sources), std::move(hooks), *_store,
                                                     *_score_sink, _clock);
  TF_RETURN_IF_ERROR(_evaluator->start().with_context("evaluation"));
  if (!_labeling && !c.rules.empty()) {
    // Completed items are reported in-process by the labeling service (on_item_completed).
    spdlog::warn("evaluation.rules: continuous rules score the items the labeling role completes in this process; "
                 "this process runs {} only, so they do not run here (run both roles in one process: `tracefeed run`)",
                 _roles.to_string());
  } else {
    spdlog::info("evaluation: {} continuous rules", c.rules.size());
  }
  return Status::ok();
}

Status Runtime::start_lag_monitor() {
  _lag = std::make_unique<metrics::ConsumerLagTable>();
  TF_ASSIGN_OR_RETURN(auto reg, _lag->register_source(*_metrics));
  _metric_sources.push_back(std::move(reg));
  LagMonitorOptions options;
  // Partition counts as start_kafka found or made them.
  auto topic = [this](const std::string& name) { return LagTopic{name, _partitions.at(name)}; };
  if (_join) {
    options.groups.push_back(
        {join::JoinProcessorOptions{}.group_id, {topic(_topics.traces), topic(_topics.assessments)}});
  }
  if (_eval_sink) options.groups.push_back({eval::EvalSinkOptions{}.group_id, {topic(_topics.eval)}});
  if (_review_consumer) {
    options.groups.push_back({labeling::ReviewConsumerOptions{}.group_id, {topic(_topics.review)}});
  }
  _lag_monitor = std::make_unique<LagMonitor>(std::move(options), _client, *_lag);
  return _lag_monitor->start().with_context("lag monitor");
}

Status Runtime::start_http(const config::Config& config) {
  http::ServerOptions options;
  options.listen = config.http.listen;
  options.body_limit_bytes = config.http.body_limit_bytes;
  options.threads = config.http.threads;
  for (const auto& t : config.http.auth_tokens) options.auth_tokens.push_back({t.user, t.token, t.token_env});
  _http = std::make_unique<http::Server>(options);
  _http->route("GET", "/healthz", [](const http::Request&, http::Response& res) {
    res.json(200, R"({"status":"ok"})");
  });
  _http->route("GET", "/readyz", [this](const http::Request&, http::Response& res) {
    if (ready()) {
      res.json(200, R"({"status":"ready"})");
    } else {
      http::write_error(res, Status::unavailable("not ready: Kafka unreachable or still starting"));
    }
  });
  if (_roles.gateway) {
    _sink = std::make_unique<publish::KafkaEventSink>(*_producer, _topics, _clock, publish::KafkaEventSinkOptions{},
                                                      _metrics.get());
    // UpdateAssessment answers with the full stored assessment where this process runs the join
    // (a gateway-only process answers with the updated fields).
    gateway::AssessmentLookup lookup;
    if (_reader) {
      lookup = [reader = _reader.get()](std::string_view trace_id, std::string_view assessment_id) {
        return reader->get_assessment(trace_id, assessment_id);
      };
    }
    _gateway = std::make_unique<gateway::Gateway>(gateway::GatewayOptions{}, *_sink, _clock, _sink.get(), std::move(lookup));
    _gateway->register_routes(*_http);
    otlp::register_otlp_routes(*_http, *_sink, otlp::OtlpOptions{});
  }
  if (_labeling) {
    labeling::register_labeling_routes(*_http, *_labeling);
    // mlflow.genai.label_schemas.* on a non-Databricks tracking URI (MLflow 3.14+).
    labeling::register_mlflow_label_schema_routes(*_http, *_labeling);
    // MLflow's GetRun for a session's run: mlflow.search_traces(run_id=...) checks the run's
    // experiment before it searches ("Labeling Sessions are MLflow Runs").
    _http->route("GET", "/api/2.0/mlflow/runs/get", [l = _labeling.get()](const http::Request& req, http::Response& res) {
      std::string_view id = req.query_param("run_id");
      if (id.empty()) id = req.query_param("run_uuid");
      auto run = l->find_run(id);
      if (!run) {
        return http::write_error(res, Status::not_found("run " + std::string(id) + " not found (runs here are labeling sessions)"));
      }
      std::string body;
      JsonWriter w(body);
      labeling::write_mlflow_run_json(w, *run);
      res.json(200, std::move(body));
    });
  }
  if (_roles.process) {
    query::ReadApiOptions read_options;
    if (_labeling) {
      // mlflow.search_traces(run_id=session.mlflow_run_id): a labeling session is a run.
      read_options.run_members = [l = _labeling.get()](std::string_view run_id) { return l->traces_of_run(run_id); };
    }
    query::register_read_routes(*_http, *_reader, *_store, read_options);
    _registry->register_routes(*_http);
    eval::DatasetApiOptions dataset_options;
    if (_labeling) {
      // POST /api/v1/datasets/{name}/records {"labeling_session_id"}: the session's completed items.
      dataset_options.session_traces = [l = _labeling.get()](std::string_view id) {
        return session_trace_ids(*l, id, labeling::ItemStatus::completed);
      };
    }
    eval::register_dataset_routes(*_http, *_datasets, dataset_options);
    _evaluator->register_routes(*_http);
  }
  if (config.metrics.enabled) metrics::register_metrics_route(*_http, *_metrics, config.metrics.path);
  mount_ui();
  TF_RETURN_IF_ERROR(_http->start());
  spdlog::info("http: listening on {} ({})", _http->base_url(), _roles.to_string());
  return Status::ok();
}

void Runtime::mount_ui() {
  std::string dir;
  if (const char* env = std::getenv("TRACEFEED_UI_DIR"); env && *env) {
    dir = env;
  } else {
#ifdef TRACEFEED_UI_DIR
    dir = TRACEFEED_UI_DIR;
#endif
  }
  if (!dir.empty() && std::filesystem::exists(std::filesystem::path(dir) / "index.html")) {
    if (Status s = _http->mount_static("/", dir); s.is_ok()) {
      spdlog::info("http: web UI from {}", dir);
      return;
    }
  }
  // Say so rather than 404: the API works without the UI.
  spdlog::warn("http: no web UI found (built by `make build` into build/ui; TRACEFEED_UI_DIR overrides)");
  _http->route("GET", "/", [](const http::Request&, http::Response& res) {
    res.json(404, R"({"error_code":"NOT_FOUND","message":"the web UI is not built: run `make build` (needs Node.js and npm), or set TRACEFEED_UI_DIR"})");
  });
}

bool Runtime::ready() {
  if (!_started) return false;
  // Probe the broker at most once a second; readiness probes come often.
  const int64_t now = _clock.monotonic_ns();
  if (now - _last_ready_check_ns.load() < 1'000'000'000) return _last_ready.load();
  _last_ready_check_ns = now;
  // A join that stopped on a fatal error (e.g. fenced by another instance in exactly-once mode)
  // no longer processes: say so.
  if (_join && !_join->last_error().is_ok()) return false;
  const bool ok = _admin && _admin->cluster_id(std::chrono::seconds(2)).is_ok() &&
                  (_store || !(_roles.process || _roles.labeling));
  _last_ready = ok;
  return ok;
}

std::string Runtime::http_base_url() const { return _http ? _http->base_url() : std::string(); }

void Runtime::stop() {
  _started = false;
  if (_http) {
    _http->stop();
    _http.reset();
  }
  // No new work: HTTP is down; continuous rules get no more items.
  if (_evaluator) _evaluator->stop();
  _metric_sources.clear();  // before what the sources read
  if (_lag_monitor) {
    _lag_monitor->stop();
    _lag_monitor.reset();
  }
  _lag.reset();
  _gateway.reset();
  _sink.reset();
  // Before the producer and the store it writes to.
  if (_review_consumer) {
    _review_consumer->stop();
    _review_consumer.reset();
  }
  _evaluator.reset();
  _score_sink.reset();
  _eval_scores.reset();
  _labeling.reset();
  _label_sink.reset();
  if (_eval_sink) {
    _eval_sink->stop();
    _eval_sink.reset();
  }
  if (_join) {
    _join->stop();
    _join.reset();
  }
  if (_join_producer) {
    if (Status s = _join_producer->close(std::chrono::seconds(10)); !s.is_ok()) {
      spdlog::error("kafka: join producer close: {}", s.to_string());
    }
    _join_producer.reset();
  }
  if (_webhooks) {
    _webhooks->stop();
    _webhooks.reset();
  }
  _reader.reset();
  _datasets.reset();
  _feedback_metrics.reset();
  _router.reset();
  _registry.reset();
  _rules.reset();
  if (_producer) {
    if (Status s = _producer->close(std::chrono::seconds(10)); !s.is_ok()) {
      spdlog::error("kafka: producer close: {}", s.to_string());
    }
    _producer.reset();
  }
  if (_store) {
    if (Status s = _store->close(); !s.is_ok()) spdlog::error("state: close: {}", s.to_string());
    _store.reset();
  }
  _admin.reset();
  _broker.reset();
}

}  // namespace tracefeed::apps
