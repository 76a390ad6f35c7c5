// Unit tests of the gateway's routes against a fake EventSink: every mapping and rejection.
// MLflow request bodies are the ones mlflow-skinny 3.17.2's RestStore sends (captured with
// message_to_json on the client's own protos; see the comments at each body).

#include "producers/gateway/gateway.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include "core/ids.h"
#include "producers/gateway/tests/fake_sinks.h"

namespace tracefeed::gateway {
namespace {

using testing::FakeDeadLetters;
using testing::FakeEventSink;

constexpr std::string_view kTrace = "tr-0123456789abcdef0123456789abcdef";

std::string feedback_event(std::string_view event_id, std::string_view name = "user_feedback") {
  std::string e = "{";
  if (!event_id.empty()) e += "\"event_id\":\"" + std::string(event_id) + "\",";
  e += R"("type":"assessment","assessment":{"assessment_name":")" + std::string(name) + R"(","trace_id":")" +
       std::string(kTrace) + R"(","source":{"source_type":"HUMAN","source_id":"enduser_123"},"feedback":{"value":false}}})";
  return e;
}

http::Request post(std::string path, std::string body, std::string content_type = "application/json") {
  http::Request r;
  r.method = "POST";
  r.path = std::move(path);
  r.body = std::move(body);
  if (!content_type.empty()) r.headers.emplace_back("content-type", std::move(content_type));
  return r;
}

struct Json {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  explicit Json(const std::string& text) { EXPECT_EQ(parser.parse(text).get(root), simdjson::SUCCESS) << text; }
  std::string str(std::string_view pointer) {
    std::string_view v;
    if (root.at_pointer(pointer).get(v)) return "<missing " + std::string(pointer) + ">";
    return std::string(v);
  }
  int64_t num(std::string_view pointer) {
    int64_t v = -1;
    if (root.at_pointer(pointer).get(v)) return -1;
    return v;
  }
  bool has(std::string_view pointer) { return root.at_pointer(pointer).error() == simdjson::SUCCESS; }
};

class GatewayTest : public ::testing::Test {
 protected:
  ManualClock clock;
  FakeEventSink sink;
  FakeDeadLetters dead;
  Gateway gw{GatewayOptions{}, sink, clock, &dead};

  http::Response events(const std::string& body, std::string content_type = "application/json",
                        std::string idempotency_key = "") {
    http::Request req = post("/api/v1/events", body, std::move(content_type));
    if (!idempotency_key.empty()) req.headers.emplace_back("idempotency-key", idempotency_key);
    http::Response res;
    gw.handle_events(req, res);
    return res;
  }
};

// ---- native batch --------------------------------------------------------------------------

TEST_F(GatewayTest, JsonArrayIsAcceptedAfterPublish) {
  auto res = events("[" + feedback_event("e1") + ", " + feedback_event("e2") + "]");
  EXPECT_EQ(res.status, 202);
  EXPECT_EQ(res.body, R"({"accepted":2})");
  ASSERT_EQ(sink.published.size(), 2u);
  EXPECT_EQ(sink.published[0].event_id, "e1");
  EXPECT_EQ(sink.published[1].event_id, "e2");
  EXPECT_EQ(sink.published[0].type, EventType::assessment);
  EXPECT_EQ(sink.published[0].time, 1'700'000'000'000'000'000) << "missing time is filled from the clock";
  EXPECT_EQ(gw.stats().ingested(EventType::assessment), 2u);
}

TEST_F(GatewayTest, NdjsonByContentTypeSkipsBlankLines) {
  auto res = events(feedback_event("e1") + "\n\n" + feedback_event("e2") + "\r\n", "application/x-ndjson");
  EXPECT_EQ(res.status, 202);
  EXPECT_EQ(res.body, R"({"accepted":2})");
}

TEST_F(GatewayTest, NdjsonIsDetectedUnderApplicationJson) {
  auto res = events(feedback_event("e1") + "\n" + feedback_event("e2") + "\n", "application/json; charset=utf-8");
  EXPECT_EQ(res.status, 202);
  EXPECT_EQ(res.body, R"({"accepted":2})");
}

