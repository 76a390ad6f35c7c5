#include "core/event_json.h"

#include <gtest/gtest.h>

namespace tracefeed {
namespace {

constexpr std::string_view kTraceEvent = R"({
  "event_id": "ev-1",
  "type": "trace",
  "time": "2025-06-01T12:00:01Z",
  "trace": {
    "trace_info": {
      "trace_id": "tr-0123456789abcdef0123456789abcdef",
      "client_request_id": "req-7",
      "trace_location": {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": "0"}},
      "request_time": "2025-06-01T12:00:00.250Z",
      "execution_duration": "1.250s",
      "state": "OK",
      "request_preview": "What is MLflow?",
      "response_preview": "MLflow is an open-source platform",
      "trace_metadata": {"mlflow.trace.user": "enduser_123", "mlflow.trace.session": "s-1"},
      "tags": {"env": "prod"},
      "unknown_field_from_a_newer_client": [1, 2, 3]
    },
    "spans": [
      {"span_id": "00000000000000a1", "parent_span_id": "", "name": "my_chatbot",
       "start_time_unix_nano": "1748779200250000000", "end_time_unix_nano": 1748779201500000000,
       "status": "OK", "span_type": "CHAIN",
       "inputs": {"user_question": "What is MLflow?"},
       "outputs": "MLflow is an open-source platform",
       "attributes": {"mlflow.spanType": "CHAIN", "temperature": 0.7}},
      {"span_id": "00000000000000a2", "parent_span_id": "00000000000000a1", "name": "retrieve_context",
       "start_time_unix_nano": 1748779200300000000, "end_time_unix_nano": 1748779200400000000,
       "status": {"code": "STATUS_CODE_OK"}, "span_type": "RETRIEVER",
       "inputs": {"query": "What is MLflow?"}, "outputs": [{"page_content": "MLflow is ...", "score": 1e-3}],
       "events": [{"name": "cache_miss"}]}
    ]
  }
})";

constexpr std::string_view kFeedbackEvent = R"({"event_id":"ev-2","type":"assessment","assessment":{
  "assessment_name":"user_feedback","trace_id":"tr-0123456789abcdef0123456789abcdef",
  "source":{"source_type":"HUMAN","source_id":"enduser_123"},
  "feedback":{"value":false},
  "rationale":"Missing details about MLflow's key features like Projects and Model Registry"}})";

