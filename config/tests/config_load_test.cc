// Loading valid configs: the PRODUCT.md §6 example, the documented default file, defaults.

#include <gtest/gtest.h>

#include "config/config.h"
#include "config/schema.h"

namespace tracefeed::config {
namespace {

// PRODUCT.md §6, verbatim.
constexpr std::string_view kProductExample = R"(kafka:
  brokers: embedded          # or "host1:9092,host2:9092"
state:
  dir: ./data/tracefeed
http:
  listen: "127.0.0.1:8080"
label_schemas:
  - name: response_accuracy
    type: feedback
    title: Is the response factually accurate?
    input: {categorical: {options: [Accurate, Partially Accurate, Inaccurate]}}
labeling_sessions:
  - name: quickstart_review
    label_schemas: [response_accuracy]
rules:
  - name: thumbs_down_to_review
    filter: "feedback.user_feedback = false"
    sample_rate: 1.0
    actions: [{labeling_session: quickstart_review}]
)";

Config load_ok(std::string_view yaml) {
  ParsedConfig parsed = parse_config_string(yaml, "test.yaml");
  for (const ConfigError& e : parsed.errors) ADD_FAILURE() << e.to_string();
  return parsed.config;
}

TEST(ConfigLoad, ProductExampleLoadsUnchanged) {
  Result<Config> r = load_config_string(kProductExample, "config/tracefeed.yaml");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  const Config& c = *r;
  EXPECT_EQ(c.source, "config/tracefeed.yaml");
  EXPECT_TRUE(c.kafka.is_embedded());
  EXPECT_EQ(c.state.dir, "./data/tracefeed");
  EXPECT_EQ(c.http.listen, "127.0.0.1:8080");
  ASSERT_EQ(c.label_schemas.size(), 1u);
  const LabelSchema& s = c.label_schemas[0];
  EXPECT_EQ(s.name, "response_accuracy");
  EXPECT_EQ(s.type, LabelSchemaType::feedback);
  EXPECT_EQ(s.title, "Is the response factually accurate?");
  ASSERT_TRUE(std::holds_alternative<CategoricalInput>(s.input));
  EXPECT_EQ(std::get<CategoricalInput>(s.input).options,
            (std::vector<std::string>{"Accurate", "Partially Accurate", "Inaccurate"}));
  ASSERT_EQ(c.labeling_sessions.size(), 1u);
  EXPECT_EQ(c.labeling_sessions[0].name, "quickstart_review");
  EXPECT_EQ(c.labeling_sessions[0].label_schemas, std::vector<std::string>{"response_accuracy"});
  EXPECT_EQ(c.labeling_sessions[0].reviews_per_item, 1);
  ASSERT_EQ(c.rules.size(), 1u);
  const Rule& rule = c.rules[0];
  EXPECT_EQ(rule.name, "thumbs_down_to_review");
  EXPECT_EQ(rule.filter, "feedback.user_feedback = false");
  // Line 17, `    filter: "` -> the text starts after the quote, column 14.
  EXPECT_EQ(rule.filter_mark, (Mark{17, 14}));
  EXPECT_EQ(rule.sample_rate, 1.0);
  ASSERT_EQ(rule.actions.size(), 1u);
  EXPECT_EQ(rule.actions[0].kind, ActionKind::labeling_session);
  EXPECT_EQ(rule.actions[0].target, "quickstart_review");
  EXPECT_EQ(c.find_labeling_session("quickstart_review"), &c.labeling_sessions[0]);
  EXPECT_EQ(c.find_rule("nope"), nullptr);
}

TEST(ConfigLoad, DocumentedDefaultFileLoads) {
  const std::string path = std::string(TRACEFEED_SOURCE_DIR) + "/config/tracefeed.yaml";
  Result<Config> r = load_config_file(path);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  const Config& c = *r;
  EXPECT_TRUE(c.kafka.is_embedded());
  const LabelSchema* accuracy = c.find_label_schema("response_accuracy");
  const LabelSchema* expected = c.find_label_schema("expected_response");
  ASSERT_NE(accuracy, nullptr);
  ASSERT_NE(expected, nullptr);
  EXPECT_EQ(expected->type, LabelSchemaType::expectation);
  EXPECT_EQ(std::get<TextInput>(expected->input), TextInput{});
  const LabelingSession* session = c.find_labeling_session("quickstart_review");
  ASSERT_NE(session, nullptr);
  EXPECT_EQ(session->label_schemas,
            (std::vector<std::string>{"response_accuracy", "expected_response"}));
  const Rule* rule = c.find_rule("thumbs_down_to_review");
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->filter, "feedback.user_feedback = false");
  // Everything else in the file restates a default.
  Config defaults;
  EXPECT_EQ(c.kafka, defaults.kafka);
  EXPECT_EQ(c.state, defaults.state);
  EXPECT_EQ(c.http, defaults.http);
  EXPECT_EQ(c.evaluation.judge, defaults.evaluation.judge);
  ASSERT_EQ(c.evaluation.rules.size(), 1u);  // continuous evaluation of the quickstart's session
  EXPECT_EQ(c.evaluation.rules[0].labeling_session, "quickstart_review");
  EXPECT_EQ(c.evaluation.rules[0].scorers.at(0).name, "correctness");
  EXPECT_EQ(c.metrics, defaults.metrics);
}

