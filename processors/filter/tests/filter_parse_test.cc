// Parsing: the forms MLflow users type, and every error with its exact message and column.
#include <gtest/gtest.h>

#include "processors/filter/filter.h"

namespace tracefeed::filter {
namespace {

struct Valid {
  const char* text;
  Field field;
  Op op;
  const char* key;
};

class ValidFilter : public ::testing::TestWithParam<Valid> {};

TEST_P(ValidFilter, ParsesToOneCondition) {
  const Valid& v = GetParam();
  auto f = parse_filter(v.text);
  ASSERT_TRUE(f.is_ok()) << v.text << " -> " << f.status().to_string();
  ASSERT_EQ(f->conditions().size(), 1u) << v.text;
  const Condition& c = f->conditions()[0];
  EXPECT_EQ(c.field, v.field) << v.text;
  EXPECT_EQ(c.op, v.op) << v.text;
  EXPECT_EQ(c.key, v.key) << v.text;
}

INSTANTIATE_TEST_SUITE_P(
    Forms, ValidFilter,
    ::testing::Values(
        Valid{"trace.status = 'OK'", Field::trace_status, Op::eq, ""},
        Valid{"status = 'OK'", Field::trace_status, Op::eq, ""},
        Valid{"attributes.status = \"ERROR\"", Field::trace_status, Op::eq, ""},
        Valid{"attribute.status != 'ERROR'", Field::trace_status, Op::ne, ""},
        Valid{"trace.status IN ('OK', 'ERROR')", Field::trace_status, Op::in, ""},
        Valid{"trace.status not in ('OK')", Field::trace_status, Op::not_in, ""},
        Valid{"trace.timestamp_ms > 1700000000000", Field::trace_timestamp_ms, Op::gt, ""},
        Valid{"trace.timestamp >= 5", Field::trace_timestamp_ms, Op::ge, ""},
        Valid{"timestamp_ms < 1.5e12", Field::trace_timestamp_ms, Op::lt, ""},
        Valid{"trace.execution_time_ms <= 100", Field::trace_execution_time_ms, Op::le, ""},
        Valid{"execution_time = 3", Field::trace_execution_time_ms, Op::eq, ""},
        Valid{"trace.end_time_ms != 0", Field::trace_end_time_ms, Op::ne, ""},
        Valid{"trace.name = 'chat'", Field::trace_name, Op::eq, ""},
        Valid{"name ILIKE 'ch%'", Field::trace_name, Op::ilike, ""},
        Valid{"trace.name IS NULL", Field::trace_name, Op::is_null, ""},
        Valid{"trace.request_id = 'tr-1'", Field::trace_request_id, Op::eq, ""},
        Valid{"trace.trace_id = 'tr-1'", Field::trace_request_id, Op::eq, ""},
        Valid{"trace.client_request_id LIKE 'c-%'", Field::trace_client_request_id, Op::like, ""},
        Valid{"run_id = 'r1'", Field::metadata, Op::eq, "mlflow.sourceRun"},
        Valid{"tag.env = 'prod'", Field::tag, Op::eq, "env"},
        Valid{"tags.env != 'prod'", Field::tag, Op::ne, "env"},
        Valid{"tags.`mlflow.traceName` = 'x'", Field::tag, Op::eq, "mlflow.traceName"},
        Valid{"tag.\"a.b\" = 'x'", Field::tag, Op::eq, "a.b"},
        Valid{"`tag`.x = 'a'", Field::tag, Op::eq, "x"},
        Valid{"tag.a.b = 'x'", Field::tag, Op::eq, "a.b"},
        Valid{"tag.`we``ird` IS NOT NULL", Field::tag, Op::is_not_null, "we`ird"},
        Valid{"metadata.`mlflow.trace.user` = 'alice'", Field::metadata, Op::eq,
              "mlflow.trace.user"},
        Valid{"request_metadata.`mlflow.trace.session` IS NULL", Field::metadata, Op::is_null,
              "mlflow.trace.session"},
        Valid{"metadata.mlflow.trace.user is not null", Field::metadata, Op::is_not_null,
              "mlflow.trace.user"},
        Valid{"span.name = 'retrieve'", Field::span_name, Op::eq, ""},
        Valid{"span.type = 'RETRIEVER'", Field::span_type, Op::eq, ""},
        Valid{"span.type IN ('LLM', 'CHAT_MODEL')", Field::span_type, Op::in, ""},
        Valid{"span.status = 'ERROR'", Field::span_status, Op::eq, ""},
        Valid{"span.name like '%retr%'", Field::span_name, Op::like, ""},
        Valid{"span.attributes.model = 'gpt'", Field::span_attribute, Op::eq, "model"},
        Valid{"span.attributes.`llm.model` LIKE 'gpt%'", Field::span_attribute, Op::like,
              "llm.model"},
        Valid{"span.content ILIKE '%refund%'", Field::span_content, Op::ilike, ""},
        Valid{"feedback.user_feedback = false", Field::feedback, Op::eq, "user_feedback"},
        Valid{"feedback.user_feedback = FALSE", Field::feedback, Op::eq, "user_feedback"},
        Valid{"feedback.user_feedback = 'false'", Field::feedback, Op::eq, "user_feedback"},
        Valid{"feedback.user_feedback != true", Field::feedback, Op::ne, "user_feedback"},
        Valid{"feedback.score > 3.5", Field::feedback, Op::gt, "score"},
        Valid{"feedback.score <= -1", Field::feedback, Op::le, "score"},
        Valid{"feedback.score = 3", Field::feedback, Op::eq, "score"},
        Valid{"feedback.response_accuracy = \"Accurate\"", Field::feedback, Op::eq,
              "response_accuracy"},
        Valid{"feedback.response_accuracy IN ('Inaccurate', 'Partially Accurate')", Field::feedback,
              Op::in, "response_accuracy"},
        Valid{"feedback.`user.feedback` IS NULL", Field::feedback, Op::is_null, "user.feedback"},
        Valid{"feedback.comment ILIKE '%wrong%'", Field::feedback, Op::ilike, "comment"},
        Valid{"expectation.expected_response IS NOT NULL", Field::expectation, Op::is_not_null,
              "expected_response"},
        Valid{"expectation.expected_facts LIKE '%Paris%'", Field::expectation, Op::like,
              "expected_facts"},
        Valid{"  feedback.x = 1  ", Field::feedback, Op::eq, "x"},
        Valid{"feedback.x=1", Field::feedback, Op::eq, "x"},
        Valid{"feedback.x>=.5", Field::feedback, Op::ge, "x"}));

TEST(ParseFilter, EmptyFilterMatchesEverything) {
  for (const char* text : {"", "   ", "\n\t"}) {
    auto f = parse_filter(text);
    ASSERT_TRUE(f.is_ok()) << f.status().to_string();
    EXPECT_TRUE(f->empty());
    EXPECT_FALSE(f->needs_trace());
    EXPECT_TRUE(f->matches(Trace{}));
  }
}

TEST(ParseFilter, SpecExampleRule) {
  auto f = parse_filter("feedback.user_feedback = false AND span.type = 'RETRIEVER'");
  ASSERT_TRUE(f.is_ok()) << f.status().to_string();
  ASSERT_EQ(f->conditions().size(), 2u);
  const Condition& a = f->conditions()[0];
  EXPECT_EQ(a.field, Field::feedback);
  EXPECT_EQ(a.key, "user_feedback");
  ASSERT_EQ(a.values.size(), 1u);
  EXPECT_EQ(a.values[0].kind, Literal::Kind::boolean);
  EXPECT_FALSE(a.values[0].boolean);
  EXPECT_EQ(a.text, "feedback.user_feedback = false");
  EXPECT_EQ(a.offset, 0u);
  const Condition& b = f->conditions()[1];
  EXPECT_EQ(b.field, Field::span_type);
  EXPECT_EQ(b.values[0].text, "RETRIEVER");
  EXPECT_EQ(b.text, "span.type = 'RETRIEVER'");
  EXPECT_EQ(b.offset, 35u);
  EXPECT_TRUE(f->needs_trace());
  EXPECT_TRUE(f->references_assessments());
  EXPECT_EQ(f->referenced_feedback_names(), std::vector<std::string>{"user_feedback"});
  EXPECT_TRUE(f->referenced_expectation_names().empty());
}

TEST(ParseFilter, AndIsCaseInsensitiveAndManyConditions) {
  auto f = parse_filter(
      "tag.x = 'a' AND trace.status = 'OK' and feedback.y = 'z' And expectation.e IS NOT NULL AND "
      "feedback.y > 1");
  ASSERT_TRUE(f.is_ok()) << f.status().to_string();
  EXPECT_EQ(f->conditions().size(), 5u);
  EXPECT_EQ(f->referenced_feedback_names(), std::vector<std::string>{"y"});
  EXPECT_EQ(f->referenced_expectation_names(), std::vector<std::string>{"e"});
}

TEST(ParseFilter, NeedsTraceOnlyForTraceFields) {
  auto only_feedback = parse_filter("feedback.a = false AND expectation.b IS NULL");
  ASSERT_TRUE(only_feedback.is_ok());
  EXPECT_FALSE(only_feedback->needs_trace());
  EXPECT_TRUE(only_feedback->references_assessments());
  for (const char* text :
       {"tag.a = 'x'", "metadata.a = 'x'", "span.name = 'x'", "trace.status = 'OK'"}) {
    auto f = parse_filter(text);
    ASSERT_TRUE(f.is_ok()) << text;
    EXPECT_TRUE(f->needs_trace()) << text;
    EXPECT_FALSE(f->references_assessments()) << text;
  }
}

TEST(ParseFilter, StringLiteralsAndEscapes) {
  struct Case {
    const char* text;
    const char* value;
  } cases[] = {
      {"tag.a = 'it''s'", "it's"},
      {"tag.a = 'it\\'s'", "it's"},
      {"tag.a = \"say \\\"hi\\\"\"", "say \"hi\""},
      {"tag.a = \"a\"\"b\"", "a\"b"},
      {"tag.a = 'x\\\\y'", "x\\y"},
      {"tag.a = 'line\\nbreak\\ttab'", "line\nbreak\ttab"},
      {"tag.a = ''", ""},
      {"tag.a = 'h\xC3\xA9llo'", "h\xC3\xA9llo"},
      {"tag.a LIKE '100\\%'", "100\\%"},
      {"tag.a = 'AND'", "AND"},
  };
  for (const auto& c : cases) {
    auto f = parse_filter(c.text);
    ASSERT_TRUE(f.is_ok()) << c.text << " -> " << f.status().to_string();
    EXPECT_EQ(f->conditions()[0].values[0].text, c.value) << c.text;
  }
}

TEST(ParseFilter, NumberLiterals) {
  struct Case {
    const char* text;
    double value;
  } cases[] = {{"feedback.s > 3", 3},
               {"feedback.s > -3.25", -3.25},
               {"feedback.s > 1e3", 1000},
               {"feedback.s > +2", 2},
               {"feedback.s > .5", 0.5},
               {"feedback.s > -.5", -0.5},
               {"trace.timestamp_ms > 1700000000123", 1700000000123.0}};
  for (const auto& c : cases) {
    auto f = parse_filter(c.text);
    ASSERT_TRUE(f.is_ok()) << c.text << " -> " << f.status().to_string();
    EXPECT_EQ(f->conditions()[0].values[0].kind, Literal::Kind::number);
    EXPECT_DOUBLE_EQ(f->conditions()[0].values[0].number, c.value) << c.text;
  }
}

TEST(ParseFilter, InListValues) {
  auto f = parse_filter("feedback.r IN ('a', 2, true)");
  ASSERT_TRUE(f.is_ok()) << f.status().to_string();
  const auto& v = f->conditions()[0].values;
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].kind, Literal::Kind::string);
  EXPECT_EQ(v[1].kind, Literal::Kind::number);
  EXPECT_EQ(v[2].kind, Literal::Kind::boolean);
  EXPECT_EQ(f->conditions()[0].text, "feedback.r IN ('a', 2, true)");
}

