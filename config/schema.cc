#include "config/schema.h"

#include <algorithm>

namespace tracefeed::config {
namespace {

constexpr std::string_view kLabelSchemaTypes[] = {"feedback", "expectation"};

// Keep parents before children: the documentation renders rows in this order. Descriptions are
// Markdown and end up verbatim in docs/configuration.md.
constexpr KeySpec kSchema[] = {
    // ---- kafka ------------------------------------------------------------------------------
    {.path = "kafka",
     .type = KeyType::mapping,
     .description = "Where the event log lives and how tracefeed's topics are laid out."},
    {.path = "kafka.brokers",
     .type = KeyType::string,
     .default_yaml = "embedded",
     .description =
         "`embedded` starts librdkafka's in-process mock cluster inside `tracefeed run`: for "
         "trying tracefeed on one machine only — the log is volatile and is lost when the "
         "process exits (state in `state.dir` notices the new cluster and never mixes the two). "
         "Otherwise a comma-separated bootstrap list `host1:9092,host2:9092` of Apache Kafka or "
         "any Kafka-protocol broker.",
     .format = KeyFormat::brokers},
    {.path = "kafka.topic_prefix",
     .type = KeyType::string,
     .default_yaml = "tracefeed.",
     .description = "Prefix of every topic name: `traces`, `assessments`, `review`, `eval`, "
                    "`dead-letter` and the compacted `*-changelog` topics.",
     .format = KeyFormat::topic_prefix},
    {.path = "kafka.partitions",
     .type = KeyType::integer,
     .default_yaml = "8",
     .description = "Partitions of every topic tracefeed creates (traces and assessments always "
                    "have the same count). The upper bound on `tracefeed process` instances.",
     .min = 1,
     .max = 10000},
    {.path = "kafka.replication_factor",
     .type = KeyType::integer,
     .default_yaml = "1",
     .description = "Replication factor of the topics tracefeed creates. Use 3 in production.",
     .min = 1,
     .max = 32767},
    {.path = "kafka.exactly_once",
     .type = KeyType::boolean,
     .default_yaml = "false",
     .description = "Run the processors' consume → state → produce loop in Kafka transactions "
                    "(exactly-once). Otherwise at-least-once with idempotent application by "
                    "`event_id`."},
    {.path = "kafka.instance_id",
     .type = KeyType::string,
     .description = "Stable name of this processor instance — the same across restarts, "
                    "different for every live instance (e.g. a StatefulSet pod name). Enables "
                    "static group membership: after a crash the restarted instance takes its "
                    "partitions back at once instead of after the session timeout; with "
                    "`exactly_once` it is also the suffix of the transactional id. Unset: dynamic "
                    "membership.",
     .format = KeyFormat::user},
    {.path = "kafka.properties",
     .type = KeyType::string_map,
     .default_yaml = "{}",
     .description =
         "librdkafka properties passed verbatim to every producer, consumer and admin client, "
         "e.g. `security.protocol: SASL_SSL`, `sasl.mechanism: PLAIN`, `ssl.ca.location: ...`. "
         "Properties tracefeed owns are rejected: `bootstrap.servers` (use `kafka.brokers`), "
         "`transactional.id`, `group.id`, `enable.idempotence`."},
    {.path = "kafka.properties_env",
     .type = KeyType::string_map,
     .default_yaml = "{}",
     .description = "Like `kafka.properties`, but each value is the *name of an environment "
                    "variable* holding the value (read when a client is created), e.g. "
                    "`sasl.password: KAFKA_PASSWORD`. Keeps secrets out of the file."},

    // ---- state ------------------------------------------------------------------------------
    {.path = "state",
     .type = KeyType::mapping,
     .description = "The local RocksDB state of the processors and sinks."},
    {.path = "state.dir",
     .type = KeyType::string,
     .default_yaml = "./data/tracefeed",
     .description = "Directory of the RocksDB state (created if missing).",
     .format = KeyFormat::non_empty},
    {.path = "state.memory_budget",
     .type = KeyType::size,
     .default_yaml = "512MiB",
     .description = "Memory for the state store: block cache plus memtables, across all "
                    "partitions of this process.",
     .min = 16.0 * 1024 * 1024,
     .max = 1024.0 * 1024 * 1024 * 1024},
    {.path = "state.block_cache_share",
     .type = KeyType::number,
     .default_yaml = "0.5",
     .description = "Share of `state.memory_budget` given to the block cache; the rest goes to "
                    "memtables.",
     .min = 0.1,
     .max = 0.9},

    // ---- http -------------------------------------------------------------------------------
    {.path = "join",
     .type = KeyType::mapping,
     .description = "The join processor (feedback meets its trace)."},
    {.path = "join.orphan_timeout",
     .type = KeyType::duration,
     .default_yaml = "1h",
     .description = "Feedback still waiting for its trace this long after it was created is "
                    "reported as orphaned: `tracefeed_join_orphaned_assessments_total` and a "
                    "`join/orphaned` decision record on the trace. It still joins if the trace "
                    "arrives later.",
     .min = 1000,
     .max = 2'592'000'000},
    {.path = "join.max_input_skew",
     .type = KeyType::duration,
     .default_yaml = "20ms",
     .description = "Event-time alignment of the two inputs: while a partition of the "
                    "assessments topic has been read more than this far (record timestamps) "
                    "ahead of the traces partition with the same number, and that one is at "
                    "least 1,000 records behind its end (a backlog), the assessments partition "
                    "waits (up to 2 s at a time). A backlog is then read with feedback beside its "
                    "traces, so it joins in memory instead of waiting in state; live traffic is "
                    "never held back. `0s` turns it off.",
     .min = 0,
     .max = 3'600'000},
    {.path = "http",
     .type = KeyType::mapping,
     .description = "The HTTP listener: MLflow-compatible and native APIs, OTLP, web UI, "
                    "metrics."},
    {.path = "http.listen",
     .type = KeyType::string,
     .default_yaml = "\"127.0.0.1:8080\"",
     .description = "Listen address `host:port`; host is a name, an IPv4 address or `[IPv6]`; "
                    "port 0 picks a free port.",
     .format = KeyFormat::host_port},
    {.path = "http.body_limit",
     .type = KeyType::size,
     .default_yaml = "16MiB",
     .description = "Largest request body accepted; larger requests get `413`.",
     .min = 1024,
     .max = 1024.0 * 1024 * 1024},
    {.path = "http.threads",
     .type = KeyType::integer,
     .default_yaml = "16",
     .description = "HTTP worker threads. Ingestion handlers mostly wait for Kafka to acknowledge, "
                    "so throughput follows requests in flight, not cores: measured on 2 cores, 4 "
                    "threads acknowledge ~15k events/s, 16 ~90k, 32 ~100-130k (docs/benchmarks.md).",
     .min = 1,
     .max = 256},
    {.path = "http.auth_tokens",
     .type = KeyType::list,
     .default_yaml = "[]",
     .description = "Bearer tokens accepted by the API (`Authorization: Bearer TOKEN`). Empty "
                    "means no authentication, which is only sensible on a loopback address."},
    {.path = "http.auth_tokens[].user",
     .type = KeyType::string,
     .description = "The user the token authenticates: the reviewer name in the Review App and "
                    "the `source_id` of `HUMAN` assessments it creates (a name or an e-mail "
                    "address).",
     .required = true,
     .format = KeyFormat::user},
    {.path = "http.auth_tokens[].token",
     .type = KeyType::string,
     .description = "The token itself (fine for tests; prefer `token_env`). Exactly one of "
                    "`token` and `token_env`.",
     .format = KeyFormat::non_empty},
    {.path = "http.auth_tokens[].token_env",
     .type = KeyType::string,
     .description = "Name of the environment variable holding the token, read at start.",
     .format = KeyFormat::env_var},

    // ---- label_schemas ----------------------------------------------------------------------
    {.path = "label_schemas",
     .type = KeyType::list,
     .default_yaml = "[]",
     .description = "Label schemas: the questions reviewers answer (MLflow `create_label_schema`). "
                    "More can be created at run time through `POST /api/v1/label-schemas`."},
    {.path = "label_schemas[].name",
     .type = KeyType::string,
     .description = "Unique name; also the assessment name of every answer (no `.`, no `/`).",
     .required = true,
     .format = KeyFormat::name},
    {.path = "label_schemas[].type",
     .type = KeyType::enumeration,
     .description = "`feedback` (a judgement of the response) or `expectation` (ground truth, "
                    "e.g. the ideal response used by the Correctness scorer).",
     .required = true,
     .allowed = kLabelSchemaTypes},
    {.path = "label_schemas[].title",
     .type = KeyType::string,
     .description = "The question shown to the reviewer.",
     .required = true,
     .format = KeyFormat::non_empty},
    {.path = "label_schemas[].instruction",
     .type = KeyType::string,
     .default_yaml = "\"\"",
     .description = "Longer guidance shown under the title."},
    {.path = "label_schemas[].enable_comment",
     .type = KeyType::boolean,
     .default_yaml = "false",
     .description = "Let the reviewer add a free-text comment (stored as the rationale)."},
    {.path = "label_schemas[].input",
     .type = KeyType::mapping,
     .description = "The answer's type: exactly one of the keys below.",
     .required = true,
     .exactly_one_child = true},
    {.path = "label_schemas[].input.categorical",
     .type = KeyType::mapping,
     .description = "Pick one of `options`."},
    {.path = "label_schemas[].input.categorical.options",
     .type = KeyType::string_list,
     .description = "1 to 100 distinct, non-empty options.",
     .required = true,
     .format = KeyFormat::non_empty,
     .min_items = 1,
     .max_items = 100,
     .unique_items = true},
    {.path = "label_schemas[].input.categorical_list",
     .type = KeyType::mapping,
     .description = "Pick any number of `options`."},
    {.path = "label_schemas[].input.categorical_list.options",
     .type = KeyType::string_list,
     .description = "1 to 100 distinct, non-empty options.",
     .required = true,
     .format = KeyFormat::non_empty,
     .min_items = 1,
     .max_items = 100,
     .unique_items = true},
    {.path = "label_schemas[].input.text",
     .type = KeyType::mapping,
     .description = "Free text (`text: {}` for no limit)."},
    {.path = "label_schemas[].input.text.max_length",
     .type = KeyType::integer,
     .description = "Longest answer in characters; unset = unbounded.",
     .min = 1,
     .max = 1000000},
    {.path = "label_schemas[].input.text_list",
     .type = KeyType::mapping,
     .description = "A list of free-text answers."},
    {.path = "label_schemas[].input.text_list.max_length_each",
     .type = KeyType::integer,
     .description = "Longest item in characters; unset = unbounded.",
     .min = 1,
     .max = 1000000},
    {.path = "label_schemas[].input.text_list.max_count",
     .type = KeyType::integer,
     .description = "Most items; unset = unbounded.",
     .min = 1,
     .max = 1000},
    {.path = "label_schemas[].input.numeric",
     .type = KeyType::mapping,
     .description = "A number, optionally bounded."},
    {.path = "label_schemas[].input.numeric.min_value",
     .type = KeyType::number,
     .description = "Smallest allowed value; unset = unbounded. Must be below `max_value`."},
    {.path = "label_schemas[].input.numeric.max_value",
     .type = KeyType::number,
     .description = "Largest allowed value; unset = unbounded."},
    {.path = "label_schemas[].input.pass_fail",
     .type = KeyType::mapping,
     .description = "A boolean answer with custom labels (value `true` = positive)."},
    {.path = "label_schemas[].input.pass_fail.positive_label",
     .type = KeyType::string,
     .default_yaml = "Pass",
     .description = "Label of `true`.",
     .format = KeyFormat::non_empty},
    {.path = "label_schemas[].input.pass_fail.negative_label",
     .type = KeyType::string,
     .default_yaml = "Fail",
     .description = "Label of `false`; must differ from `positive_label`.",
     .format = KeyFormat::non_empty},

    // ---- labeling_sessions ------------------------------------------------------------------
    {.path = "labeling_sessions",
     .type = KeyType::list,
     .default_yaml = "[]",
     .description = "Labeling sessions: review queues with a Review App page each (MLflow "
                    "`create_labeling_session`). More can be created through the API."},
    {.path = "labeling_sessions[].name",
     .type = KeyType::string,
     .description = "Unique name (no `.`, no `/`); rules route to a session by this name.",
     .required = true,
     .format = KeyFormat::name},
    {.path = "labeling_sessions[].label_schemas",
     .type = KeyType::string_list,
     .description = "Names of schemas defined under `label_schemas` that reviewers answer, in "
                    "display order.",
     .required = true,
     .format = KeyFormat::name,
     .min_items = 1,
     .max_items = 100,
     .unique_items = true},
    {.path = "labeling_sessions[].assigned_users",
     .type = KeyType::string_list,
     .default_yaml = "[]",
     .description = "Reviewers who may claim items (names or e-mail addresses, as they sign "
                    "in); empty means anyone.",
     .format = KeyFormat::user,
     .unique_items = true},
    {.path = "labeling_sessions[].reviews_per_item",
     .type = KeyType::integer,
     .default_yaml = "1",
     .description = "Distinct reviews an item needs before it is `completed`.",
     .min = 1,
     .max = 100},
    {.path = "labeling_sessions[].lease_duration",
     .type = KeyType::duration,
     .default_yaml = "15m",
     .description = "How long a claim lasts; after it expires the item can be claimed again and "
                    "a submission with the old lease token is refused (409).",
     .min = 10'000,
     .max = 86'400'000},

    // ---- rules ------------------------------------------------------------------------------
    {.path = "rules",
     .type = KeyType::list,
     .default_yaml = "[]",
     .description = "Routing rules: evaluated on every joined trace; a rule fires at most once "
                    "per trace and leaves a decision record either way."},
    {.path = "rules[].name",
     .type = KeyType::string,
     .description = "Unique name (no `.`, no `/`); part of the sampling hash.",
     .required = true,
     .format = KeyFormat::name},
    {.path = "rules[].filter",
     .type = KeyType::string,
     .description = "A `search_traces` filter, e.g. `feedback.user_feedback = false AND "
                    "span.type = 'RETRIEVER'`. Parse errors are reported at the filter's "
                    "line:column in this file.",
     .required = true,
     .format = KeyFormat::non_empty},
    {.path = "rules[].sample_rate",
     .type = KeyType::number,
     .default_yaml = "1.0",
     .description = "Fraction of matching traces routed, decided by a deterministic hash of "
                    "trace id and rule name (the same trace gets the same answer everywhere).",
     .min = 0,
     .max = 1},
    {.path = "rules[].priority",
     .type = KeyType::integer,
     .default_yaml = "0",
     .description = "Higher-priority rules are evaluated first.",
     .min = -1000,
     .max = 1000},
    {.path = "rules[].backfill",
     .type = KeyType::boolean,
     .default_yaml = "false",
     .description = "Also evaluate the traces already in state when the rule is first loaded."},
    {.path = "rules[].actions",
     .type = KeyType::list,
     .description = "What to do with a routed trace; at least one.",
     .required = true,
     .min_items = 1,
     .max_items = 16},
    {.path = "rules[].actions[]",
     .type = KeyType::mapping,
     .description = "One action: exactly one of the keys below.",
     .exactly_one_child = true},
    {.path = "rules[].actions[].labeling_session",
     .type = KeyType::string,
     .description = "Add the trace to this labeling session. It must be defined under "
                    "`labeling_sessions` in the same file (sessions created later through the "
                    "API are routed to with rules created through the API).",
     .format = KeyFormat::name},
    {.path = "rules[].actions[].eval",
     .type = KeyType::string,
     .description = "Append the trace to this evaluation dataset (created on first use).",
     .format = KeyFormat::name},
    {.path = "rules[].actions[].webhook",
     .type = KeyType::string,
     .description = "POST the decision and trace summary as JSON to this `http://` or "
                    "`https://` URL.",
     .format = KeyFormat::http_url},

    // ---- evaluation -------------------------------------------------------------------------
    {.path = "evaluation",
     .type = KeyType::mapping,
     .description = "The evaluator (scorers, datasets)."},
    {.path = "evaluation.judge",
     .type = KeyType::mapping,
     .description = "The OpenAI-compatible chat-completions endpoint used by LLM-judge scorers "
                    "such as Correctness."},
    {.path = "evaluation.judge.base_url",
     .type = KeyType::string,
     .default_yaml = "https://api.openai.com/v1",
     .description = "Base URL; `/chat/completions` is appended.",
     .format = KeyFormat::http_url},
    {.path = "evaluation.judge.model",
     .type = KeyType::string,
     .default_yaml = "gpt-4o-mini",
     .description = "Model name sent in each request.",
     .format = KeyFormat::non_empty},
    {.path = "evaluation.judge.api_key_env",
     .type = KeyType::string,
     .default_yaml = "OPENAI_API_KEY",
     .description = "Name of the environment variable holding the API key. The key itself is "
                    "never written in the config; it is read when the judge is called. `\"\"`: "
                    "the endpoint needs no key (a local server).",
     .format = KeyFormat::env_var_or_empty},
    {.path = "evaluation.judge.timeout",
     .type = KeyType::duration,
     .default_yaml = "30s",
     .description = "Per-request timeout.",
     .min = 1000,
     .max = 600'000},
    {.path = "evaluation.judge.max_retries",
     .type = KeyType::integer,
     .default_yaml = "3",
     .description = "Retries of a failed or timed-out request, with exponential backoff.",
     .min = 0,
     .max = 10},
    {.path = "evaluation.judge.max_concurrency",
     .type = KeyType::integer,
     .default_yaml = "4",
     .description = "Judge requests in flight at once (further scorer calls wait).",
     .min = 1,
     .max = 1024},
    {.path = "evaluation.judge.enabled",
     .type = KeyType::boolean,
     .default_yaml = "true",
     .description = "false: no judge. LLM scorers then answer `JUDGE_NOT_CONFIGURED` and "
                    "`correctness` falls back to its deterministic method (source `CODE`)."},
    {.path = "evaluation.judge.cache_entries",
     .type = KeyType::integer,
     .default_yaml = "10000",
     .description = "Judge answers remembered by prompt, so a re-run costs no calls (0 = none).",
     .min = 0,
     .max = 10'000'000},
    {.path = "evaluation.judge.ca_cert_file",
     .type = KeyType::string,
     .description = "PEM file of the CA that signs the judge's certificate (default: the "
                    "system CA store)."},
    {.path = "evaluation.prompts_dir",
     .type = KeyType::string,
     .description = "Directory whose `<name>.txt` files replace the built-in judge prompts "
                    "(processors/evaluate/prompts/)."},
    {.path = "evaluation.max_concurrent_runs",
     .type = KeyType::integer,
     .default_yaml = "2",
     .description = "Evaluation runs executing at once; others wait in the queue.",
     .min = 1,
     .max = 64},
    {.path = "evaluation.record_concurrency",
     .type = KeyType::integer,
     .default_yaml = "8",
     .description = "Records of one run scored at once.",
     .min = 1,
     .max = 256},
    {.path = "evaluation.max_queued_runs",
     .type = KeyType::integer,
     .default_yaml = "16",
     .description = "Runs waiting to start; more are refused with 503.",
     .min = 0,
     .max = 10'000},
    {.path = "evaluation.max_records",
     .type = KeyType::integer,
     .default_yaml = "100000",
     .description = "Most records in one run (a request may ask for fewer).",
     .min = 1,
     .max = 100'000'000},
    {.path = "evaluation.correctness_recall_threshold",
     .type = KeyType::number,
     .default_yaml = "0.8",
     .description = "`correctness` without a judge: least share of `expected_response`'s tokens "
                    "the output must contain for `yes`.",
     .min = 0.01,
     .max = 1},
    {.path = "evaluation.fact_token_threshold",
     .type = KeyType::number,
     .default_yaml = "0.8",
     .description = "A fact of `expected_facts` counts as stated when this share of its tokens "
                    "is in the output.",
     .min = 0.01,
     .max = 1},
    {.path = "evaluation.predict",
     .type = KeyType::mapping,
     .description = "Calls to a request's `predict_url` (re-running the app)."},
    {.path = "evaluation.predict.timeout",
     .type = KeyType::duration,
     .default_yaml = "30s",
     .description = "Per-attempt timeout.",
     .min = 100,
     .max = 600'000},
    {.path = "evaluation.predict.max_retries",
     .type = KeyType::integer,
     .default_yaml = "2",
     .description = "Retries of a failed call (connection errors, timeouts, 408, 429, 5xx).",
     .min = 0,
     .max = 10},
    {.path = "evaluation.predict.max_concurrency",
     .type = KeyType::integer,
     .default_yaml = "8",
     .description = "Calls in flight at once per run.",
     .min = 1,
     .max = 256},
    {.path = "evaluation.http_scorer",
     .type = KeyType::mapping,
     .description = "Calls to HTTP scorers (`{type: http, url: ...}`: your code, any language)."},
    {.path = "evaluation.http_scorer.timeout",
     .type = KeyType::duration,
     .default_yaml = "30s",
     .description = "Per-attempt timeout.",
     .min = 100,
     .max = 600'000},
    {.path = "evaluation.http_scorer.max_retries",
     .type = KeyType::integer,
     .default_yaml = "2",
     .description = "Retries of a failed call (connection errors, timeouts, 408, 429, 5xx).",
     .min = 0,
     .max = 10},
    {.path = "evaluation.http_scorer.max_concurrency",
     .type = KeyType::integer,
     .default_yaml = "8",
     .description = "Calls in flight at once per scorer.",
     .min = 1,
     .max = 256},
    {.path = "evaluation.score_window",
     .type = KeyType::integer,
     .default_yaml = "1000",
     .description = "Most recent scores per scorer that `tracefeed_eval_score{scorer}` averages.",
     .min = 1,
     .max = 1'000'000},
    {.path = "evaluation.label_wait",
     .type = KeyType::duration,
     .default_yaml = "10s",
     .description = "How long a completed review item waits for its labels to reach the joined "
                    "trace before an evaluation rule scores it anyway.",
     .min = 0,
     .max = 600'000},
    {.path = "evaluation.rules",
     .type = KeyType::list,
     .description = "Continuous evaluation: score every item of a labeling session as its "
                    "review completes (scores become assessments and `tracefeed_eval_score`)."},
    {.path = "evaluation.rules[]",
     .type = KeyType::mapping,
     .description = "An evaluation rule."},
    {.path = "evaluation.rules[].name",
     .type = KeyType::string,
     .description = "Unique; the evaluation id of its scores is `rule:<name>`.",
     .required = true,
     .format = KeyFormat::name},
    {.path = "evaluation.rules[].labeling_session",
     .type = KeyType::string,
     .description = "Name or id of the labeling session whose completed items it scores.",
     .required = true,
     .format = KeyFormat::non_empty},
    {.path = "evaluation.rules[].scorers",
     .type = KeyType::list,
     .description = "Scorers: a name (`correctness`, `exact_match`, ...) or a mapping.",
     .required = true,
     .min_items = 1},
    {.path = "evaluation.rules[].scorers[]",
     .type = KeyType::mapping,
     .description = "A scorer: a name alone, or `{name, type, guidelines, url}`."},
    {.path = "evaluation.rules[].scorers[].name",
     .type = KeyType::string,
     .description = "Scorer name, also the assessment name.",
     .required = true,
     .format = KeyFormat::name},
    {.path = "evaluation.rules[].scorers[].type",
     .type = KeyType::string,
     .description = "Scorer type when it differs from the name (`guidelines`, `http`, ...)."},
    {.path = "evaluation.rules[].scorers[].guidelines",
     .type = KeyType::string_list,
     .description = "Guidelines for `type: guidelines`."},
    {.path = "evaluation.rules[].scorers[].url",
     .type = KeyType::string,
     .description = "URL of an `http` scorer.",
     .format = KeyFormat::http_url},

    // ---- metrics ----------------------------------------------------------------------------
    {.path = "metrics",
     .type = KeyType::mapping,
     .description = "Prometheus metrics (names in PRODUCT.md §7)."},
    {.path = "metrics.enabled",
     .type = KeyType::boolean,
     .default_yaml = "true",
     .description = "Serve metrics on the HTTP listener."},
    {.path = "metrics.path",
     .type = KeyType::string,
     .default_yaml = "/metrics",
     .description = "Path of the metrics endpoint.",
     .format = KeyFormat::url_path},
    {.path = "metrics.route_latency_buckets",
     .type = KeyType::number_list,
     .default_yaml = "[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]",
     .description = "Bucket upper bounds in seconds of `tracefeed_route_latency_seconds`; "
                    "strictly increasing.",
     .min = 0.000001,
     .max = 3600,
     .min_items = 1,
     .max_items = 50},
};

}  // namespace

std::span<const KeySpec> config_schema() noexcept {
  return kSchema;
}

const KeySpec* find_key_spec(std::string_view path) noexcept {
  for (const KeySpec& spec : kSchema) {
    if (spec.path == path) return &spec;
  }
  return nullptr;
}

std::vector<std::string_view> child_keys(std::string_view mapping_path) {
  std::vector<std::string_view> out;
  for (const KeySpec& spec : kSchema) {
    std::string_view p = spec.path;
    if (!mapping_path.empty()) {
      if (!p.starts_with(mapping_path) || p.size() <= mapping_path.size() + 1 ||
          p[mapping_path.size()] != '.') {
        continue;
      }
      p.remove_prefix(mapping_path.size() + 1);
    }
    if (p.find_first_of(".[") == std::string_view::npos) out.push_back(p);
  }
  return out;
}

std::string_view key_type_name(KeyType type) noexcept {
  switch (type) {
    case KeyType::mapping:
      return "mapping";
    case KeyType::list:
      return "list";
    case KeyType::string:
      return "string";
    case KeyType::boolean:
      return "boolean";
    case KeyType::integer:
      return "integer";
    case KeyType::number:
      return "number";
    case KeyType::size:
      return "size";
    case KeyType::duration:
      return "duration";
    case KeyType::enumeration:
      return "enum";
    case KeyType::string_list:
      return "list of strings";
    case KeyType::number_list:
      return "list of numbers";
    case KeyType::string_map:
      return "map of strings";
  }
  return "?";
}

}  // namespace tracefeed::config
