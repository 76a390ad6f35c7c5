// Every kind of config error names the exact file:line:col and key path; all are reported at once.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.h"

namespace tracefeed::config {
namespace {

using ::testing::HasSubstr;

std::vector<ConfigError> errors_of(std::string_view yaml) {
  return parse_config_string(yaml, "config/tracefeed.yaml").errors;
}

// Exactly one error, at line:col, for `path`, whose message contains `text`.
void expect_error(std::string_view yaml, int line, int column, std::string_view path,
                  std::string_view text) {
  std::vector<ConfigError> errors = errors_of(yaml);
  ASSERT_EQ(errors.size(), 1u) << [&] {
    std::string all;
    for (const auto& e : errors) all += e.to_string() + "\n";
    return all;
  }();
  const ConfigError& e = errors[0];
  EXPECT_EQ(e.source, "config/tracefeed.yaml");
  EXPECT_EQ(e.mark, (Mark{line, column})) << e.to_string();
  EXPECT_EQ(e.path, path) << e.to_string();
  EXPECT_THAT(e.message, HasSubstr(std::string(text))) << e.to_string();
}

constexpr std::string_view kSchemaAndSession = R"(label_schemas:
  - {name: acc, type: feedback, title: T, input: {categorical: {options: [a, b]}}}
labeling_sessions:
  - {name: review, label_schemas: [acc]}
)";

TEST(ConfigErrors, OutOfRangeNumberMatchesTheDocumentedFormat) {
  std::string yaml(kSchemaAndSession);
  yaml +=
      "rules:\n  - name: r\n    filter: \"x = 1\"\n    sample_rate: 1.5\n"
      "    actions: [{labeling_session: review}]\n";
  std::vector<ConfigError> errors = errors_of(yaml);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].to_string(),
            "config/tracefeed.yaml:8:18: rules[0].sample_rate: expected a number between 0 and 1, "
            "got 1.5");
}

TEST(ConfigErrors, UnknownKeySuggestsTheClosestKey) {
  expect_error("kafka:\n  partitons: 4\n", 2, 3, "kafka.partitons",
               "unknown key (did you mean 'partitions'?)");
  expect_error("kafak:\n  brokers: embedded\n", 1, 1, "kafak", "did you mean 'kafka'?");
  expect_error("rules:\n  - name: r\n    filter: x\n    actions: [{labelling_session: s}]\n", 4, 16,
               "rules[0].actions[0].labelling_session", "did you mean 'labeling_session'?");
}

TEST(ConfigErrors, UnknownKeyWithoutSuggestionListsTheKnownKeys) {
  expect_error("state:\n  compression: zstd\n", 2, 3, "state.compression",
               "unknown key; expected one of: dir, memory_budget, block_cache_share");
}

TEST(ConfigErrors, WrongType) {
  expect_error("kafka:\n  partitions: many\n", 2, 15, "kafka.partitions",
               "expected an integer between 1 and 10000, got many");
  expect_error("kafka:\n  partitions: \"8\"\n", 2, 15, "kafka.partitions",
               "expected an integer between 1 and 10000, got \"8\"");
  expect_error("kafka:\n  exactly_once: yes\n", 2, 17, "kafka.exactly_once",
               "expected true or false, got yes");
  expect_error("kafka: [a]\n", 1, 8, "kafka", "expected a mapping, got a list");
  expect_error("http:\n  listen: [a, b]\n", 2, 11, "http.listen", "expected a string, got a list");
  expect_error("rules: {name: r}\n", 1, 8, "rules", "expected a list, got a mapping");
  expect_error("metrics:\n  enabled:\n", 2, 3, "metrics.enabled",
               "expected true or false, got nothing (null) (remove the key to use the default)");
}

TEST(ConfigErrors, OutOfRange) {
  expect_error("kafka:\n  partitions: 0\n", 2, 15, "kafka.partitions",
               "expected an integer between 1 and 10000, got 0");
  expect_error("state:\n  memory_budget: 1MiB\n", 2, 18, "state.memory_budget",
               "expected a size such as 512MiB between 16MiB and 1TiB, got 1MiB");
  expect_error("labeling_sessions:\n  - {name: s, label_schemas: []}\n", 2, 30,
               "labeling_sessions[0].label_schemas", "expected 1 to 100 items, got 0");
  std::string yaml(kSchemaAndSession);
  yaml += "  - {name: s, label_schemas: [acc], lease_duration: 1s}\n";
  expect_error(yaml, 5, 53, "labeling_sessions[1].lease_duration",
               "expected a duration such as 30s or 15m between 10s and 1d, got 1s");
}