TEST(EventJson, ParsesATraceEvent) {
  EventParser parser;
  Envelope e;
  ASSERT_TRUE(parser.parse_envelope(kTraceEvent, e).is_ok());
  EXPECT_EQ(e.event_id, "ev-1");
  EXPECT_EQ(e.type, EventType::trace);
  EXPECT_EQ(e.time, 1748779201000000000LL);
  const Trace& t = e.trace();
  EXPECT_EQ(t.trace_info.trace_id, "tr-0123456789abcdef0123456789abcdef");
  EXPECT_EQ(e.trace_id(), t.trace_info.trace_id);
  EXPECT_EQ(t.trace_info.request_time, 1748779200250000000LL);
  EXPECT_EQ(t.trace_info.execution_duration_ns, 1'250'000'000);
  EXPECT_EQ(t.trace_info.state, TraceState::ok);
  ASSERT_EQ(t.trace_info.trace_metadata.size(), 2u);
  EXPECT_EQ(t.trace_info.trace_metadata[0].second, "enduser_123");
  EXPECT_EQ(t.trace_info.trace_location, R"({"type":"MLFLOW_EXPERIMENT","mlflow_experiment":{"experiment_id":"0"}})");
  ASSERT_EQ(t.spans.size(), 2u);
  EXPECT_EQ(t.spans[0].start_time_unix_nano, 1748779200250000000LL);  // from a proto-JSON int64 string
  EXPECT_EQ(t.spans[0].inputs, R"({"user_question":"What is MLflow?"})");
  EXPECT_EQ(t.spans[0].outputs, R"("MLflow is an open-source platform")");
  ASSERT_EQ(t.spans[0].attributes.size(), 2u);
  EXPECT_EQ(t.spans[0].attributes[1].second, "0.7");
  EXPECT_EQ(t.spans[1].status, SpanStatus::ok);
  EXPECT_EQ(t.spans[1].outputs, R"([{"page_content":"MLflow is ...","score":1e-3}])");
  EXPECT_EQ(t.spans[1].events, R"([{"name":"cache_miss"}])");
  ASSERT_NE(t.root_span(), nullptr);
  EXPECT_EQ(t.root_span()->name, "my_chatbot");
}

TEST(EventJson, TraceRoundTripsThroughTheWriter) {
  EventParser parser;
  Envelope first;
  ASSERT_TRUE(parser.parse_envelope(kTraceEvent, first).is_ok());
  const std::string written = to_json(first);
  Envelope second;
  ASSERT_TRUE(parser.parse_envelope(written, second).is_ok()) << written;
  EXPECT_EQ(to_json(second), written);  // canonical form is a fixed point
  EXPECT_NE(written.find(R"("request_time":"2025-06-01T12:00:00.250Z")"), std::string::npos);
  EXPECT_NE(written.find(R"("execution_duration":"1.250s")"), std::string::npos);
}

TEST(EventJson, ParsesTheQuickstartFeedback) {
  EventParser parser;
  auto e = parser.parse_envelope(kFeedbackEvent);
  ASSERT_TRUE(e.is_ok()) << e.status().to_string();
  const Assessment& a = e->assessment();
  EXPECT_EQ(a.assessment_name, "user_feedback");
  EXPECT_EQ(a.source.source_type, SourceType::human);
  EXPECT_EQ(a.source.source_id, "enduser_123");
  ASSERT_TRUE(a.is_feedback());
  EXPECT_EQ(std::get<Feedback>(a.value).value, "false");
  EXPECT_TRUE(a.valid);
  EXPECT_TRUE(a.has(Assessment::f_rationale));
  EXPECT_FALSE(a.has(Assessment::f_span_id));
  const std::string out = to_json(*e);
  Envelope again;
  ASSERT_TRUE(parser.parse_envelope(out, again).is_ok()) << out;
  EXPECT_EQ(to_json(again), out);
}

TEST(EventJson, ExpectationSerializedValueRoundTrips) {
  EventParser parser;
  Assessment a;
  ASSERT_TRUE(parser
                  .parse_assessment(R"({"assessment_name":"expected_facts","trace_id":"tr-0123456789abcdef0123456789abcdef",
        "expectation":{"serialized_value":{"serialization_format":"JSON_FORMAT","value":"[\"Projects\", \"Model Registry\"]"}}})",
                                    a)
                  .is_ok());
  ASSERT_TRUE(a.is_expectation());
  EXPECT_EQ(std::get<Expectation>(a.value).value, R"(["Projects","Model Registry"])");
  const std::string out = to_json(a);
  EXPECT_NE(out.find(R"("serialized_value":{"serialization_format":"JSON_FORMAT","value":"[\"Projects\",\"Model Registry\"]"})"),
            std::string::npos)
      << out;
  Assessment scalar;
  ASSERT_TRUE(parser
                  .parse_assessment(R"({"assessment_name":"expected_response","trace_id":"tr-0123456789abcdef0123456789abcdef",
        "expectation":{"serialized_value":{"value":"\"MLflow manages the ML lifecycle\""}}})",
                                    scalar)
                  .is_ok());
  EXPECT_EQ(std::get<Expectation>(scalar.value).value, R"("MLflow manages the ML lifecycle")");
}

TEST(EventJson, NullCountsAsAbsent) {
  EventParser parser;
  Assessment a;
  ASSERT_TRUE(parser
                  .parse_assessment(R"({"assessment_name":"x","trace_id":"tr-0123456789abcdef0123456789abcdef",
        "span_id":null,"feedback":{"value":3.5},"rationale":null})",
                                    a)
                  .is_ok());
  EXPECT_FALSE(a.has(Assessment::f_span_id));
  EXPECT_EQ(std::get<Feedback>(a.value).value, "3.5");
}