TEST_F(GatewayTest, SinglePrettyPrintedObjectIsOneEvent) {
  auto res = events("{\n  \"type\": \"assessment\",\n  \"assessment\": {\"assessment_name\": \"x\", \"trace_id\": \"" +
                    std::string(kTrace) + "\",\n \"feedback\": {\"value\": 1}}\n}\n");
  EXPECT_EQ(res.status, 202) << res.body;
  EXPECT_EQ(res.body, R"({"accepted":1})");
}

TEST_F(GatewayTest, MissingEventIdIsGenerated) {
  auto res = events("[" + feedback_event("") + "," + feedback_event("") + "]");
  ASSERT_EQ(res.status, 202);
  ASSERT_EQ(sink.published.size(), 2u);
  EXPECT_EQ(sink.published[0].event_id.size(), 32u);
  EXPECT_NE(sink.published[0].event_id, sink.published[1].event_id);
}

TEST_F(GatewayTest, IdempotencyKeyNamesTheSingleEventAndIndexesABatch) {
  ASSERT_EQ(events(feedback_event(""), "application/json", "key-1").status, 202);
  ASSERT_EQ(events("[" + feedback_event("") + "," + feedback_event("own") + "," + feedback_event("") + "]", "application/json",
                   "key-2").status,
            202);
  ASSERT_EQ(sink.published.size(), 4u);
  EXPECT_EQ(sink.published[0].event_id, "key-1");
  EXPECT_EQ(sink.published[1].event_id, "key-2:0");
  EXPECT_EQ(sink.published[2].event_id, "own") << "an envelope's own event_id wins";
  EXPECT_EQ(sink.published[3].event_id, "key-2:2");
}

TEST_F(GatewayTest, PartialBatchAcceptsTheGoodItems) {
  auto res = events("[" + feedback_event("e0") + "," + feedback_event("e1", "bad.name") + "," + feedback_event("e2") + "]");
  EXPECT_EQ(res.status, 202);
  Json j(res.body);
  EXPECT_EQ(j.num("/accepted"), 2);
  EXPECT_EQ(j.num("/rejected/0/index"), 1);
  EXPECT_EQ(j.str("/rejected/0/error_code"), "INVALID_PARAMETER_VALUE");
  EXPECT_NE(j.str("/rejected/0/message").find("assessment.assessment_name"), std::string::npos) << res.body;
  ASSERT_EQ(sink.published.size(), 2u);
  EXPECT_EQ(sink.published[1].event_id, "e2");
  EXPECT_EQ(gw.stats().rejected(RejectReason::invalid_event), 1u);
  ASSERT_EQ(dead.records.size(), 1u);
  EXPECT_EQ(dead.records[0].reason, "invalid_event");
  EXPECT_NE(dead.records[0].raw.find("bad.name"), std::string::npos);
}

TEST_F(GatewayTest, NothingValidIs400WithEveryItemListed) {
  auto res = events(R"([{"type":"trace","trace":{"trace_info":{"trace_id":"tr-12"}}}, 42])");
  EXPECT_EQ(res.status, 400);
  Json j(res.body);
  EXPECT_EQ(j.str("/error_code"), "INVALID_PARAMETER_VALUE");
  EXPECT_EQ(j.num("/accepted"), 0);
  EXPECT_NE(j.str("/rejected/0/message").find("trace.trace_info.trace_id"), std::string::npos) << res.body;
  EXPECT_EQ(j.num("/rejected/1/index"), 1);
  EXPECT_EQ(sink.calls, 0u) << "nothing is published";
}

TEST_F(GatewayTest, RejectionsNameTheField) {
  struct Case {
    std::string body, field;
  };
  const std::string t(kTrace);
  std::vector<Case> cases = {
      {R"({"type":"assessment","assessment":{"assessment_name":"x","trace_id":")" + t + R"(","feedback":{"value":true},"span_id":"zz"}})", "assessment.span_id"},
      {R"({"type":"assessment","assessment":{"assessment_name":7,"trace_id":")" + t + R"(","feedback":{"value":true}}})", "assessment.assessment_name"},
      {R"({"type":"assessment","assessment":{"assessment_name":"x","trace_id":")" + t + R"("}})", "assessment.feedback"},
      {R"({"type":"nope"})", "type"},
      {R"({"assessment":{}})", "type"},
      {R"({"type":"assessment_delete","assessment":{"trace_id":")" + t + R"("}})", "assessment.assessment_id"},
      {R"({"type":"assessment","assessment":{"assessment_name":"x","trace_id":")" + t + R"(","feedback":{"value":")" +
           std::string(70 * 1024, 'v') + R"("}}})", "assessment.feedback.value"},
      {R"({"type":"assessment","time":"yesterday","assessment":{}})", "time"},
  };
  for (const auto& c : cases) {
    auto res = events(c.body, "application/x-ndjson");
    EXPECT_EQ(res.status, 400) << c.body.substr(0, 200);
    Json j(res.body);
    EXPECT_NE(j.str("/rejected/0/message").find(c.field), std::string::npos) << c.field << " in " << res.body.substr(0, 300);
  }
  EXPECT_EQ(sink.calls, 0u);
}