struct Invalid {
  const char* text;
  const char* message;
  int column;
};

class InvalidFilter : public ::testing::TestWithParam<Invalid> {};

TEST_P(InvalidFilter, FailsWithPositionAndMessage) {
  const Invalid& v = GetParam();
  ErrorPosition pos;
  auto f = parse_filter(v.text, &pos);
  ASSERT_FALSE(f.is_ok()) << v.text;
  EXPECT_EQ(f.status().code(), ErrorCode::invalid_argument);
  EXPECT_EQ(f.status().message(), v.message) << v.text;
  EXPECT_EQ(pos.column, v.column) << v.text;
  EXPECT_EQ(pos.line, 1);
}

INSTANTIATE_TEST_SUITE_P(
    Errors, InvalidFilter,
    ::testing::Values(
        Invalid{"span.type = 'LLM' AND feedback.user_feedback == false",
                "filter: column 46: expected an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, "
                "NOT IN, IS) after "
                "\"feedback.user_feedback\", got \"==\"",
                46},
        Invalid{"feedback.user_feedback <> false",
                "filter: column 24: expected an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, "
                "NOT IN, IS) after "
                "\"feedback.user_feedback\", got \"<>\"",
                24},
        Invalid{"tag.env",
                "filter: column 8: expected an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT "
                "IN, IS) "
                "after \"tag.env\", got end of filter",
                8},
        Invalid{"tag.my-key = 'x'",
                "filter: column 7: expected an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT "
                "IN, IS) after "
                "\"tag.my\", got \"-\" (quote keys with other characters in backticks, e.g. "
                "tag.`my-key`)",
                7},
        Invalid{"foo.bar = 'x'",
                "filter: column 1: unknown field prefix \"foo\": expected trace.<attribute>, "
                "tag.<key>, "
                "metadata.<key>, span.<attribute>, feedback.<name> or expectation.<name>",
                1},
        Invalid{"assessment.x = 1",
                "filter: column 1: unknown field prefix \"assessment\": use feedback.<name> or "
                "expectation.<name>",
                1},
        Invalid{"colour = 'red'",
                "filter: column 1: unknown field \"colour\": expected trace.<attribute>, "
                "tag.<key>, metadata.<key>, "
                "span.<attribute>, feedback.<name> or expectation.<name>",
                1},
        Invalid{"trace.colour = 'red'",
                "filter: column 7: unknown trace attribute \"colour\": expected one of status, "
                "timestamp_ms, "
                "execution_time_ms, end_time_ms, name, request_id, client_request_id, run_id",
                7},
        Invalid{"span.kind = 'LLM'",
                "filter: column 6: unknown span attribute \"kind\": expected name, type, status, "
                "content or "
                "attributes.<key>",
                6},
        Invalid{"span.attributes = 'x'",
                "filter: column 16: expected a key after \"span.attributes.\"", 16},
        Invalid{"tag. = 'x'", "filter: column 5: expected a key after \"tag.\"", 5},
        Invalid{"feedback. IS NULL", "filter: column 10: expected a key after \"feedback.\"", 10},
        Invalid{"trace.timestamp_ms LIKE '17%'",
                "filter: column 20: operator LIKE is not allowed for number field "
                "trace.timestamp_ms (allowed: =, "
                "!=, <, <=, >, >=)",
                20},
        Invalid{"trace.execution_time_ms IS NULL",
                "filter: column 25: operator IS NULL is not allowed for number field "
                "trace.execution_time_ms "
                "(allowed: =, !=, <, <=, >, >=)",
                25},
        Invalid{"trace.timestamp_ms IN (1, 2)",
                "filter: column 20: operator IN is not allowed for number field trace.timestamp_ms "
                "(allowed: =, "
                "!=, <, <=, >, >=)",
                20},
        Invalid{"trace.status > 'OK'",
                "filter: column 14: operator > is not allowed for string field trace.status "
                "(allowed: =, !=, LIKE, "
                "ILIKE, IN, NOT IN)",
                14},
        Invalid{"tag.env >= 'a'",
                "filter: column 9: operator >= is not allowed for string field tag.env (allowed: "
                "=, !=, LIKE, "
                "ILIKE, IN, NOT IN, IS NULL, IS NOT NULL)",
                9},
        Invalid{"span.name IS NULL",
                "filter: column 11: operator IS NULL is not allowed for string field span.name "
                "(allowed: =, !=, "
                "LIKE, ILIKE, IN, NOT IN)",
                11},
        Invalid{"span.content = 'x'",
                "filter: column 14: operator = is not allowed for span content field span.content "
                "(allowed: LIKE, "
                "ILIKE)",
                14},
        Invalid{"trace.timestamp_ms > 'yesterday'",
                "filter: column 22: expected a number after \"trace.timestamp_ms >\", got "
                "\"'yesterday'\"",
                22},
        Invalid{"trace.status = OK",
                "filter: column 16: expected a quoted string after \"trace.status =\", got \"OK\"",
                16},
        Invalid{"tag.env = 3",
                "filter: column 11: expected a quoted string after \"tag.env =\", got \"3\"", 11},
        Invalid{"tag.env = true",
                "filter: column 11: expected a quoted string after \"tag.env =\", got \"true\"",
                11},
        Invalid{"feedback.score > 'high'",
                "filter: column 18: expected a number after \"feedback.score >\", got \"'high'\"",
                18},
        Invalid{"feedback.score > true",
                "filter: column 18: expected a number after \"feedback.score >\", got \"true\"",
                18},
        Invalid{"feedback.score = bad",
                "filter: column 18: expected a quoted string, a number, true or false after "
                "\"feedback.score =\", got "
                "\"bad\"",
                18},
        Invalid{"feedback.c LIKE 3",
                "filter: column 17: expected a quoted string pattern after \"feedback.c LIKE\", "
                "got \"3\"",
                17},
        Invalid{"feedback.c =",
                "filter: column 13: expected a quoted string, a number, true or false after "
                "\"feedback.c =\", got end of filter",
                13},
        Invalid{"tag.env = 'prod", "filter: column 11: unterminated string: missing closing '", 11},
        Invalid{"tag.env = \"prod", "filter: column 11: unterminated string: missing closing \"",
                11},
        Invalid{"tag.env = 'a\\qb'",
                "filter: column 13: invalid escape \"\\q\" in string (use \\\\, \\', \\\", \\n, "
                "\\t, \\r, \\% or \\_)",
                13},
        Invalid{"metadata.`mlflow.trace.user = 'x'",
                "filter: column 10: unterminated `quoted` key: missing closing `", 10},
        Invalid{"feedback.s > 1.2.3", "filter: column 14: invalid number \"1.2.3\"", 14},
        Invalid{"feedback.s > 12abc", "filter: column 14: invalid number \"12abc\"", 14},
        Invalid{"feedback.s > 1e999", "filter: column 14: invalid number \"1e999\"", 14},
        Invalid{"tag.a = 'x' tag.b = 'y'",
                "filter: column 13: expected AND or the end of the filter after \"tag.a = 'x'\", "
                "got \"tag.b\"",
                13},
        Invalid{"tag.a = 'x' OR tag.b = 'y'",
                "filter: column 13: OR is not supported: conditions can only be joined by AND", 13},
        Invalid{"tag.a = 'x' AND",
                "filter: column 16: expected a condition after AND, got end of filter", 16},
        Invalid{
            "tag.a = 'x' AND AND tag.b = 'y'",
            "filter: column 17: expected a field (trace.<attribute>, tag.<key>, metadata.<key>, "
            "span.<attribute>, feedback.<name> or expectation.<name>), got \"AND\"",
            17},
        Invalid{"AND tag.a = 'x'",
                "filter: column 1: expected a field (trace.<attribute>, tag.<key>, metadata.<key>, "
                "span.<attribute>, feedback.<name> or expectation.<name>), got \"AND\"",
                1},
        Invalid{"(tag.a = 'x')",
                "filter: column 1: expected a field (trace.<attribute>, tag.<key>, metadata.<key>, "
                "span.<attribute>, feedback.<name> or expectation.<name>), got \"(\"",
                1},
        Invalid{"'x' = tag.a",
                "filter: column 1: expected a field (trace.<attribute>, tag.<key>, metadata.<key>, "
                "span.<attribute>, feedback.<name> or expectation.<name>), got \"'x'\"",
                1},
        Invalid{"tag.a IS 'x'",
                "filter: column 10: expected NULL or NOT NULL after IS, got \"'x'\"", 10},
        Invalid{"tag.a IS NOT 'x'", "filter: column 14: expected NULL after IS NOT, got \"'x'\"",
                14},
        Invalid{"tag.a NOT LIKE 'x'", "filter: column 11: expected IN after NOT, got \"LIKE\"", 11},
        Invalid{"trace.name RLIKE 'a.*'",
                "filter: column 12: operator RLIKE is not supported (use LIKE or ILIKE)", 12},
        Invalid{"trace.status IN 'OK'",
                "filter: column 17: expected \"(\" after \"trace.status IN\", got \"'OK'\"", 17},
        Invalid{"trace.status IN ()",
                "filter: column 18: expected a value in the list after \"trace.status IN (\", got "
                "\")\"",
                18},
        Invalid{"trace.status IN ('OK' 'ERROR')",
                "filter: column 23: expected \",\" or \")\" in the list after \"trace.status IN\", "
                "got \"'ERROR'\"",
                23},
        Invalid{"trace.status IN ('OK',",
                "filter: column 23: expected a quoted string after \"trace.status IN (...\", got "
                "end of filter",
                23},
        Invalid{
            "trace.status IN ('OK', 3)",
            "filter: column 24: expected a quoted string after \"trace.status IN (...\", got \"3\"",
            24},
        Invalid{"feedback.x = 1 ; DROP TABLE",
                "filter: column 16: expected AND or the end of the filter after \"feedback.x = "
                "1\", got \";\"",
                16},
        Invalid{"tag.h\xC3\xA9 = 'x' AND tag.b == 'y'",
                "filter: column 24: expected an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, "
                "NOT IN, IS) after "
                "\"tag.b\", got \"==\"",
                24}));

