#include "processors/query/mlflow_trace_json.h"

#include <gtest/gtest.h>

#include "core/event_json.h"
#include "core/json_tree.h"

namespace tracefeed::query {
namespace {

constexpr const char* kTraceId = "tr-0123456789abcdef0123456789abcdef";

std::string any(std::string_view json) {
  std::string out;
  append_any_value(out, json);
  return out;
}

std::string otel(const Span& s) {
  std::string out;
  JsonWriter w(out);
  write_otel_span(w, s, kTraceId);
  return out;
}

Span retriever_span() {
  Span s;
  s.span_id = "00000000000000a2";
  s.parent_span_id = "00000000000000a1";
  s.name = "retrieve_context";
  s.start_time_unix_nano = 1748779200300000000;
  s.end_time_unix_nano = 1748779200400000000;
  s.status = SpanStatus::ok;
  s.span_type = "RETRIEVER";
  s.inputs = R"({"query":"What is MLflow?"})";
  s.outputs = R"("MLflow is an open-source platform.")";
  s.attributes = {{"mlflow.spanFunctionName", R"("retrieve_context")"}, {"temperature", "0.7"}};
  return s;
}

TEST(Base64OfHex, EncodesTheIdBytes) {
  EXPECT_EQ(base64_of_hex(""), "");
  EXPECT_EQ(base64_of_hex("00"), "AA==");
  EXPECT_EQ(base64_of_hex("0102"), "AQI=");
  EXPECT_EQ(base64_of_hex("010203"), "AQID");
  EXPECT_EQ(base64_of_hex("00000000000000a1"), "AAAAAAAAAKE=");
  EXPECT_EQ(base64_of_hex("ffffffffffffffff"), "//////////8=");
  EXPECT_EQ(base64_of_hex("0123456789abcdef0123456789abcdef"), "ASNFZ4mrze8BI0VniavN7w==");
  EXPECT_EQ(base64_of_hex("abc"), "");  // odd length
  EXPECT_EQ(base64_of_hex("zz"), "");   // not hex
}

TEST(AppendAnyValue, TypesEachJsonValue) {
  EXPECT_EQ(any(R"("RETRIEVER")"), R"({"string_value":"RETRIEVER"})");
  EXPECT_EQ(any(R"("a \"quoted\" \u00e9")"), R"({"string_value":"a \"quoted\" \u00e9"})");
  EXPECT_EQ(any("true"), R"({"bool_value":true})");
  EXPECT_EQ(any("false"), R"({"bool_value":false})");
  EXPECT_EQ(any("null"), "{}");
  EXPECT_EQ(any("42"), R"({"int_value":"42"})");
  EXPECT_EQ(any("-7"), R"({"int_value":"-7"})");
  EXPECT_EQ(any("9223372036854775807"), R"({"int_value":"9223372036854775807"})");
  EXPECT_EQ(any("9223372036854775808"), R"({"double_value":9223372036854775808})");  // beyond int64
  EXPECT_EQ(any("0.7"), R"({"double_value":0.7})");
  EXPECT_EQ(any("3.0"), R"({"double_value":3.0})");
  EXPECT_EQ(any("1e-9"), R"({"double_value":1e-9})");
  EXPECT_EQ(any("[]"), R"({"array_value":{"values":[]}})");
  EXPECT_EQ(any("{}"), R"({"kvlist_value":{"values":[]}})");
  EXPECT_EQ(any(R"([1,"x",null])"),
            R"({"array_value":{"values":[{"int_value":"1"},{"string_value":"x"},{}]}})");
  EXPECT_EQ(any(R"({"q":"What is MLflow?","k":{"n":[true]}})"),
            R"({"kvlist_value":{"values":[{"key":"q","value":{"string_value":"What is MLflow?"}},)"
            R"({"key":"k","value":{"kvlist_value":{"values":[{"key":"n","value":{"array_value":{"values":[{"bool_value":true}]}}}]}}}]}})");
  // Whitespace (not in stored text, which is minified, but legal JSON) is skipped.
  EXPECT_EQ(any(R"( { "a" : [ 1 , 2 ] } )"),
            R"({"kvlist_value":{"values":[{"key":"a","value":{"array_value":{"values":[{"int_value":"1"},{"int_value":"2"}]}}}]}})");
}

TEST(AppendAnyValue, NonJsonBecomesAStringValue) {
  EXPECT_EQ(any("{"), R"({"string_value":"{"})");
  EXPECT_EQ(any("-"), R"({"string_value":"-"})");
  EXPECT_EQ(any("01x"), R"({"string_value":"01x"})");
  EXPECT_EQ(any(R"({"a":1} [)"), R"({"string_value":"{\"a\":1} ["})");
  EXPECT_EQ(any(""), R"({"string_value":""})");
  // The output is JSON either way.
  for (const char* text : {"{", "[1,", R"({"a" 1})", "tru", "1.", "1e"}) {
    EXPECT_TRUE(parse_json(any(text)).is_ok()) << text;
  }
}

TEST(WriteOtelSpan, RendersMlflowsOpenTelemetrySpan) {
  EXPECT_EQ(otel(retriever_span()),
            R"({"trace_id":"ASNFZ4mrze8BI0VniavN7w==","span_id":"AAAAAAAAAKI=","parent_span_id":"AAAAAAAAAKE=",)"
            R"("name":"retrieve_context","start_time_unix_nano":"1748779200300000000","end_time_unix_nano":"1748779200400000000",)"
            R"("attributes":[)"
            R"({"key":"mlflow.traceRequestId","value":{"string_value":"tr-0123456789abcdef0123456789abcdef"}},)"
            R"({"key":"mlflow.spanType","value":{"string_value":"RETRIEVER"}},)"
            R"({"key":"mlflow.spanInputs","value":{"kvlist_value":{"values":[{"key":"query","value":{"string_value":"What is MLflow?"}}]}}},)"
            R"({"key":"mlflow.spanOutputs","value":{"string_value":"MLflow is an open-source platform."}},)"
            R"({"key":"mlflow.spanFunctionName","value":{"string_value":"retrieve_context"}},)"
            R"({"key":"temperature","value":{"double_value":0.7}}],)"
            R"("status":{"code":"STATUS_CODE_OK"}})");
}

TEST(WriteOtelSpan, RootSpanInProgressWithDefaults) {
  Span s;
  s.span_id = "00000000000000a1";
  s.name = "my_chatbot";
  s.start_time_unix_nano = 5;
  const std::string out = otel(s);
  EXPECT_EQ(out, R"({"trace_id":"ASNFZ4mrze8BI0VniavN7w==","span_id":"AAAAAAAAAKE=","name":"my_chatbot",)"
                 R"("start_time_unix_nano":"5","attributes":[)"
                 R"({"key":"mlflow.traceRequestId","value":{"string_value":"tr-0123456789abcdef0123456789abcdef"}},)"
                 R"({"key":"mlflow.spanType","value":{"string_value":"UNKNOWN"}}],)"
                 R"("status":{"code":"STATUS_CODE_UNSET"}})");
}

TEST(WriteOtelSpan, KindStatusMessageAndEventsComeBackFromTheDecodersAttributes) {
  Span s = retriever_span();
  s.inputs.clear();
  s.outputs.clear();
  s.status = SpanStatus::error;
  s.attributes = {{"otel.span_kind", R"("CLIENT")"},
                  {"otel.status_description", R"("boom: \"x\"")"},
                  {"mlflow.spanType", R"("SHADOWED")"},  // the span's own field wins
                  {"otel.links", R"([{"trace_id":"ab","span_id":"cd"}])"}};
  s.events = R"([{"name":"exception","time_unix_nano":1748779200350000000,)"
             R"("attributes":{"exception.message":"boom","exception.escaped":false,"n":3}},)"
             R"({"name":"retry","time_unix_nano":"17"},"not an event"])";
  const std::string out = otel(s);
  auto tree = parse_json(out);
  ASSERT_TRUE(tree.is_ok()) << out;
  EXPECT_EQ(tree->find("kind")->as_string(), "SPAN_KIND_CLIENT");
  EXPECT_EQ(tree->find("status")->find("code")->as_string(), "STATUS_CODE_ERROR");
  EXPECT_EQ(tree->find("status")->find("message")->as_string(), "boom: \"x\"");
  std::vector<std::string> keys;
  for (const auto& kv : tree->find("attributes")->as_array()) keys.push_back(kv.find("key")->as_string());
  EXPECT_EQ(keys, (std::vector<std::string>{"mlflow.traceRequestId", "mlflow.spanType", "otel.links"}));
  EXPECT_NE(out.find(R"({"key":"mlflow.spanType","value":{"string_value":"RETRIEVER"}})"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("events":[{"name":"exception","time_unix_nano":"1748779200350000000","attributes":[)"
                     R"({"key":"exception.message","value":{"string_value":"boom"}},)"
                     R"({"key":"exception.escaped","value":{"bool_value":false}},)"
                     R"({"key":"n","value":{"int_value":"3"}}]},)"
                     R"({"name":"retry","time_unix_nano":"17"}])"),
            std::string::npos)
      << out;
}

TEST(WriteOtelSpan, UnknownSpanKindStaysAnAttribute) {
  Span s = retriever_span();
  s.attributes = {{"otel.span_kind", R"("SIDEWAYS")"}, {"otel.status_description", "3"}};
  const std::string out = otel(s);
  EXPECT_EQ(out.find(R"("kind")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"({"key":"otel.span_kind","value":{"string_value":"SIDEWAYS"}})"), std::string::npos) << out;
  EXPECT_NE(out.find(R"({"key":"otel.status_description","value":{"int_value":"3"}})"), std::string::npos) << out;
  EXPECT_EQ(out.find(R"("message")"), std::string::npos) << out;
}

TEST(WriteMlflowTrace, TraceInfoAsStoredAndOtelSpans) {
  Trace t;
  t.trace_info.trace_id = kTraceId;
  t.trace_info.state = TraceState::ok;
  Assessment a;
  a.assessment_id = "a-01";
  a.assessment_name = "user_feedback";
  a.trace_id = kTraceId;
  a.value = Feedback{"false", std::nullopt};
  a.valid = false;
  t.trace_info.assessments.push_back(a);
  Span root;
  root.span_id = "00000000000000a1";
  root.name = "my_chatbot";
  t.spans = {root, retriever_span()};
  std::string out;
  JsonWriter w(out);
  write_mlflow_trace(w, t);
  EXPECT_EQ(out.rfind(R"({"trace_info":)" + to_json(t.trace_info) + R"(,"spans":[{"trace_id":"ASNFZ4mrze8BI0VniavN7w==","span_id":"AAAAAAAAAKE=")", 0),
            0u)
      << out;
  EXPECT_NE(out.find(R"("valid":false)"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("parent_span_id":"AAAAAAAAAKE=")"), std::string::npos) << out;
}

}  // namespace
}  // namespace tracefeed::query