TEST_F(GatewayTest, InvalidUtf8IsRejected) {
  std::string bad = feedback_event("e1", "ok");
  bad.replace(bad.find("enduser_123"), 3, "\xff\xfe\x80");
  auto res = events("[" + bad + "]");
  EXPECT_EQ(res.status, 400) << res.body;
  EXPECT_TRUE(sink.published.empty());
}

TEST_F(GatewayTest, MalformedBodiesAre400AndPublishNothing) {
  for (std::string body : {"[", "[{\"a\":1}", "[1,]", "[] trailing", "", "   \n", "[{\"x\": \"unterminated]", "[{}}]"}) {
    auto res = events(body);
    EXPECT_EQ(res.status, 400) << body;
    Json j(res.body);
    EXPECT_EQ(j.str("/error_code"), "INVALID_PARAMETER_VALUE") << body;
  }
  auto nd = events("{not json}\n", "application/x-ndjson");
  EXPECT_EQ(nd.status, 400);
  EXPECT_EQ(sink.calls, 0u);
}

TEST_F(GatewayTest, UnknownContentTypeIs415) {
  auto res = events(feedback_event("e1"), "application/xml");
  EXPECT_EQ(res.status, 415);
  Json j(res.body);
  EXPECT_NE(j.str("/message").find("Content-Type"), std::string::npos);
  EXPECT_EQ(gw.stats().rejected(RejectReason::unsupported_media_type), 1u);
}

TEST_F(GatewayTest, TooManyEventsIs413) {
  GatewayOptions o;
  o.max_events_per_request = 2;
  Gateway small(o, sink, clock);
  http::Response res;
  small.handle_events(post("/api/v1/events", "[" + feedback_event("a") + "," + feedback_event("b") + "," + feedback_event("c") + "]"), res);
  EXPECT_EQ(res.status, 413);
  EXPECT_EQ(sink.calls, 0u);
}

TEST_F(GatewayTest, UnavailableIs503WithRetryAfterAndNamesTheItemsNotAccepted) {
  sink.verdict = [](size_t n, const Envelope&) {
    return n == 1 ? Status::unavailable("kafka producer: local queue full") : Status::ok();
  };
  auto res = events("[" + feedback_event("e0") + "," + feedback_event("bad", "a.b") + "," + feedback_event("e2") + "," +
                    feedback_event("e3") + "]");
  EXPECT_EQ(res.status, 503);
  bool retry_after = false;
  for (auto& [k, v] : res.headers) retry_after |= (k == "Retry-After" && v == "1");
  EXPECT_TRUE(retry_after);
  Json j(res.body);
  EXPECT_EQ(j.str("/error_code"), "TEMPORARILY_UNAVAILABLE");
  EXPECT_EQ(j.num("/accepted"), 2);
  EXPECT_EQ(j.num("/rejected/0/index"), 1);
  EXPECT_EQ(j.str("/rejected/0/error_code"), "INVALID_PARAMETER_VALUE");
  EXPECT_EQ(j.num("/rejected/1/index"), 2) << "the second valid envelope is item 2";
  EXPECT_EQ(j.str("/rejected/1/error_code"), "TEMPORARILY_UNAVAILABLE");
  EXPECT_EQ(gw.stats().rejected(RejectReason::unavailable), 1u);
}

TEST_F(GatewayTest, StatsListEveryLabel) {
  auto types = gw.stats().ingested_by_type();
  ASSERT_EQ(types.size(), 4u);
  EXPECT_EQ(types[3].first, "assessment_delete");
  auto reasons = gw.stats().rejected_by_reason();
  EXPECT_EQ(reasons.size(), static_cast<size_t>(RejectReason::kCount));
}

