#pragma once
// tracefeed's configuration: one YAML file turned into typed, validated option structs.
//
// Contract:
//   - Unknown keys, wrong types, out-of-range values, bad references and YAML syntax errors are
//     all errors; loading collects EVERY error before failing, each naming file:line:col (1-based)
//     and the key path, e.g.
//       config/tracefeed.yaml:12:18: rules[0].sample_rate: expected a number between 0 and 1,
//       got 1.5
//   - Absent keys take the defaults documented below (and in docs/configuration.md, which is
//     generated from the same key table the loader checks against: config/schema.h).
//   - Secrets are never expanded into the config: keys ending in `_env` name an environment
//     variable that the consuming module reads when it needs the value.
//
// Thread: loading is pure (no globals, no environment reads); call it from any thread.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.h"

namespace tracefeed::config {

// A position in a config source, 1-based. line == 0 means "no position" (e.g. unreadable file).
struct Mark {
  int line = 0;
  int column = 0;
  [[nodiscard]] bool known() const noexcept { return line > 0; }
  bool operator==(const Mark&) const = default;
};

// One problem found while loading a config.
struct ConfigError {
  std::string source;   // file path or the name passed to load_config_string
  Mark mark;            // where in `source`
  std::string path;     // key path, e.g. "rules[0].actions[1].webhook"; empty for file-level errors
  std::string message;  // what is wrong and what was expected

  // "source:line:col: path: message" (parts that are unknown are left out).
  [[nodiscard]] std::string to_string() const;
  bool operator==(const ConfigError&) const = default;
};

// Status (INVALID_PARAMETER_VALUE, or RESOURCE_DOES_NOT_EXIST for a missing file) whose message
// lists every error, one per line. Ok for an empty list.
[[nodiscard]] Status errors_to_status(const std::vector<ConfigError>& errors);

// ---------------------------------------------------------------------------------------------
// Sections. Every field documents its default where it is declared; the YAML key is the field
// name unless stated.

struct KafkaOptions {
  // "embedded" starts librdkafka's in-process mock cluster (volatile: for trying tracefeed on one
  // machine), otherwise a comma-separated bootstrap list "host:port,host:port".
  // Default: "embedded"
  std::string brokers = "embedded";
  // Prefix of every topic name (traces, assessments, review, eval, dead-letter, *-changelog).
  // Default: "tracefeed."
  std::string topic_prefix = "tracefeed.";
  // Partitions of every topic tracefeed creates; traces and assessments must match. 1..10000.
  // Default: 8
  int32_t partitions = 8;
  // Replication factor of the topics tracefeed creates. 1..32767 (must be 1 when embedded).
  // Default: 1
  int32_t replication_factor = 1;
  // Transactional (exactly-once) consume -> state -> produce in the processors.
  // Default: false
  bool exactly_once = false;
  // Stable name of this processor instance: the same across restarts, different for every live
  // instance (a StatefulSet pod name, "<host>-0"). Static group membership: after a crash the
  // restarted instance takes its partitions back at once. Default: "" (dynamic membership)
  std::string instance_id;
  // librdkafka properties passed through verbatim to every client (security.protocol, sasl.*,
  // ssl.*, ...). tracefeed-owned properties (bootstrap.servers, transactional.id, group.id,
  // enable.idempotence) are rejected.
  // Default: {}
  std::map<std::string, std::string> properties;
  // Like `properties`, but each value names an environment variable holding the value, read by
  // the kafka module when it creates a client (for sasl.password and other secrets).
  // YAML key: properties_env. Default: {}
  std::map<std::string, std::string> properties_env;