TEST(ParseFilter, MultiLineErrorsNameLineAndColumn) {
  ErrorPosition pos;
  auto f = parse_filter("feedback.user_feedback = false\nAND span.type == 'RETRIEVER'", &pos);
  ASSERT_FALSE(f.is_ok());
  EXPECT_EQ(f.status().message(),
            "filter: line 2, column 15: expected an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, "
            "IN, NOT IN, IS) "
            "after \"span.type\", got \"==\"");
  EXPECT_EQ(pos.line, 2);
  EXPECT_EQ(pos.column, 15);
  EXPECT_EQ(pos.offset, 45u);
}

TEST(ParseFilter, ReportsTheFirstErrorInTextOrder) {
  // The syntax error comes before the unterminated string, so it is the one reported.
  auto f = parse_filter("tag.a == 'x' AND tag.b = 'unterminated");
  ASSERT_FALSE(f.is_ok());
  EXPECT_NE(f.status().message().find("column 7: expected an operator"), std::string::npos)
      << f.status().message();
}

TEST(ParseFilter, LongTokensAreShortenedInMessages) {
  auto f = parse_filter("tag.a = 'x' " + std::string(60, 'z'));
  ASSERT_FALSE(f.is_ok());
  EXPECT_EQ(
      f.status().message(),
      "filter: column 13: expected AND or the end of the filter after \"tag.a = 'x'\", got \"" +
          std::string(40, 'z') + "...\"");
}

}  // namespace
}  // namespace tracefeed::filter