TEST(ConfigErrors, BadEnum) {
  expect_error(
      "label_schemas:\n  - name: a\n    type: feedbak\n    title: A\n"
      "    input: {text: {}}\n",
      3, 11, "label_schemas[0].type",
      "expected one of feedback, expectation, got feedbak (did you mean 'feedback'?)");
}

TEST(ConfigErrors, MissingRequiredField) {
  expect_error("label_schemas:\n  - name: a\n    type: feedback\n    input: {text: {}}\n", 2, 5,
               "label_schemas[0].title", "missing required key 'title'");
  expect_error(
      "label_schemas:\n  - name: a\n    type: feedback\n    title: A\n"
      "    input: {categorical: {}}\n",
      5, 26, "label_schemas[0].input.categorical.options", "missing required key 'options'");
}

TEST(ConfigErrors, TwoInputsInOneSchema) {
  expect_error(
      "label_schemas:\n  - name: a\n    type: feedback\n    title: A\n"
      "    input: {categorical: {options: [x]}, text: {}}\n",
      5, 42, "label_schemas[0].input.text",
      "only one of categorical, categorical_list, text, text_list, numeric, pass_fail "
      "may be set; 'categorical' is already set at line 5:13");
  expect_error("label_schemas:\n  - {name: a, type: feedback, title: A, input: {}}\n", 2, 48,
               "label_schemas[0].input", "expected exactly one of: categorical,");
}

TEST(ConfigErrors, InvalidSchemaContents) {
  expect_error("label_schemas:\n  - {name: a.b, type: feedback, title: A, input: {text: {}}}\n", 2,
               12, "label_schemas[0].name", "invalid name 'a.b': must not contain '.'");
  expect_error(
      "label_schemas:\n  - name: a\n    type: feedback\n    title: A\n"
      "    input: {categorical: {options: [x, y, x]}}\n",
      5, 43, "label_schemas[0].input.categorical.options[2]", "duplicate 'x' (same as item 0)");
  expect_error(
      "label_schemas:\n  - name: a\n    type: feedback\n    title: A\n"
      "    input: {numeric: {min_value: 5, max_value: 1}}\n",
      5, 48, "label_schemas[0].input.numeric.max_value", "must be greater than min_value (5)");
}

TEST(ConfigErrors, DuplicateNames) {
  expect_error(
      "label_schemas:\n  - {name: a, type: feedback, title: A, input: {text: {}}}\n"
      "  - {name: a, type: feedback, title: B, input: {text: {}}}\n",
      3, 12, "label_schemas[1].name",
      "duplicate label schema name 'a' (first defined at line 2:12)");
  expect_error("kafka:\n  partitions: 1\n  partitions: 2\n", 3, 3, "kafka.partitions",
               "duplicate key (first set at line 2:3)");
}

TEST(ConfigErrors, DanglingReferences) {
  std::string yaml(kSchemaAndSession);
  yaml +=
      "rules:\n  - name: r\n    filter: x = 1\n    actions:\n      - labeling_session: reveiw\n";
  expect_error(yaml, 9, 27, "rules[0].actions[0].labeling_session",
               "unknown labeling session 'reveiw' (did you mean 'review'?)");
  expect_error("labeling_sessions:\n  - {name: s, label_schemas: [nothing]}\n", 2, 31,
               "labeling_sessions[0].label_schemas[0]",
               "unknown label schema 'nothing': none is defined under label_schemas");
}

TEST(ConfigErrors, BadAddressesAndUrls) {
  expect_error("http:\n  listen: localhost\n", 2, 11, "http.listen",
               "invalid address 'localhost': expected host:port");
  expect_error("http:\n  listen: \"127.0.0.1:99999\"\n", 2, 11, "http.listen",
               "port 99999 out of range 0..65535");
  expect_error("kafka:\n  brokers: \"k1:9092,k2\"\n", 2, 12, "kafka.brokers",
               "broker 'k2': expected host:port");
  expect_error("rules:\n  - {name: r, filter: x, actions: [{webhook: \"ftp://x\"}]}\n", 2, 46,
               "rules[0].actions[0].webhook", "expected an http:// or https:// URL");
}

TEST(ConfigErrors, BadSizeAndDuration) {
  expect_error("http:\n  body_limit: 12 parsecs\n", 2, 15, "http.body_limit",
               "expected a size such as 512MiB between 1KiB and 1GiB (units B, KB, MB, GB, TB, "
               "KiB, MiB, GiB, TiB), got 12 parsecs");
  std::string yaml(kSchemaAndSession);
  yaml += "  - {name: s, label_schemas: [acc], lease_duration: soon}\n";
  expect_error(yaml, 5, 53, "labeling_sessions[1].lease_duration",
               "expected a duration such as 30s or 15m between 10s and 1d");
}