  [[nodiscard]] bool is_embedded() const noexcept { return brokers == "embedded"; }
  bool operator==(const KafkaOptions&) const = default;
};

struct JoinOptions {
  // Feedback still waiting for its trace this long after it was created is reported as orphaned
  // (tracefeed_join_orphaned_assessments_total and a decision record); it still joins if the
  // trace arrives later. 1s..30d. Default: 1h
  std::chrono::milliseconds orphan_timeout = std::chrono::hours(1);
  // While an assessments partition is read this far (record timestamps) ahead of the traces
  // partition of the same number, and that one is >= 1,000 records behind, it waits (event-time
  // alignment; JoinProcessorOptions::max_input_skew). 0 = off. 0..1h. Default: 20ms
  std::chrono::milliseconds max_input_skew{20};
  bool operator==(const JoinOptions&) const = default;
};

struct StateOptions {
  // Directory of the RocksDB state (one column family set per partition).
  // Default: "./data/tracefeed"
  std::string dir = "./data/tracefeed";
  // Total memory budget of the state store (block cache + memtables). YAML: a size such as
  // "512MiB". Range 16MiB..1TiB.
  // YAML key: memory_budget. Default: 512MiB
  uint64_t memory_budget_bytes = 512ull << 20;
  // Share of memory_budget given to the block cache; the rest goes to memtables. 0.1..0.9.
  // Default: 0.5
  double block_cache_share = 0.5;
  bool operator==(const StateOptions&) const = default;
};

// A bearer token accepted by the HTTP API, and the user it authenticates (reviewer name in the
// Review App, source_id of HUMAN assessments). Exactly one of `token` / `token_env` is set.
struct AuthToken {
  // Default: "" (required)
  std::string user;
  // The token itself (fine for tests; prefer token_env). Default: ""
  std::string token;
  // Name of the environment variable holding the token, read by the gateway at start.
  // Default: ""
  std::string token_env;
  bool operator==(const AuthToken&) const = default;
};

struct HttpOptions {
  // Listen address "host:port" (host: name, IPv4 or [IPv6]; port 0 = any free port).
  // Default: "127.0.0.1:8080"
  std::string listen = "127.0.0.1:8080";
  // Largest request body accepted; larger requests get 413. Range 1KiB..1GiB.
  // YAML key: body_limit. Default: 16MiB
  uint64_t body_limit_bytes = 16ull << 20;
  // HTTP worker threads (handlers mostly wait on Kafka acks). Range 1..256. Default: 16
  int32_t threads = 16;
  // Empty = no authentication (only sensible on loopback).
  // Default: []
  std::vector<AuthToken> auth_tokens;
  bool operator==(const HttpOptions&) const = default;
};

// ---- Label schemas (PRODUCT.md §3) -----------------------------------------------------------

enum class LabelSchemaType { feedback, expectation };
[[nodiscard]] std::string_view label_schema_type_name(LabelSchemaType type) noexcept;

struct CategoricalInput {
  std::vector<std::string> options;  // 1..100 unique, non-empty. Required.
  bool operator==(const CategoricalInput&) const = default;
};
struct CategoricalListInput {
  std::vector<std::string> options;  // 1..100 unique, non-empty. Required.
  bool operator==(const CategoricalListInput&) const = default;
};
struct TextInput {
  std::optional<int64_t> max_length;  // 1..1000000. Default: unset (unbounded)
  bool operator==(const TextInput&) const = default;
};
struct TextListInput {
  std::optional<int64_t> max_length_each;  // 1..1000000. Default: unset (unbounded)
  std::optional<int64_t> max_count;        // 1..1000. Default: unset (unbounded)
  bool operator==(const TextListInput&) const = default;
};
struct NumericInput {
  std::optional<double> min_value;  // Default: unset. min_value < max_value when both are set.
  std::optional<double> max_value;  // Default: unset.
  bool operator==(const NumericInput&) const = default;
};
struct PassFailInput {
  std::string positive_label = "Pass";  // Default: "Pass"
  std::string negative_label = "Fail";  // Default: "Fail" (must differ from positive_label)
  bool operator==(const PassFailInput&) const = default;
};
// YAML: `input: {categorical: {...}}` — exactly one kind.
using LabelInput = std::variant<CategoricalInput, CategoricalListInput, TextInput, TextListInput,
                                NumericInput, PassFailInput>;

struct LabelSchema {
  // Also the assessment name of every answer: non-empty, no '.', no '/'. Required, unique.
  std::string name;
  // Required.
  LabelSchemaType type = LabelSchemaType::feedback;
  // The question shown to the reviewer. Required.
  std::string title;
  // Default: ""
  std::string instruction;
  // Default: false
  bool enable_comment = false;
  // Required.
  LabelInput input;
  bool operator==(const LabelSchema&) const = default;
};

struct LabelingSession {
  // Non-empty, no '.', no '/'. Required, unique.
  std::string name;
  // Names of label schemas defined in `label_schemas`; at least one, unique. Required.
  std::vector<std::string> label_schemas;
  // Reviewers allowed to claim items; empty = anyone. Default: []
  std::vector<std::string> assigned_users;
  // Reviews each item needs before it is completed. 1..100. Default: 1
  int32_t reviews_per_item = 1;
  // How long a claim lasts before the item can be claimed by someone else. 10s..24h.
  // Default: 15m
  std::chrono::milliseconds lease_duration = std::chrono::minutes(15);
  bool operator==(const LabelingSession&) const = default;
};

// ---- Routing rules ---------------------------------------------------------------------------

enum class ActionKind { labeling_session, eval, webhook };
[[nodiscard]] std::string_view action_kind_name(ActionKind kind) noexcept;

// One of `labeling_session: NAME` (a session defined in this file), `eval: DATASET`,
// `webhook: URL` (http or https).
struct RuleAction {
  ActionKind kind = ActionKind::labeling_session;
  std::string target;  // session name, dataset name or URL
  bool operator==(const RuleAction&) const = default;
};

struct Rule {
  // Non-empty, no '.', no '/'. Required, unique.
  std::string name;
  // Filter in the search grammar (PRODUCT.md §5), parsed by processors/; kept verbatim here.
  // Required, non-empty.
  std::string filter;
  // Position of the first character of `filter` in the source, so the filter parser can report
  // "file:line:col" for an offset into the string: exact for single-line plain or quoted
  // scalars without escapes; for block scalars (| >) it is the position of the indicator.
  Mark filter_mark;
  // Fraction of matching traces routed (deterministic hash of trace_id and rule name). 0..1.
  // Default: 1.0
  double sample_rate = 1.0;
  // Higher first when several rules match one trace. -1000..1000. Default: 0
  int32_t priority = 0;
  // Also evaluate the traces already in state when the rule is first loaded. Default: false
  bool backfill = false;
  // At least one. Required.
  std::vector<RuleAction> actions;
  bool operator==(const Rule&) const = default;
};

// ---- Evaluation and metrics ------------------------------------------------------------------

// An OpenAI-compatible chat-completions endpoint used by LLM-judge scorers.
struct JudgeOptions {
  // http(s) base URL; "/chat/completions" is appended. Default: "https://api.openai.com/v1"
  std::string base_url = "https://api.openai.com/v1";
  // Default: "gpt-4o-mini"
  std::string model = "gpt-4o-mini";
  // Name of the environment variable holding the API key (read by the evaluator when it calls
  // the judge, never stored in the config). Default: "OPENAI_API_KEY"
  std::string api_key_env = "OPENAI_API_KEY";
  // Per-request timeout. 1s..10m. Default: 30s
  std::chrono::milliseconds timeout = std::chrono::seconds(30);
  // Retries of a failed or timed-out request (exponential backoff). 0..10. Default: 3
  int32_t max_retries = 3;
  // Judge requests in flight at once. 1..1024. Default: 4
  int32_t max_concurrency = 4;
  // false: no judge at all (LLM scorers answer JUDGE_NOT_CONFIGURED; correctness falls back to
  // its deterministic method). Default: true
  bool enabled = true;
  // Judge answers remembered by prompt (0 = no cache). 0..10000000. Default: 10000
  int64_t cache_entries = 10000;
  // PEM file of the CA that signs the judge's certificate. Default: "" (system CA store)
  std::string ca_cert_file;
  bool operator==(const JudgeOptions&) const = default;
};

// Limits of the calls the evaluator makes to URLs given per request (predict_url, HTTP scorers).
struct CallLimits {
  // Per-attempt timeout. 100ms..10m.
  std::chrono::milliseconds timeout = std::chrono::seconds(30);
  // Retries of a failed or timed-out call. 0..10.
  int32_t max_retries = 2;
  // Calls in flight at once. 1..256.
  int32_t max_concurrency = 8;
  bool operator==(const CallLimits&) const = default;
};

// A scorer of a continuous evaluation rule: a name ("correctness") or a mapping.
struct ScorerConfig {
  // Scorer name (also the assessment name). Required.
  std::string name;
  // Scorer type ("guidelines", "http", ...). Default: "" (= name)
  std::string type;
  // For type guidelines. Default: []
  std::vector<std::string> guidelines;
  // For type http. Default: ""
  std::string url;
  Mark mark;  // where the item is, for errors found above the config module
  bool operator==(const ScorerConfig&) const = default;
};

// Scores every item of a labeling session as it completes (continuous evaluation).
struct EvaluationRule {
  // Unique. Required.
  std::string name;
  // Session name (defined under labeling_sessions or through the API). Required.
  std::string labeling_session;
  // At least one. Required.
  std::vector<ScorerConfig> scorers;
  Mark mark;
  bool operator==(const EvaluationRule&) const = default;
};

struct EvaluationOptions {
  JudgeOptions judge;
  // Directory whose <name>.txt files replace the built-in judge prompts. Default: ""
  std::string prompts_dir;
  // Evaluation runs executing at once. 1..64. Default: 2
  int32_t max_concurrent_runs = 2;
  // Records of one run scored at once. 1..256. Default: 8
  int32_t record_concurrency = 8;
  // Runs waiting to start; more are refused with 503. 0..10000. Default: 16
  int32_t max_queued_runs = 16;
  // Most records in one run. 1..100000000. Default: 100000
  int64_t max_records = 100'000;
  // correctness without a judge: least share of expected_response's tokens the output must
  // contain for "yes". (0, 1]. Default: 0.8
  double correctness_recall_threshold = 0.8;
  // A fact counts as covered when this share of its tokens is in the output. (0, 1]. Default: 0.8
  double fact_token_threshold = 0.8;
  // predict_url calls. Default: 30s, 2 retries, 8 in flight
  CallLimits predict;
  // HTTP scorer calls. Default: 30s, 2 retries, 8 in flight
  CallLimits http_scorer;
  // Scores per scorer that tracefeed_eval_score averages. 1..1000000. Default: 1000
  int32_t score_window = 1000;
  // How long a completed review waits for its labels to reach the joined trace before a rule
  // scores it anyway. 0..10m. Default: 10s
  std::chrono::milliseconds label_wait = std::chrono::seconds(10);
  std::vector<EvaluationRule> rules;  // Default: []
  bool operator==(const EvaluationOptions&) const = default;
};

struct MetricsOptions {
  // Serve Prometheus metrics on the HTTP listener. Default: true
  bool enabled = true;
  // Path of the metrics endpoint; starts with '/'. Default: "/metrics"
  std::string path = "/metrics";
  // Upper bounds (seconds) of tracefeed_route_latency_seconds buckets; positive, increasing.
  // YAML key: route_latency_buckets.
  // Default: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
  std::vector<double> route_latency_buckets_seconds = {0.005, 0.01, 0.025, 0.05, 0.1,
                                                       0.25,  0.5,  1,     2.5,  5};
  bool operator==(const MetricsOptions&) const = default;
};

// ---------------------------------------------------------------------------------------------

struct Config {
  // Where this config came from (file path or name_for_errors); used in later error messages.
  // Default: ""
  std::string source;
  KafkaOptions kafka;
  StateOptions state;
  JoinOptions join;
  HttpOptions http;
  std::vector<LabelSchema> label_schemas;          // Default: []
  std::vector<LabelingSession> labeling_sessions;  // Default: []
  std::vector<Rule> rules;                         // Default: []
  EvaluationOptions evaluation;
  MetricsOptions metrics;