struct Rejection {
  std::string json;
  std::string expected_message;
};

class EventJsonRejects : public ::testing::TestWithParam<Rejection> {};

TEST_P(EventJsonRejects, NamesTheField) {
  EventParser parser;
  Envelope e;
  Status s = parser.parse_envelope(GetParam().json, e);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), ErrorCode::invalid_argument);
  EXPECT_EQ(s.message(), GetParam().expected_message);
}

constexpr const char* kTid = "tr-0123456789abcdef0123456789abcdef";

std::string feedback_with(const std::string& fields) {
  return std::string(R"({"event_id":"e","type":"assessment","assessment":{)") + fields + "}}";
}

INSTANTIATE_TEST_SUITE_P(
    Cases, EventJsonRejects,
    ::testing::Values(
        Rejection{R"({"type":"trace","trace":{"trace_info":{"trace_id":"tr-12"}}})",
                  R"(trace.trace_info.trace_id: expected "tr-" + 32 lowercase hex, got "tr-12")"},
        Rejection{R"({"type":"trace","trace":{"trace_info":{}}})", "trace.trace_info.trace_id: required"},
        Rejection{R"({"type":"trace","trace":{"trace_info":{"trace_id":7}}})",
                  "trace.trace_info.trace_id: expected a string"},
        Rejection{std::string(R"({"type":"trace","trace":{"trace_info":{"trace_id":")") + kTid +
                      R"("},"spans":[{"span_id":"00000000000000a1","name":"a"},{"span_id":"xyz","name":"b"}]}})",
                  R"(trace.spans[1].span_id: expected 16 lowercase hex, got "xyz")"},
        Rejection{std::string(R"({"type":"trace","trace":{"trace_info":{"trace_id":")") + kTid +
                      R"(","state":"DONE"}}})",
                  R"(trace.trace_info.state: expected OK, ERROR or IN_PROGRESS, got "DONE")"},
        Rejection{std::string(R"({"type":"trace","trace":{"trace_info":{"trace_id":")") + kTid +
                      R"(","request_time":"yesterday"}}})",
                  R"(trace.trace_info.request_time: expected an RFC 3339 time like "2025-06-01T12:00:00.250Z", got "yesterday")"},
        Rejection{std::string(R"({"type":"trace","trace":{"trace_info":{"trace_id":")") + kTid +
                      R"("},"spans":[{"span_id":"00000000000000a1","name":"a","start_time_unix_nano":"soon"}]}})",
                  R"(trace.spans[0].start_time_unix_nano: expected an integer, got "soon")"},
        Rejection{feedback_with(R"("assessment_name":"user.feedback","trace_id":")" + std::string(kTid) +
                                R"(","feedback":{"value":false})"),
                  R"(assessment.assessment_name: must not contain '.', got "user.feedback")"},
        Rejection{feedback_with(R"("assessment_name":"f","trace_id":")" + std::string(kTid) + R"(")"),
                  "assessment.feedback: exactly one of feedback or expectation is required"},
        Rejection{feedback_with(R"("assessment_name":"f","trace_id":")" + std::string(kTid) +
                                R"(","feedback":{"value":1},"expectation":{"value":2})"),
                  "assessment.expectation: an assessment has exactly one of feedback or expectation"},
        Rejection{feedback_with(R"("assessment_name":"f","trace_id":")" + std::string(kTid) +
                                R"(","source":{"source_type":"ROBOT"},"feedback":{"value":1})"),
                  R"(assessment.source.source_type: expected HUMAN, LLM_JUDGE or CODE, got "ROBOT")"},
        Rejection{feedback_with(R"("assessment_name":"f","trace_id":")" + std::string(kTid) +
                                R"(","feedback":{})"),
                  "assessment.feedback.value: required (or feedback.error)"},
        Rejection{feedback_with(R"("assessment_name":"f","trace_id":")" + std::string(kTid) +
                                R"(","metadata":{"k":1},"feedback":{"value":1})"),
                  "assessment.metadata.k: expected a string"},
        Rejection{R"({"type":"assessment_delete","assessment":{"trace_id":"tr-0123456789abcdef0123456789abcdef"}})",
                  "assessment.assessment_id: required"},
        Rejection{R"({"type":"assessment"})", "assessment: required for type \"assessment\""},
        Rejection{R"({"type":"kudos"})",
                  R"(type: expected trace, assessment, assessment_update or assessment_delete, got "kudos")"},
        Rejection{R"({"event_id":"x"})", "type: required"},
        Rejection{R"([1,2])", "expected a JSON object, got an array"},
        Rejection{R"({"type":"trace"} {"more":1})",
                  "malformed JSON at byte 17: Unexpected trailing content in the JSON input."}));