TEST(SplitTest, ArrayElementsKeepStringsWithBrackets) {
  std::vector<std::string_view> items;
  ASSERT_TRUE(split_json_array(R"( [ {"a":"]}[\""}, [1,2] ,"s", 3 ] )", items).is_ok());
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[0], R"({"a":"]}[\""})");
  EXPECT_EQ(items[1], "[1,2]");
  EXPECT_EQ(items[2], R"("s")");
  EXPECT_EQ(items[3], "3");
  ASSERT_TRUE(split_json_array("[]", items).is_ok());
  EXPECT_TRUE(items.empty());
}

// ---- MLflow-compatible --------------------------------------------------------------------

// RestStore.create_assessment for mlflow.log_feedback(trace_id, name="user_feedback", value=False,
// rationale=..., source=AssessmentSource(HUMAN, "enduser_123")), as message_to_json renders it.
const std::string kLogFeedbackBody = R"({
  "assessment": {
    "assessment_name": "user_feedback",
    "trace_id": "tr-0123456789abcdef0123456789abcdef",
    "source": {
      "source_type": "HUMAN",
      "source_id": "enduser_123"
    },
    "create_time": "2025-06-01T12:00:00.358Z",
    "last_update_time": "2025-06-01T12:00:00.358Z",
    "feedback": {
      "value": false
    },
    "rationale": "Missing details about MLflow's key features like Projects and Model Registry",
    "valid": true
  }
})";

// mlflow.log_expectation(trace_id, name="expected_facts", value=["a", "b"]).
const std::string kLogExpectationBody = R"({
  "assessment": {
    "assessment_name": "expected_facts",
    "trace_id": "tr-0123456789abcdef0123456789abcdef",
    "source": {
      "source_type": "HUMAN",
      "source_id": "default"
    },
    "create_time": "2025-06-01T12:00:00.359Z",
    "last_update_time": "2025-06-01T12:00:00.359Z",
    "expectation": {
      "serialized_value": {
        "serialization_format": "JSON_FORMAT",
        "value": "[\"a\", \"b\"]"
      }
    }
  }
})";

// RestStore.start_trace (StartTraceV3) from the MLflow exporter at the end of a traced call.
const std::string kStartTraceBody = R"({
  "trace": {
    "trace_info": {
      "trace_id": "tr-abababababababababababababababab",
      "trace_location": {
        "type": "MLFLOW_EXPERIMENT",
        "mlflow_experiment": {
          "experiment_id": "0"
        }
      },
      "request_time": "2023-11-14T22:13:20Z",
      "execution_duration": "1.250s",
      "state": "OK",
      "trace_metadata": {
        "mlflow.trace_schema.version": "3",
        "mlflow.trace.sizeBytes": "1234"
      },
      "tags": {
        "mlflow.traceName": "my_chatbot",
        "mlflow.artifactLocation": "mlflow-artifacts:/0/traces/x/artifacts"
      },
      "request_preview": "{\"user_question\": \"What is MLflow?\"}",
      "response_preview": "\"MLflow is\""
    }
  }
})";

class MlflowTest : public GatewayTest {
 protected:
  http::Response call(void (Gateway::*handler)(const http::Request&, http::Response&), std::string method, std::string path,
                      std::string body, std::vector<std::string> params) {
    http::Request req = post(std::move(path), std::move(body));
    req.method = std::move(method);
    req.path_params = std::move(params);
    http::Response res;
    (gw.*handler)(req, res);
    return res;
  }
  http::Response create(const std::string& body, std::string trace = std::string(kTrace)) {
    return call(&Gateway::handle_create_assessment, "POST", "/api/3.0/mlflow/traces/" + trace + "/assessments", body, {trace});
  }
};