  [[nodiscard]] const LabelSchema* find_label_schema(std::string_view name) const noexcept;
  [[nodiscard]] const LabelingSession* find_labeling_session(std::string_view name) const noexcept;
  [[nodiscard]] const Rule* find_rule(std::string_view name) const noexcept;
  bool operator==(const Config&) const = default;
};

// The outcome of parsing: `config` is meaningful only when `errors` is empty.
struct ParsedConfig {
  Config config;
  std::vector<ConfigError> errors;  // sorted by position; empty on success
  [[nodiscard]] bool ok() const noexcept { return errors.empty(); }
  [[nodiscard]] Status status() const { return errors_to_status(errors); }
};

// Parses YAML text; `source_name` is used in every error ("config/tracefeed.yaml").
[[nodiscard]] ParsedConfig parse_config_string(std::string_view yaml, std::string_view source_name);
// Reads and parses a file; a missing or unreadable file is a single error without a position.
[[nodiscard]] ParsedConfig parse_config_file(const std::filesystem::path& path);

// Result-returning forms: the Status message lists every error, one per line.
[[nodiscard]] Result<Config> load_config_string(std::string_view yaml,
                                                std::string_view source_name);
[[nodiscard]] Result<Config> load_config_file(const std::filesystem::path& path);

}  // namespace tracefeed::config
