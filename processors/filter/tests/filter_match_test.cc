// Evaluation over hand-built traces: trace fields, any-span semantics, assessments with
// override/latest-valid semantics, JSON value typing.
#include <gtest/gtest.h>

#include "processors/filter/filter.h"

namespace tracefeed::filter {
namespace {

constexpr UnixNanos kMs = 1'000'000;

Span make_span(std::string id, std::string parent, std::string name, std::string type,
               SpanStatus status = SpanStatus::ok) {
  Span s;
  s.span_id = std::move(id);
  s.parent_span_id = std::move(parent);
  s.name = std::move(name);
  s.span_type = std::move(type);
  s.status = status;
  return s;
}

Assessment feedback(std::string id, std::string name, JsonText value, UnixNanos time,
                    bool valid = true) {
  Assessment a;
  a.assessment_id = std::move(id);
  a.assessment_name = std::move(name);
  a.trace_id = "tr-0123456789abcdef0123456789abcdef";
  a.create_time = time;
  a.last_update_time = time;
  a.value = Feedback{std::move(value), std::nullopt};
  a.valid = valid;
  return a;
}

Assessment expectation(std::string id, std::string name, JsonText value, UnixNanos time,
                       bool valid = true) {
  Assessment a = feedback(std::move(id), std::move(name), "", time, valid);
  a.value = Expectation{std::move(value)};
  return a;
}

// The quickstart trace: a RAG app with a retriever and an LLM span, a thumbs-down.
Trace quickstart_trace() {
  Trace t;
  TraceInfo& i = t.trace_info;
  i.trace_id = "tr-0123456789abcdef0123456789abcdef";
  i.client_request_id = "req-42";
  i.request_time = 1'700'000'000'123 * kMs + 456;
  i.execution_duration_ns = 1'250 * kMs;
  i.state = TraceState::ok;
  i.trace_metadata = {{"mlflow.trace.user", "alice"},
                      {"mlflow.trace.session", "s-1"},
                      {"mlflow.sourceRun", "run-7"}};
  i.tags = {{"env", "prod"}, {"team", "search"}};
  t.spans.push_back(
      make_span("b000000000000001", "b000000000000000", "retrieve_docs", "RETRIEVER"));
  t.spans.push_back(make_span("b000000000000000", "", "answer_question", "CHAIN"));
  Span llm = make_span("b000000000000002", "b000000000000000", "ChatOpenAI", "CHAT_MODEL",
                       SpanStatus::error);
  llm.attributes = {
      {"model", "\"gpt-4o-mini\""}, {"temperature", "0.2"}, {"llm.provider", "\"openai\""}};
  llm.inputs = "{\"messages\":[{\"role\":\"user\",\"content\":\"What is MLflow?\"}]}";
  llm.outputs = "{\"content\":\"MLflow is an open source platform\"}";
  t.spans.push_back(std::move(llm));
  i.assessments.push_back(feedback("a-1", "user_feedback", "false", 10 * kMs));
  i.assessments.push_back(feedback("a-2", "helpfulness", "3.5", 11 * kMs));
  i.assessments.push_back(feedback("a-3", "response_accuracy", "\"Partially Accurate\"", 12 * kMs));
  i.assessments.push_back(expectation("a-4", "expected_response",
                                      "\"MLflow is an open-source MLOps platform\"", 13 * kMs));
  return t;
}

bool eval(std::string_view text, const Trace& t) {
  auto f = parse_filter(text);
  EXPECT_TRUE(f.is_ok()) << text << " -> " << f.status().to_string();
  return f.is_ok() && f->matches(t);
}

struct Case {
  const char* text;
  bool expected;
};

class QuickstartTrace : public ::testing::TestWithParam<Case> {};

TEST_P(QuickstartTrace, Evaluates) {
  static const Trace t = quickstart_trace();
  EXPECT_EQ(eval(GetParam().text, t), GetParam().expected) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    Fields, QuickstartTrace,
    ::testing::Values(
        // The spec's example rule.
        Case{"feedback.user_feedback = false AND span.type = 'RETRIEVER'", true},
        Case{"feedback.user_feedback = true AND span.type = 'RETRIEVER'", false},
        Case{"feedback.user_feedback = false AND span.type = 'TOOL'", false},
        // trace attributes
        Case{"trace.status = 'OK'", true}, Case{"status != 'OK'", false},
        Case{"trace.status IN ('ERROR', 'OK')", true},
        Case{"trace.status NOT IN ('ERROR', 'IN_PROGRESS')", true},
        Case{"trace.timestamp_ms = 1700000000123", true},
        Case{"trace.timestamp_ms > 1700000000122 AND trace.timestamp_ms < 1700000000124", true},
        Case{"trace.timestamp >= 1700000000124", false},
        Case{"trace.execution_time_ms = 1250", true}, Case{"trace.execution_time_ms > 1000", true},
        Case{"trace.end_time_ms = 1700000001373", true},
        Case{"trace.name = 'answer_question'", true}, Case{"trace.name LIKE 'answer%'", true},
        Case{"trace.name IS NOT NULL", true},
        Case{"trace.request_id = 'tr-0123456789abcdef0123456789abcdef'", true},
        Case{"trace.trace_id LIKE 'tr-0123%'", true},
        Case{"trace.client_request_id = 'req-42'", true}, Case{"run_id = 'run-7'", true},
        // tags and metadata
        Case{"tag.env = 'prod'", true}, Case{"tags.env != 'prod'", false},
        Case{"tag.env != 'dev'", true},
        Case{"tag.missing != 'dev'", false},  // SQL semantics: absent never compares
        Case{"tag.missing IS NULL", true}, Case{"tag.env IS NULL", false},
        Case{"tag.env IS NOT NULL", true}, Case{"tag.team IN ('search', 'ads')", true},
        Case{"tag.team NOT IN ('search')", false},
        Case{"metadata.`mlflow.trace.user` = 'alice'", true},
        Case{"request_metadata.`mlflow.trace.user` = \"bob\"", false},
        Case{"metadata.mlflow.trace.user ILIKE 'ALI%'", true},
        Case{"metadata.`mlflow.trace.session` IS NOT NULL", true},
        Case{"metadata.`mlflow.trace.user` LIKE 'ALI%'", false},
        // spans: any span matches
        Case{"span.name = 'ChatOpenAI'", true}, Case{"span.name = 'nope'", false},
        Case{"span.name != 'ChatOpenAI'", true},  // some span is not ChatOpenAI
        Case{"span.type IN ('LLM', 'CHAT_MODEL')", true},
        Case{"span.type NOT IN ('RETRIEVER', 'CHAIN', 'CHAT_MODEL')", false},
        Case{"span.status = 'ERROR'", true}, Case{"span.name LIKE '%docs'", true},
        Case{"span.name ILIKE 'chat%'", true}, Case{"span.attributes.model = 'gpt-4o-mini'", true},
        Case{"span.attributes.model LIKE 'gpt-4%'", true},
        Case{"span.attributes.temperature = '0.2'", true},
        Case{"span.attributes.`llm.provider` = 'openai'", true},
        Case{"span.attributes.missing = 'x'", false},
        Case{"span.content LIKE '%open source%'", true},
        Case{"span.content ILIKE '%WHAT IS MLFLOW%'", true},
        Case{"span.content LIKE '%kubernetes%'", false},
        // feedback values keep their JSON type
        Case{"feedback.user_feedback = 'false'", true},  // MLflow's quoted form
        Case{"feedback.user_feedback != false", false}, Case{"feedback.user_feedback = 0", false},
        Case{"feedback.user_feedback IS NOT NULL", true}, Case{"feedback.helpfulness = 3.5", true},
        Case{"feedback.helpfulness = '3.5'", true}, Case{"feedback.helpfulness > 3", true},
        Case{"feedback.helpfulness >= 3.5", true}, Case{"feedback.helpfulness < 3.5", false},
        Case{"feedback.helpfulness <= 3.5", true}, Case{"feedback.helpfulness != 4", true},
        Case{"feedback.user_feedback < 1", false},  // a bool is not a number
        Case{"feedback.response_accuracy = 'Partially Accurate'", true},
        Case{"feedback.response_accuracy = \"Accurate\"", false},
        Case{"feedback.response_accuracy LIKE 'Partially%'", true},
        Case{"feedback.response_accuracy ILIKE 'partially accurate'", true},
        Case{"feedback.response_accuracy IN ('Inaccurate', 'Partially Accurate')", true},
        Case{"feedback.response_accuracy NOT IN ('Inaccurate', 'Partially Accurate')", false},
        Case{"feedback.response_accuracy > 1", false}, Case{"feedback.missing IS NULL", true},
        Case{"feedback.missing IS NOT NULL", false}, Case{"feedback.missing = false", false},
        Case{"feedback.missing != false", false}, Case{"feedback.missing NOT IN ('x')", false},
        // an expectation is not a feedback, and vice versa
        Case{"expectation.expected_response IS NOT NULL", true},
        Case{"feedback.expected_response IS NULL", true},
        Case{"expectation.user_feedback IS NULL", true},
        Case{"expectation.expected_response LIKE '%MLOps%'", true}));

TEST(Match, OverriddenFeedbackNoLongerMatches) {
  Trace t = quickstart_trace();
  // A human overrides the thumbs-down: the original becomes invalid.
  t.trace_info.assessments[0].valid = false;
  Assessment fix = feedback("a-9", "user_feedback", "true", 20 * kMs);
  fix.overrides = "a-1";
  t.trace_info.assessments.push_back(fix);
  EXPECT_FALSE(eval("feedback.user_feedback = false", t));
  EXPECT_TRUE(eval("feedback.user_feedback = true", t));

  // Only invalid feedback left: as if there were none.
  t.trace_info.assessments.back().valid = false;
  EXPECT_FALSE(eval("feedback.user_feedback = false", t));
  EXPECT_FALSE(eval("feedback.user_feedback = true", t));
  EXPECT_TRUE(eval("feedback.user_feedback IS NULL", t));
}

TEST(Match, LatestValidFeedbackWins) {
  Trace t;
  auto& as = t.trace_info.assessments;
  as.push_back(feedback("a-1", "rating", "1", 30 * kMs));
  as.push_back(feedback("a-2", "rating", "5", 10 * kMs));                   // older, listed later
  as.push_back(feedback("a-3", "rating", "2", 40 * kMs, /*valid=*/false));  // newest but overridden
  EXPECT_TRUE(eval("feedback.rating = 1", t));
  EXPECT_FALSE(eval("feedback.rating = 5", t));
  EXPECT_FALSE(eval("feedback.rating = 2", t));

  // An update moves last_update_time: the updated one is now the latest.
  as[1].last_update_time = 50 * kMs;
  EXPECT_TRUE(eval("feedback.rating = 5", t));

  // create_time is used when last_update_time is unset.
  as.push_back(feedback("a-4", "rating", "4", 0));
  as.back().create_time = 60 * kMs;
  EXPECT_TRUE(eval("feedback.rating = 4", t));

  // Equal times: the later in the list wins (deterministic).
  as.push_back(feedback("a-5", "rating", "3", 60 * kMs));
  EXPECT_TRUE(eval("feedback.rating = 3", t));
}

TEST(Match, FeedbackWithErrorAndNoValueIsNull) {
  Trace t;
  Assessment a = feedback("a-1", "judge", "", 10 * kMs);
  std::get<Feedback>(a.value).error = AssessmentError{"TIMEOUT", "judge timed out"};
  t.trace_info.assessments.push_back(a);
  EXPECT_TRUE(eval("feedback.judge IS NULL", t));
  EXPECT_FALSE(eval("feedback.judge = 'TIMEOUT'", t));
  t.trace_info.assessments[0].value = Feedback{"null", std::nullopt};
  EXPECT_TRUE(eval("feedback.judge IS NULL", t));
}

TEST(Match, JsonStringsWithEscapesAndComposites) {
  Trace t;
  auto& as = t.trace_info.assessments;
  as.push_back(feedback("a-1", "comment", "\"said \\\"no\\\" \\u00e9\\ud83d\\ude00\"", kMs));
  as.push_back(feedback("a-2", "facts", "[\"a\",\"b\"]", kMs));
  as.push_back(feedback("a-3", "big", "1e3", kMs));
  EXPECT_TRUE(eval("feedback.comment = 'said \"no\" \xC3\xA9\xF0\x9F\x98\x80'", t));
  EXPECT_TRUE(eval("feedback.comment LIKE 'said \"no\" _\\_'", t) == false);
  EXPECT_TRUE(eval("feedback.comment LIKE 'said \"no\" __'", t));
  EXPECT_TRUE(eval("feedback.facts = '[\"a\",\"b\"]'", t));
  EXPECT_TRUE(eval("feedback.facts LIKE '%\"b\"%'", t));
  EXPECT_TRUE(eval("feedback.big = 1000", t));
  EXPECT_TRUE(eval("feedback.big = '1000'", t));
  EXPECT_TRUE(eval("feedback.big = '1e3'", t));
}

TEST(Match, SpanFieldsNeedSpans) {
  Trace t;  // no spans yet
  EXPECT_FALSE(eval("span.name != 'x'", t));
  EXPECT_FALSE(eval("span.type = 'UNKNOWN'", t));
  EXPECT_TRUE(eval("trace.name IS NULL", t));
  t.spans.push_back(make_span("c000000000000001", "c000000000000000", "child", ""));
  EXPECT_TRUE(eval("span.type = 'UNKNOWN'", t));  // absent span_type reads as UNKNOWN
  EXPECT_TRUE(eval("trace.name IS NULL", t));     // no root span yet
  t.trace_info.tags.push_back({"mlflow.traceName", "from_tag"});
  EXPECT_TRUE(eval("trace.name = 'from_tag'", t));
}

TEST(Match, FirstUnmatchedNamesTheFailingCondition) {
  Trace t = quickstart_trace();
  auto f = parse_filter("tag.env = 'prod' AND feedback.user_feedback = true AND span.type = 'LLM'");
  ASSERT_TRUE(f.is_ok());
  int i = f->first_unmatched(t);
  ASSERT_EQ(i, 1);
  EXPECT_EQ(f->conditions()[i].text, "feedback.user_feedback = true");
  auto g = parse_filter("tag.env = 'prod'");
  ASSERT_TRUE(g.is_ok());
  EXPECT_EQ(g->first_unmatched(t), -1);
}

TEST(Match, AssessmentsOnlyEvaluationForWaitingForTrace) {
  Trace t = quickstart_trace();
  auto f = parse_filter("feedback.user_feedback = false AND span.type = 'RETRIEVER'");
  ASSERT_TRUE(f.is_ok());
  // Feedback arrived before its trace: the feedback part holds, the rest waits for the trace.
  EXPECT_TRUE(f->matches_assessments(t.trace_info.assessments));
  EXPECT_TRUE(f->needs_trace());
  auto g = parse_filter("feedback.user_feedback = true AND span.type = 'RETRIEVER'");
  ASSERT_TRUE(g.is_ok());
  EXPECT_FALSE(g->matches_assessments(t.trace_info.assessments));  // filtered_out right away
}

TEST(Match, FilterIsCopyableAndReusable) {
  auto f = parse_filter("span.name LIKE 'Chat%' AND feedback.helpfulness > 3");
  ASSERT_TRUE(f.is_ok());
  Filter copy = *f;
  Filter moved = std::move(copy);
  Trace t = quickstart_trace();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(moved.matches(t));
  EXPECT_EQ(moved.text(), "span.name LIKE 'Chat%' AND feedback.helpfulness > 3");
}

}  // namespace
}  // namespace tracefeed::filter