TEST_F(MlflowTest, LogFeedbackCreatesAnAssessmentEvent) {
  auto res = create(kLogFeedbackBody);
  ASSERT_EQ(res.status, 200) << res.body;
  Json j(res.body);
  const std::string id = j.str("/assessment/assessment_id");
  EXPECT_TRUE(is_assessment_id(id) && id.size() == 34) << id;
  EXPECT_EQ(j.str("/assessment/assessment_name"), "user_feedback");
  EXPECT_EQ(j.str("/assessment/create_time"), "2025-06-01T12:00:00.358Z");
  EXPECT_EQ(j.str("/assessment/last_update_time"), "2025-06-01T12:00:00.358Z");
  EXPECT_EQ(j.str("/assessment/source/source_id"), "enduser_123");
  bool valid = false, value = true;
  EXPECT_EQ(j.root.at_pointer("/assessment/valid").get(valid), simdjson::SUCCESS);
  EXPECT_TRUE(valid);
  EXPECT_EQ(j.root.at_pointer("/assessment/feedback/value").get(value), simdjson::SUCCESS);
  EXPECT_FALSE(value);
  ASSERT_EQ(sink.published.size(), 1u);
  const Envelope& e = sink.published[0];
  EXPECT_EQ(e.type, EventType::assessment);
  EXPECT_EQ(e.assessment().assessment_id, id);
  EXPECT_EQ(e.assessment().trace_id, kTrace);
  EXPECT_TRUE(e.event_id.starts_with("mlflow-"));
}

TEST_F(MlflowTest, RetriedCreateHasTheSameEventAndAssessmentId) {
  auto a = create(kLogFeedbackBody);
  auto b = create(kLogFeedbackBody);
  ASSERT_EQ(sink.published.size(), 2u) << "the fake sink does not dedupe; the real one does";
  EXPECT_EQ(sink.published[0].event_id, sink.published[1].event_id);
  EXPECT_EQ(Json(a.body).str("/assessment/assessment_id"), Json(b.body).str("/assessment/assessment_id"));
}

TEST_F(MlflowTest, LogExpectationWithSerializedValue) {
  auto res = create(kLogExpectationBody);
  ASSERT_EQ(res.status, 200) << res.body;
  Json j(res.body);
  EXPECT_EQ(j.str("/assessment/expectation/serialized_value/serialization_format"), "JSON_FORMAT");
  ASSERT_EQ(sink.published.size(), 1u);
  EXPECT_TRUE(sink.published[0].assessment().is_expectation());
}

TEST_F(MlflowTest, OverrideFeedbackCarriesOverrides) {
  std::string body = kLogFeedbackBody;
  body.replace(body.find("\"valid\": true"), 13, "\"valid\": true, \"overrides\": \"a-00112233445566778899aabbccddeeff\"");
  auto res = create(body);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(Json(res.body).str("/assessment/overrides"), "a-00112233445566778899aabbccddeeff");
  EXPECT_EQ(sink.published[0].assessment().overrides, "a-00112233445566778899aabbccddeeff");
}

TEST_F(MlflowTest, TraceIdMayComeFromThePathButMustMatch) {
  std::string no_trace = R"({"assessment":{"assessment_name":"thumbs","feedback":{"value":true}}})";
  auto ok = create(no_trace);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(sink.published.back().assessment().trace_id, kTrace);
  EXPECT_NE(ok.body.find("create_time"), std::string::npos) << "filled by the gateway";

  auto mismatch = create(kLogFeedbackBody, "tr-ffffffffffffffffffffffffffffffff");
  EXPECT_EQ(mismatch.status, 400);
  EXPECT_NE(Json(mismatch.body).str("/message").find("assessment.trace_id"), std::string::npos);
  auto bad_path = create(kLogFeedbackBody, "tr-nothex");
  EXPECT_EQ(bad_path.status, 400);
  EXPECT_EQ(sink.published.size(), 1u);
}

TEST_F(MlflowTest, BadAssessmentsAre400NamingTheField) {
  std::string dotted = kLogFeedbackBody;
  dotted.replace(dotted.find("\"user_feedback\""), 15, "\"user.feedback\"");
  auto res = create(dotted);
  EXPECT_EQ(res.status, 400);
  Json j(res.body);
  EXPECT_EQ(j.str("/error_code"), "INVALID_PARAMETER_VALUE");
  EXPECT_NE(j.str("/message").find("assessment.assessment_name"), std::string::npos) << res.body;
  EXPECT_EQ(create("not json").status, 400);
  EXPECT_EQ(create("[]").status, 400);
  EXPECT_EQ(create("{}").status, 400);
  EXPECT_EQ(create(R"({"assessment": "x"})").status, 400);
  EXPECT_TRUE(sink.published.empty());
}