TEST(ConfigErrors, KafkaPropertiesOwnedByTracefeed) {
  expect_error("kafka:\n  properties:\n    bootstrap.servers: x:1\n", 3, 5,
               "kafka.properties.bootstrap.servers", "set kafka.brokers instead");
  expect_error("kafka:\n  properties_env: {sasl.password: not-a-name}\n", 2, 35,
               "kafka.properties_env.sasl.password", "invalid environment variable name");
}

TEST(ConfigErrors, AuthTokens) {
  expect_error("http:\n  auth_tokens:\n    - {user: a, token: x, token_env: Y}\n", 3, 27,
               "http.auth_tokens[0].token_env", "set either 'token' or 'token_env', not both");
  expect_error("http:\n  auth_tokens:\n    - {user: a}\n", 3, 7, "http.auth_tokens[0]",
               "missing 'token' or 'token_env'");
}

TEST(ConfigErrors, YamlSyntaxError) {
  std::vector<ConfigError> errors = errors_of("kafka:\n  brokers: [a, b\nstate: {}\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].mark, (Mark{3, 6})) << errors[0].to_string();
  EXPECT_EQ(errors[0].path, "");
  EXPECT_THAT(errors[0].to_string(), HasSubstr("config/tracefeed.yaml:3:6: YAML syntax error: "));
  expect_error("kafka:\n  brokers: a\n bad: 1\n", 3, 2, "",
               "YAML syntax error: end of map not found");
}

TEST(ConfigErrors, AllErrorsReportedTogetherInFileOrder) {
  constexpr std::string_view yaml = R"(rules:
  - name: r
    filter: ""
    sample_rate: 2
    actions: [{labeling_session: missing}]
kafka:
  partitions: -1
  brokers: embedded
  replicaton_factor: 3
http:
  listen: nowhere
)";
  ParsedConfig parsed = parse_config_string(yaml, "bad.yaml");
  ASSERT_FALSE(parsed.ok());
  std::vector<std::string> lines;
  for (const ConfigError& e : parsed.errors) lines.push_back(e.to_string());
  EXPECT_THAT(lines,
              ::testing::ElementsAre(
                  "bad.yaml:3:13: rules[0].filter: must not be empty",
                  "bad.yaml:4:18: rules[0].sample_rate: expected a number between 0 and 1, got 2",
                  "bad.yaml:5:34: rules[0].actions[0].labeling_session: unknown labeling "
                  "session 'missing': none is defined under labeling_sessions",
                  "bad.yaml:7:15: kafka.partitions: expected an integer between 1 and 10000, "
                  "got -1",
                  "bad.yaml:9:3: kafka.replicaton_factor: unknown key (did you mean "
                  "'replication_factor'?)",
                  "bad.yaml:11:11: http.listen: invalid address 'nowhere': expected "
                  "host:port, e.g. \"127.0.0.1:8080\""));
  Status status = parsed.status();
  EXPECT_EQ(status.code(), ErrorCode::invalid_argument);
  EXPECT_THAT(status.message(), HasSubstr("bad.yaml: 6 errors\n"));
  for (const std::string& line : lines) EXPECT_THAT(status.message(), HasSubstr(line));

  Result<Config> r = load_config_string(yaml, "bad.yaml");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(), status.message());
}

TEST(ConfigErrors, MissingFile) {
  Result<Config> r = load_config_file("/nonexistent/tracefeed.yaml");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::not_found);
  EXPECT_THAT(r.status().message(),
              HasSubstr("/nonexistent/tracefeed.yaml: config file not found"));
  ParsedConfig parsed = parse_config_file("/nonexistent/tracefeed.yaml");
  ASSERT_EQ(parsed.errors.size(), 1u);
  EXPECT_FALSE(parsed.errors[0].mark.known());
}

TEST(ConfigErrors, TopLevelMustBeAMapping) {
  expect_error("- a\n- b\n", 1, 1, "", "expected a mapping, got a list");
}

TEST(ConfigErrors, EvaluationRuleErrorsNameTheItem) {
  expect_error("evaluation:\n  rules:\n    - name: q\n      labeling_session: s\n      scorers: []\n", 5, 16,
               "evaluation.rules[0].scorers", "expected at least 1 items");
  expect_error("evaluation:\n  rules:\n    - name: q\n      labeling_session: s\n      scorers: [{type: http}]\n",
               5, 17, "evaluation.rules[0].scorers[0].name", "missing required key 'name'");
  expect_error("evaluation:\n  rules:\n    - labeling_session: s\n      scorers: [x]\n", 3, 7,
               "evaluation.rules[0].name", "missing required key 'name'");
  expect_error("evaluation:\n  judge: {api_key_env: 'A-B'}\n", 2, 24, "evaluation.judge.api_key_env",
               "invalid environment variable name");
}

}  // namespace
}  // namespace tracefeed::config