// The table's defaults (parsed like user input) equal the structs' member initializers, so
// docs/configuration.md, the loader and `Config{}` agree.
TEST(ConfigLoad, EmptyFileGivesStructDefaults) {
  for (std::string_view text :
       {"", "# nothing\n", "kafka:\nstate:\nrules:\n",
        "kafka:\n  properties:\n  properties_env:\nhttp: {auth_tokens: }\n"}) {
    Config c = load_ok(text);
    Config expected;
    expected.source = "test.yaml";
    EXPECT_EQ(c, expected) << text;
  }
}

TEST(ConfigLoad, ListItemDefaultsMatchStructDefaults) {
  Config c = load_ok(R"(
label_schemas:
  - {name: a, type: feedback, title: A, input: {pass_fail: {}}}
labeling_sessions:
  - {name: s, label_schemas: [a]}
rules:
  - {name: r, filter: "x = 1", actions: [{eval: ds}]}
)");
  LabelSchema schema{.name = "a", .title = "A", .input = PassFailInput{}};
  EXPECT_EQ(c.label_schemas.at(0), schema);
  LabelingSession session{.name = "s", .label_schemas = {"a"}};
  EXPECT_EQ(c.labeling_sessions.at(0), session);
  Rule rule{.name = "r",
            .filter = "x = 1",
            .filter_mark = {7, 24},
            .actions = {{ActionKind::eval, "ds"}}};
  EXPECT_EQ(c.rules.at(0), rule);
}