TEST_F(MlflowTest, StartTraceV3TellsTheClientSpansAreInTheTrackingStore) {
  auto res = call(&Gateway::handle_start_trace, "POST", "/api/3.0/mlflow/traces", kStartTraceBody, {});
  ASSERT_EQ(res.status, 200) << res.body;
  Json j(res.body);
  EXPECT_EQ(j.str("/trace/trace_info/trace_id"), "tr-abababababababababababababababab");
  EXPECT_EQ(j.str("/trace/trace_info/tags/mlflow.trace.spansLocation"), "TRACKING_STORE");
  EXPECT_EQ(j.str("/trace/trace_info/tags/mlflow.traceName"), "my_chatbot");
  EXPECT_EQ(j.str("/trace/trace_info/trace_location/mlflow_experiment/experiment_id"), "0");
  EXPECT_EQ(j.str("/trace/trace_info/state"), "OK");
  ASSERT_EQ(sink.published.size(), 1u);
  EXPECT_EQ(sink.published[0].type, EventType::trace);
  EXPECT_EQ(sink.published[0].trace_id(), "tr-abababababababababababababababab");

  auto bad = call(&Gateway::handle_start_trace, "POST", "/api/3.0/mlflow/traces", R"({"trace":{"trace_info":{"trace_id":"tr-1"}}})", {});
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(Json(bad.body).str("/message").find("trace.trace_info.trace_id"), std::string::npos) << bad.body;
}

TEST_F(MlflowTest, UpdateAssessmentAppliesTheMask) {
  const std::string aid = "a-11111111111111111111111111111111";
  // RestStore.update_assessment(name="n", feedback=0.5, rationale="r"): note the camelCase mask.
  const std::string body = R"({"assessment":{"assessment_id":")" + aid + R"(","assessment_name":"n","trace_id":")" +
                           std::string(kTrace) + R"(","feedback":{"value":0.5},"rationale":"r"},"update_mask":"assessmentName,feedback"})";
  auto res = call(&Gateway::handle_update_assessment, "PATCH", "/api/3.0/mlflow/traces/x/assessments/y", body,
                  {std::string(kTrace), aid});
  ASSERT_EQ(res.status, 200) << res.body;
  ASSERT_EQ(sink.published.size(), 1u);
  const Assessment& a = sink.published[0].assessment();
  EXPECT_EQ(sink.published[0].type, EventType::assessment_update);
  EXPECT_TRUE(a.has(Assessment::f_name));
  EXPECT_TRUE(a.has(Assessment::f_feedback));
  EXPECT_FALSE(a.has(Assessment::f_rationale)) << "not in the mask";
  EXPECT_TRUE(a.has(Assessment::f_last_update_time));
  Json j(res.body);
  EXPECT_EQ(j.str("/assessment/assessment_id"), aid);
  EXPECT_FALSE(j.has("/assessment/rationale"));

  auto wrong = call(&Gateway::handle_update_assessment, "PATCH", "p", body, {std::string(kTrace), "a-22"});
  EXPECT_EQ(wrong.status, 400);
  auto bad_mask = call(&Gateway::handle_update_assessment, "PATCH", "p",
                       R"({"assessment":{"rationale":"r"},"update_mask":"colour"})", {std::string(kTrace), aid});
  EXPECT_EQ(bad_mask.status, 400);
  EXPECT_NE(Json(bad_mask.body).str("/message").find("update_mask"), std::string::npos);
  EXPECT_EQ(sink.published.size(), 1u);
}

// A Gateway whose AssessmentLookup answers from `stored` (what the join holds), like the wiring
// passes join::TraceReader::get_assessment.
class MlflowLookupTest : public MlflowTest {
 protected:
  static constexpr std::string_view kAid = "a-11111111111111111111111111111111";
  std::optional<Assessment> stored;
  Status lookup_error;
  std::vector<std::pair<std::string, std::string>> looked_up;
  Gateway gw_with_state{GatewayOptions{}, sink, clock, &dead,
                        [this](std::string_view trace_id, std::string_view assessment_id) -> Result<std::optional<Assessment>> {
                          looked_up.emplace_back(trace_id, assessment_id);
                          if (!lookup_error.is_ok()) return lookup_error;
                          return stored;
                        }};

