#pragma once
// The one wiring file: builds every component from a validated Config, starts them in
// dependency order and stops them in reverse. Libraries never construct their own
// dependencies; they get them here, through constructors.

#include <atomic>
#include "metrics/metrics.h"
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/result.h"
#include "core/topics.h"
#include "kafka/client_options.h"

namespace tracefeed::kafka {
class EmbeddedBroker;
class Admin;
class Producer;
}  // namespace tracefeed::kafka
namespace tracefeed::join {
class JoinProcessor;
class TraceReader;
}  // namespace tracefeed::join
namespace tracefeed::state {
class Store;
}
namespace tracefeed::http {
class Server;
}

namespace tracefeed::publish {
class KafkaEventSink;
}
namespace tracefeed::gateway {
class Gateway;
}
namespace tracefeed::route {
struct Rule;
class RuleSet;
class Router;
class RulesRegistry;
class WebhookDispatcher;
}  // namespace tracefeed::route

namespace tracefeed::metrics {
class Metrics;
class SourceRegistration;
}  // namespace tracefeed::metrics
namespace tracefeed::quality {
class FeedbackMetrics;
class EvalScores;
}
namespace tracefeed::metrics {
class ConsumerLagTable;
}
namespace tracefeed::evaluate {
class Evaluator;
}
namespace tracefeed::eval {
class DatasetStore;
class EvalSink;
}  // namespace tracefeed::eval
namespace tracefeed::labeling {
class LabelingService;
class ReviewConsumer;
}  // namespace tracefeed::labeling

namespace tracefeed::apps {

class LagMonitor;

// Compiles the config's continuous evaluation rules' scorers. A bad scorer is reported at its
// file:line:col.
[[nodiscard]] std::vector<config::ConfigError> check_config_evaluation(const config::Config& config);

// What one process runs. `tracefeed run` runs every role; `tracefeed gateway`, `tracefeed
// process` run one each so each scales on its own (PRODUCT.md §2).
//   gateway — ingestion over HTTP (native batch, MLflow-compatible writes, OTLP) → Kafka.
//   process — the join + route processors over RocksDB state, the evaluation-dataset sink, and
//             the APIs served from that state (MLflow-compatible reads and search, rules,
//             decisions, datasets).
// Every role serves /healthz and /readyz.
//   labeling — label schemas, labeling sessions and the Review App API over RocksDB state, fed
//             by the review topic (run one per cluster: it owns the review queues).
struct Roles {
  bool gateway = true;
  bool process = true;
  bool labeling = true;

  static Roles all() { return {}; }
  static Roles gateway_only() { return {.gateway = true, .process = false, .labeling = false}; }
  static Roles process_only() { return {.gateway = false, .process = true, .labeling = false}; }
  static Roles labeling_only() { return {.gateway = false, .process = false, .labeling = true}; }
  std::string to_string() const;
};

// Compiles the config's rules with the filter grammar. A bad filter is reported at its
// file:line:col (the config loader cannot parse filters: the grammar lives above it).
[[nodiscard]] std::vector<config::ConfigError> compile_config_rules(const config::Config& config,
                                                                    std::vector<route::Rule>* out);

class Runtime {
 public:
  // Starts every role of `tracefeed run`. On error, whatever was started is stopped again.
  [[nodiscard]] static Result<std::unique_ptr<Runtime>> start(const config::Config& config, Clock& clock,
                                                               Roles roles = Roles::all());
  ~Runtime();  // stop()
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Stops in reverse order of start: HTTP first (no new work), then the processors, then the
  // producer (flushed), then state (closed cleanly), then the embedded broker. Idempotent.
  void stop();

  const std::string& kafka_bootstrap() const noexcept { return _bootstrap; }
  const std::string& cluster_id() const noexcept { return _cluster_id; }
  std::string http_base_url() const;
  bool embedded() const noexcept { return _broker != nullptr; }
  const Topics& topics() const noexcept { return _topics; }
  const Roles& roles() const noexcept { return _roles; }
  join::JoinProcessor* join_processor() const noexcept { return _join.get(); }
  // Null unless the labeling role runs here.
  labeling::LabelingService* labeling_service() const noexcept { return _labeling.get(); }
  // Null unless the process role runs here.
  evaluate::Evaluator* evaluator() const noexcept { return _evaluator.get(); }
  metrics::Metrics& metrics() const noexcept { return *_metrics; }

 private:
  Runtime(Clock& clock, Roles roles);
  Status start_all(const config::Config& config);
  Status start_kafka(const config::Config& config);
  Status start_state(const config::Config& config);
  Status start_processors(const config::Config& config);
  Status start_labeling(const config::Config& config);
  Status start_evaluation(const config::Config& config);
  Status start_lag_monitor();
  Status start_http(const config::Config& config);
  // Serves the built web UI at "/" when it exists.
  void mount_ui();
  // Broker reachable (metadata within a short timeout) and state open.
  bool ready();

  Clock& _clock;
  Roles _roles;
  // First member, so it is destroyed last: every registered source is gone before it.
  std::unique_ptr<metrics::Metrics> _metrics;
  std::vector<metrics::SourceRegistration> _metric_sources;
  std::unique_ptr<quality::FeedbackMetrics> _feedback_metrics;  // fed by the join
  Topics _topics;
  std::string _bootstrap;
  std::string _cluster_id;
  std::map<std::string, int32_t> _partitions;  // partition count of every topic, from start_kafka
  std::unique_ptr<kafka::EmbeddedBroker> _broker;
  std::unique_ptr<kafka::Admin> _admin;
  std::unique_ptr<state::Store> _store;
  kafka::ClientOptions _client;
  std::unique_ptr<kafka::Producer> _producer;  // shared by the gateway and dead-lettering
  // The join's own at-least-once output producer: no linger (each batch waits for its outputs'
  // acknowledgement, so a linger is pure latency — 5 ms of it per batch tripled the p50 from
  // feedback to review record at 10,000 events/s). Exactly-once, the join owns a transactional one.
  std::unique_ptr<kafka::Producer> _join_producer;
  std::unique_ptr<join::JoinProcessor> _join;
  std::unique_ptr<join::TraceReader> _reader;
  std::unique_ptr<route::RuleSet> _rules;
  std::unique_ptr<route::Router> _router;
  std::unique_ptr<route::RulesRegistry> _registry;
  std::unique_ptr<route::WebhookDispatcher> _webhooks;
  std::unique_ptr<eval::DatasetStore> _datasets;  // outlives the join (its write hook points here)
  std::unique_ptr<eval::EvalSink> _eval_sink;
  std::unique_ptr<publish::KafkaEventSink> _sink;  // the gateway's EventSink over _producer
  std::unique_ptr<gateway::Gateway> _gateway;
  std::unique_ptr<publish::KafkaEventSink> _label_sink;  // reviewers' labels → assessments
  std::unique_ptr<labeling::LabelingService> _labeling;
  std::unique_ptr<labeling::ReviewConsumer> _review_consumer;
  std::unique_ptr<quality::EvalScores> _eval_scores;
  std::unique_ptr<publish::KafkaEventSink> _score_sink;  // evaluation scores → assessments
  std::unique_ptr<evaluate::Evaluator> _evaluator;
  std::unique_ptr<metrics::ConsumerLagTable> _lag;
  std::unique_ptr<LagMonitor> _lag_monitor;
  std::unique_ptr<http::Server> _http;
  std::atomic<bool> _started{false};
  std::atomic<int64_t> _last_ready_check_ns{0};
  std::atomic<bool> _last_ready{false};
};

}  // namespace tracefeed::apps