TEST(EventJson, RejectsMalformedJsonWithAPosition) {
  EventParser parser;
  Envelope e;
  Status s = parser.parse_envelope(R"({"type":"trace","trace":{"trace_info":{"trace_id": tru}}})", e);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("trace.trace_info.trace_id"), std::string::npos) << s.message();
  s = parser.parse_envelope("{\"type\":\"tra", e);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("malformed JSON"), std::string::npos) << s.message();
}

TEST(EventJson, RejectsInvalidUtf8) {
  EventParser parser;
  Envelope e;
  std::string bad = feedback_with(R"("assessment_name":"f","trace_id":")" + std::string(kTid) +
                                  R"(","feedback":{"value":")" + std::string("\xff\xfe") + R"("})");
  Status s = parser.parse_envelope(bad, e);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.message(), "malformed JSON: the input is not valid UTF-8");
  // A bad escape is malformed JSON too, with the field and position.
  s = parser.parse_envelope(feedback_with(R"("assessment_name":"f","trace_id":")" + std::string(kTid) +
                                          R"(","feedback":{"value":"\x"})"),
                            e);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("assessment.feedback.value: malformed JSON at byte"), std::string::npos) << s.message();
}

TEST(EventJson, RejectsTooDeepValues) {
  EventParser parser;
  Assessment a;
  std::string deep(100, '[');
  deep += std::string(100, ']');
  Status s = parser.parse_assessment(
      R"({"assessment_name":"f","trace_id":")" + std::string(kTid) + R"(","feedback":{"value":)" + deep + "}}", a);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.message(), "feedback.value: nested deeper than 64 levels");
}

TEST(EventJson, ParserIsReusableAfterAnError) {
  EventParser parser;
  Envelope e;
  EXPECT_FALSE(parser.parse_envelope("{nope", e).is_ok());
  EXPECT_TRUE(parser.parse_envelope(kFeedbackEvent, e).is_ok());
  EXPECT_TRUE(parser.parse_envelope(kTraceEvent, e).is_ok());
  EXPECT_EQ(e.trace().spans.size(), 2u);
}

TEST(EventJson, UpdateNeedsOnlyIdsAndChangedFields) {
  EventParser parser;
  auto e = parser.parse_envelope(
      R"({"event_id":"u1","type":"assessment_update","assessment":{"assessment_id":"a-01","trace_id":")" +
      std::string(kTid) + R"(","rationale":"clearer now"}})");
  ASSERT_TRUE(e.is_ok()) << e.status().to_string();
  EXPECT_TRUE(e->assessment().has(Assessment::f_rationale));
  EXPECT_FALSE(e->assessment().has(Assessment::f_name));
}

}  // namespace
}  // namespace tracefeed

namespace tracefeed {
namespace {

// On x86-64 builds made for x86-64-v3 the parser must run simdjson's haswell kernel; the
// scalar fallback is several times slower and is chosen silently when compile flags are wrong.
TEST(EventJson, UsesTheSimdKernelTheBuildAskedFor) {
#if defined(__AVX2__) && defined(__PCLMUL__)
  EXPECT_EQ(json_kernel_name(), "haswell");
#else
  GTEST_SKIP() << "portable build: kernel " << json_kernel_name();
#endif
}

}  // namespace
}  // namespace tracefeed