TEST(ConfigLoad, EveryKeySet) {
  Config c = load_ok(R"(kafka:
  brokers: "k1:9092, k2:9093"
  topic_prefix: prod.tf.
  partitions: 64
  replication_factor: 3
  exactly_once: true
  properties: {security.protocol: SASL_SSL, sasl.mechanism: PLAIN, socket.keepalive.enable: true}
  properties_env: {sasl.password: KAFKA_PASSWORD}
state:
  dir: /var/lib/tracefeed
  memory_budget: 2GiB
  block_cache_share: 0.75
http:
  listen: "[::]:9000"
  body_limit: 1MB
  auth_tokens:
    - {user: alice, token: secret-a}
    - {user: bob, token_env: BOB_TOKEN}
label_schemas:
  - name: quality
    type: feedback
    title: How good?
    instruction: Rate from 1 to 5.
    enable_comment: true
    input: {numeric: {min_value: 1, max_value: 5}}
  - {name: tags, type: feedback, title: Tags, input: {categorical_list: {options: [a, b]}}}
  - {name: notes, type: expectation, title: Notes, input: {text_list: {max_length_each: 200, max_count: 5}}}
  - {name: short, type: expectation, title: Short, input: {text: {max_length: 280}}}
  - {name: ok, type: feedback, title: "OK?", input: {pass_fail: {positive_label: Yes, negative_label: No}}}
labeling_sessions:
  - name: experts
    label_schemas: [quality, tags]
    assigned_users: [alice, bob]
    reviews_per_item: 2
    lease_duration: 1h30m
rules:
  - name: low_quality
    filter: |
      feedback.quality < 3
    sample_rate: 0.25
    priority: 10
    backfill: true
    actions:
      - labeling_session: experts
      - eval: low_quality_set
      - webhook: https://hooks.example.com/tracefeed?x=1
evaluation:
  judge:
    base_url: http://localhost:11434/v1
    model: llama3
    api_key_env: LOCAL_KEY
    timeout: 2m
    max_retries: 0
    max_concurrency: 16
metrics:
  enabled: false
  path: /internal/metrics
  route_latency_buckets: [0.001, 0.01, 0.1, 1]
)");
  EXPECT_EQ(c.kafka.brokers, "k1:9092, k2:9093");
  EXPECT_FALSE(c.kafka.is_embedded());
  EXPECT_EQ(c.kafka.topic_prefix, "prod.tf.");
  EXPECT_EQ(c.kafka.partitions, 64);
  EXPECT_EQ(c.kafka.replication_factor, 3);
  EXPECT_TRUE(c.kafka.exactly_once);
  EXPECT_EQ(c.kafka.properties.at("security.protocol"), "SASL_SSL");
  EXPECT_EQ(c.kafka.properties.at("socket.keepalive.enable"), "true");
  EXPECT_EQ(c.kafka.properties_env.at("sasl.password"), "KAFKA_PASSWORD");
  EXPECT_EQ(c.state.dir, "/var/lib/tracefeed");
  EXPECT_EQ(c.state.memory_budget_bytes, 2ull << 30);
  EXPECT_EQ(c.state.block_cache_share, 0.75);
  EXPECT_EQ(c.http.listen, "[::]:9000");
  EXPECT_EQ(c.http.body_limit_bytes, 1'000'000u);
  ASSERT_EQ(c.http.auth_tokens.size(), 2u);
  EXPECT_EQ(c.http.auth_tokens[0], (AuthToken{"alice", "secret-a", ""}));
  EXPECT_EQ(c.http.auth_tokens[1], (AuthToken{"bob", "", "BOB_TOKEN"}));
  ASSERT_EQ(c.label_schemas.size(), 5u);
  const LabelSchema& q = c.label_schemas[0];
  EXPECT_EQ(q.instruction, "Rate from 1 to 5.");
  EXPECT_TRUE(q.enable_comment);
  EXPECT_EQ(std::get<NumericInput>(q.input), (NumericInput{1.0, 5.0}));
  EXPECT_EQ(std::get<CategoricalListInput>(c.label_schemas[1].input).options,
            (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(std::get<TextListInput>(c.label_schemas[2].input), (TextListInput{200, 5}));
  EXPECT_EQ(c.label_schemas[2].type, LabelSchemaType::expectation);
  EXPECT_EQ(std::get<TextInput>(c.label_schemas[3].input), (TextInput{280}));
  EXPECT_EQ(std::get<PassFailInput>(c.label_schemas[4].input), (PassFailInput{"Yes", "No"}));
  const LabelingSession& s = c.labeling_sessions.at(0);
  EXPECT_EQ(s.assigned_users, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(s.reviews_per_item, 2);
  EXPECT_EQ(s.lease_duration, std::chrono::minutes(90));
  const Rule& r = c.rules.at(0);
  EXPECT_EQ(r.filter, "feedback.quality < 3\n");
  EXPECT_EQ(r.sample_rate, 0.25);
  EXPECT_EQ(r.priority, 10);
  EXPECT_TRUE(r.backfill);
  ASSERT_EQ(r.actions.size(), 3u);
  EXPECT_EQ(r.actions[0], (RuleAction{ActionKind::labeling_session, "experts"}));
  EXPECT_EQ(r.actions[1], (RuleAction{ActionKind::eval, "low_quality_set"}));
  EXPECT_EQ(r.actions[2],
            (RuleAction{ActionKind::webhook, "https://hooks.example.com/tracefeed?x=1"}));
  EXPECT_EQ(c.evaluation.judge.base_url, "http://localhost:11434/v1");
  EXPECT_EQ(c.evaluation.judge.model, "llama3");
  EXPECT_EQ(c.evaluation.judge.api_key_env, "LOCAL_KEY");
  EXPECT_EQ(c.evaluation.judge.timeout, std::chrono::minutes(2));
  EXPECT_EQ(c.evaluation.judge.max_retries, 0);
  EXPECT_EQ(c.evaluation.judge.max_concurrency, 16);
  EXPECT_FALSE(c.metrics.enabled);
  EXPECT_EQ(c.metrics.path, "/internal/metrics");
  EXPECT_EQ(c.metrics.route_latency_buckets_seconds, (std::vector<double>{0.001, 0.01, 0.1, 1}));
}

TEST(ConfigLoad, EvaluationKeysAndRules) {
  Config c = load_ok(R"(
evaluation:
  judge: {enabled: false, api_key_env: "", cache_entries: 0, ca_cert_file: /etc/ca.pem}
  prompts_dir: /opt/prompts
  max_concurrent_runs: 3
  record_concurrency: 16
  max_queued_runs: 0
  max_records: 500
  correctness_recall_threshold: 0.5
  fact_token_threshold: 1
  predict: {timeout: 5s, max_retries: 0, max_concurrency: 2}
  http_scorer: {timeout: 250ms}
  score_window: 10
  label_wait: 0s
  rules:
    - name: quality
      labeling_session: quickstart_review
      scorers:
        - correctness
        - {name: english, type: guidelines, guidelines: [Answer in English]}
        - {name: mine, type: http, url: "http://127.0.0.1:9000/score"}
)");
  const EvaluationOptions& e = c.evaluation;
  EXPECT_FALSE(e.judge.enabled);
  EXPECT_EQ(e.judge.api_key_env, "");
  EXPECT_EQ(e.judge.cache_entries, 0);
  EXPECT_EQ(e.judge.ca_cert_file, "/etc/ca.pem");
  EXPECT_EQ(e.prompts_dir, "/opt/prompts");
  EXPECT_EQ(e.max_concurrent_runs, 3);
  EXPECT_EQ(e.record_concurrency, 16);
  EXPECT_EQ(e.max_queued_runs, 0);
  EXPECT_EQ(e.max_records, 500);
  EXPECT_EQ(e.correctness_recall_threshold, 0.5);
  EXPECT_EQ(e.fact_token_threshold, 1.0);
  EXPECT_EQ(e.predict, (CallLimits{std::chrono::seconds(5), 0, 2}));
  EXPECT_EQ(e.http_scorer, (CallLimits{std::chrono::milliseconds(250), 2, 8}));
  EXPECT_EQ(e.score_window, 10);
  EXPECT_EQ(e.label_wait, std::chrono::milliseconds(0));
  ASSERT_EQ(e.rules.size(), 1u);
  const EvaluationRule& r = e.rules[0];
  EXPECT_EQ(r.name, "quality");
  EXPECT_EQ(r.labeling_session, "quickstart_review");
  ASSERT_EQ(r.scorers.size(), 3u);
  EXPECT_EQ(r.scorers[0].name, "correctness");
  EXPECT_EQ(r.scorers[0].type, "");
  EXPECT_EQ(r.scorers[1].type, "guidelines");
  EXPECT_EQ(r.scorers[1].guidelines, (std::vector<std::string>{"Answer in English"}));
  EXPECT_EQ(r.scorers[2].url, "http://127.0.0.1:9000/score");
  EXPECT_EQ(r.scorers[2].mark.line, 21);
}

TEST(ConfigLoad, StaticMembershipAndOrphanTimeout) {
  Config c = load_ok("kafka: {brokers: \"k:9092\", instance_id: tracefeed-0.eu-west}\njoin: {orphan_timeout: 15m}\n");
  EXPECT_EQ(c.kafka.instance_id, "tracefeed-0.eu-west");
  EXPECT_EQ(c.join.orphan_timeout, std::chrono::minutes(15));
  EXPECT_EQ(load_ok("").join.orphan_timeout, std::chrono::hours(1));
  EXPECT_EQ(load_ok("").join.max_input_skew, std::chrono::milliseconds(20));
  EXPECT_EQ(load_ok("join: {max_input_skew: 0s}\n").join.max_input_skew, std::chrono::milliseconds(0));
}

TEST(ConfigLoad, ReviewersMayBeEmailAddresses) {
  Config c = load_ok(R"(
label_schemas:
  - {name: acc, type: feedback, title: T, input: {categorical: {options: [a, b]}}}
labeling_sessions:
  - {name: review, label_schemas: [acc], assigned_users: [alice@example.com, "Bob Smith"]}
http:
  auth_tokens: [{user: alice@example.com, token: s3cret}]
)");
  EXPECT_EQ(c.labeling_sessions[0].assigned_users, (std::vector<std::string>{"alice@example.com", "Bob Smith"}));
  EXPECT_EQ(c.http.auth_tokens[0].user, "alice@example.com");
}

TEST(ConfigLoad, FilterMarkPointsAtTheFilterText) {
  Config c = load_ok(
      "rules:\n  - name: a\n    filter: trace.status = 'OK'\n"
      "    actions: [{eval: x}]\n"
      "  - name: b\n    filter: 'tag.env = \"prod\"'\n    actions: [{eval: x}]\n");
  EXPECT_EQ(c.rules.at(0).filter_mark, (Mark{3, 13}));
  EXPECT_EQ(c.rules.at(1).filter, "tag.env = \"prod\"");
  EXPECT_EQ(c.rules.at(1).filter_mark, (Mark{6, 14}));
}

TEST(ConfigSchema, EveryKeyHasADescriptionAndKnownParent) {
  for (const KeySpec& s : config_schema()) {
    EXPECT_FALSE(s.description.empty()) << s.path;
    std::string_view p = s.path;
    auto cut = p.find_last_of('.');
    if (p.ends_with("[]")) {
      EXPECT_NE(find_key_spec(p.substr(0, p.size() - 2)), nullptr) << s.path;
    } else if (cut != std::string_view::npos) {
      std::string_view parent = p.substr(0, cut);
      if (parent.ends_with("[]") && find_key_spec(parent) == nullptr) {
        parent.remove_suffix(2);
      }
      EXPECT_NE(find_key_spec(parent), nullptr) << s.path;
    }
    if (s.required) {
      EXPECT_TRUE(s.default_yaml.empty()) << s.path;
    }
  }
}

}  // namespace
}  // namespace tracefeed::config