  MlflowLookupTest() {
    Assessment a;
    a.assessment_id = kAid;
    a.assessment_name = "helpfulness";
    a.trace_id = kTrace;
    a.source = {SourceType::human, "enduser_123"};
    a.create_time = 1'748'779'200'358'000'000;  // 2025-06-01T12:00:00.358Z
    a.last_update_time = a.create_time;
    a.value = Feedback{.value = JsonText("2"), .error = std::nullopt};
    a.rationale = "too short";
    a.metadata = {{"ticket", "42"}};
    a.valid = true;
    a.present = Assessment::f_assessment_id | Assessment::f_name | Assessment::f_trace_id | Assessment::f_source |
                Assessment::f_create_time | Assessment::f_last_update_time | Assessment::f_feedback |
                Assessment::f_rationale | Assessment::f_metadata | Assessment::f_valid;
    stored = a;
  }

  // RestStore.update_assessment as mlflow.update_assessment(..., Feedback(name="helpfulness", value=4)) sends it.
  http::Response update(const std::string& assessment_json, const std::string& mask) {
    const std::string body = R"({"assessment":{"assessment_id":")" + std::string(kAid) + R"(","trace_id":")" +
                             std::string(kTrace) + "\"," + assessment_json + R"(},"update_mask":")" + mask + R"("})";
    http::Request req = post("/api/3.0/mlflow/traces/" + std::string(kTrace) + "/assessments/" + std::string(kAid), body);
    req.method = "PATCH";
    req.path_params = {std::string(kTrace), std::string(kAid)};
    http::Response res;
    gw_with_state.handle_update_assessment(req, res);
    return res;
  }
};

TEST_F(MlflowLookupTest, UpdateAnswersWithTheFullStoredAssessmentMerged) {
  auto res = update(R"("assessment_name":"helpfulness","feedback":{"value":4})", "assessment_name,feedback");
  ASSERT_EQ(res.status, 200) << res.body;
  ASSERT_EQ(looked_up.size(), 1u);
  EXPECT_EQ(looked_up[0], std::make_pair(std::string(kTrace), std::string(kAid)));
  Json j(res.body);
  EXPECT_EQ(j.str("/assessment/assessment_id"), kAid);
  EXPECT_EQ(j.str("/assessment/trace_id"), kTrace);
  EXPECT_EQ(j.str("/assessment/assessment_name"), "helpfulness");
  EXPECT_EQ(j.num("/assessment/feedback/value"), 4) << "the update";
  EXPECT_EQ(j.str("/assessment/rationale"), "too short") << "kept from the stored assessment";
  EXPECT_EQ(j.str("/assessment/metadata/ticket"), "42");
  EXPECT_EQ(j.str("/assessment/source/source_type"), "HUMAN");
  EXPECT_EQ(j.str("/assessment/source/source_id"), "enduser_123");
  EXPECT_EQ(j.str("/assessment/create_time"), "2025-06-01T12:00:00.358Z");
  EXPECT_EQ(j.str("/assessment/last_update_time"), "2023-11-14T22:13:20Z") << "now (the ManualClock)";
  bool valid = false;
  EXPECT_EQ(j.root.at_pointer("/assessment/valid").get(valid), simdjson::SUCCESS);
  EXPECT_TRUE(valid);
  // The event still carries only the change: the join merges it onto what it holds then.
  ASSERT_EQ(sink.published.size(), 1u);
  const Assessment& change = sink.published[0].assessment();
  EXPECT_EQ(sink.published[0].type, EventType::assessment_update);
  EXPECT_TRUE(change.has(Assessment::f_feedback));
  EXPECT_FALSE(change.has(Assessment::f_rationale));
  EXPECT_FALSE(change.has(Assessment::f_source));
  EXPECT_FALSE(change.has(Assessment::f_create_time));
}

TEST_F(MlflowLookupTest, RationaleAndMetadataUpdatesReplaceTheStoredOnes) {
  auto res = update(R"("rationale":"now detailed","metadata":{"reviewed":"yes"})", "rationale,metadata");
  ASSERT_EQ(res.status, 200) << res.body;
  Json j(res.body);
  EXPECT_EQ(j.str("/assessment/rationale"), "now detailed");
  EXPECT_EQ(j.str("/assessment/metadata/reviewed"), "yes");
  EXPECT_FALSE(j.has("/assessment/metadata/ticket")) << "metadata is replaced as a whole, as the join does";
  EXPECT_EQ(j.num("/assessment/feedback/value"), 2) << "value unchanged";
}

TEST_F(MlflowLookupTest, NotYetJoinedOrUnreadableFallsBackToTheUpdatedFields) {
  for (int round = 0; round < 2; ++round) {
    if (round == 0) stored.reset();  // not joined yet (or a gateway-only process)
    else lookup_error = Status::io_error("rocksdb: read failed");
    auto res = update(R"("feedback":{"value":4})", "feedback");
    ASSERT_EQ(res.status, 200) << res.body;
    Json j(res.body);
    EXPECT_EQ(j.str("/assessment/assessment_id"), kAid);
    EXPECT_EQ(j.num("/assessment/feedback/value"), 4);
    EXPECT_FALSE(j.has("/assessment/source")) << "unknown without the stored assessment";
    EXPECT_FALSE(j.has("/assessment/rationale"));
  }
  EXPECT_EQ(sink.published.size(), 2u) << "a failed read does not stop the update";
}

TEST_F(MlflowLookupTest, ChangingFeedbackIntoExpectationIs400AndPublishesNothing) {
  auto res = update(R"("expectation":{"value":"x"})", "expectation");
  EXPECT_EQ(res.status, 400) << res.body;
  Json j(res.body);
  EXPECT_EQ(j.str("/error_code"), "INVALID_PARAMETER_VALUE");
  EXPECT_NE(j.str("/message").find("assessment.expectation"), std::string::npos) << res.body;
  EXPECT_NE(j.str("/message").find("is a feedback"), std::string::npos) << res.body;
  EXPECT_TRUE(sink.published.empty());
  EXPECT_EQ(gw_with_state.stats().rejected(RejectReason::invalid_event), 1u);
  // Without a known stored assessment the gateway cannot tell; the join refuses it later.
  stored.reset();
  EXPECT_EQ(update(R"("expectation":{"value":"x"})", "expectation").status, 200);
}

TEST_F(MlflowTest, DeleteAssessmentPublishesADeleteEvent) {
  const std::string aid = "a-11111111111111111111111111111111";
  auto res = call(&Gateway::handle_delete_assessment, "DELETE", "/api/3.0/mlflow/traces/t/assessments/" + aid,
                  R"({"trace_id":")" + std::string(kTrace) + R"(","assessment_id":")" + aid + R"("})", {std::string(kTrace), aid});
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "{}");
  ASSERT_EQ(sink.published.size(), 1u);
  EXPECT_EQ(sink.published[0].type, EventType::assessment_delete);
  EXPECT_EQ(sink.published[0].assessment().assessment_id, aid);
  EXPECT_EQ(call(&Gateway::handle_delete_assessment, "DELETE", "p", "", {std::string(kTrace), "nope"}).status, 400);
}

TEST_F(MlflowTest, UnavailableSinkIs503WithRetryAfter) {
  sink.verdict = [](size_t, const Envelope&) { return Status::unavailable("broker down"); };
  auto res = create(kLogFeedbackBody);
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(Json(res.body).str("/error_code"), "TEMPORARILY_UNAVAILABLE");
  bool retry_after = false;
  for (auto& [k, v] : res.headers) retry_after |= k == "Retry-After";
  EXPECT_TRUE(retry_after);
}

TEST_F(MlflowTest, VersionIsAtLeast34) {
  http::Response res;
  gw.handle_version(http::Request{}, res);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "3.5.0");
}

TEST(MlflowEventIdTest, DependsOnMethodPathAndBody) {
  EXPECT_EQ(mlflow_event_id("POST", "/p", "b"), mlflow_event_id("POST", "/p", "b"));
  EXPECT_NE(mlflow_event_id("POST", "/p", "b"), mlflow_event_id("POST", "/p", "c"));
  EXPECT_NE(mlflow_event_id("POST", "/p", "b"), mlflow_event_id("PATCH", "/p", "b"));
  EXPECT_EQ(mlflow_event_id("POST", "/p", "b").size(), 7u + 32u);
}

}  // namespace
}  // namespace tracefeed::gateway
