#include "producers/otlp/export_decoder.h"

#include <gtest/gtest.h>

#include "core/event_json.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace tracefeed::otlp {
namespace {

namespace pb_collector = opentelemetry::proto::collector::trace::v1;
namespace pb_trace = opentelemetry::proto::trace::v1;
namespace pb_common = opentelemetry::proto::common::v1;

const std::string kTraceBytes("\x0a\xf7\x65\x19\x16\xcd\x43\xdd\x84\x48\xeb\x21\x1c\x80\x31\x9c", 16);
const std::string kTraceHex = "0af7651916cd43dd8448eb211c80319c";
const std::string kRootBytes("\xb7\xad\x6b\x71\x69\x20\x33\x31", 8);
const std::string kRootHex = "b7ad6b7169203331";
const std::string kChildBytes("\x00\xf0\x67\xaa\x0b\xa9\x02\xb7", 8);
const std::string kChildHex = "00f067aa0ba902b7";

void set_string(pb_common::KeyValue* kv, std::string key, std::string value) {
  kv->set_key(std::move(key));
  kv->mutable_value()->set_string_value(std::move(value));
}

pb_trace::Span* add_span(pb_collector::ExportTraceServiceRequest& req, const std::string& span_id,
                         const std::string& parent, const std::string& name) {
  if (req.resource_spans_size() == 0) {
    auto* rs = req.add_resource_spans();
    set_string(rs->mutable_resource()->add_attributes(), "service.name", "chatbot");
    rs->add_scope_spans()->mutable_scope()->set_name("test");
  }
  auto* span = req.mutable_resource_spans(0)->mutable_scope_spans(0)->add_spans();
  span->set_trace_id(kTraceBytes);
  span->set_span_id(span_id);
  span->set_parent_span_id(parent);
  span->set_name(name);
  span->set_start_time_unix_nano(1'700'000'000'000'000'000ull);
  span->set_end_time_unix_nano(1'700'000'001'250'000'000ull);
  return span;
}

DecodedExport decode_pb(const pb_collector::ExportTraceServiceRequest& req, const DecodeOptions& opt = {}) {
  auto r = decode_export_request(req.SerializeAsString(), Encoding::protobuf, opt);
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  return r.is_ok() ? std::move(r).value() : DecodedExport{};
}

DecodedExport decode_json(std::string_view body, const DecodeOptions& opt = {}) {
  auto r = decode_export_request(body, Encoding::json, opt);
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  return r.is_ok() ? std::move(r).value() : DecodedExport{};
}

const Span* find_span(const Trace& t, std::string_view id) {
  for (const auto& s : t.spans) {
    if (s.span_id == id) return &s;
  }
  return nullptr;
}

std::string attr(const Span& s, std::string_view key) {
  for (const auto& [k, v] : s.attributes) {
    if (k == key) return v;
  }
  return "<absent>";
}

std::string meta(const TraceInfo& info, std::string_view key) {
  for (const auto& [k, v] : info.trace_metadata) {
    if (k == key) return v;
  }
  return "<absent>";
}

TEST(EncodingTest, ContentTypes) {
  EXPECT_EQ(encoding_for_content_type("application/x-protobuf"), Encoding::protobuf);
  EXPECT_EQ(encoding_for_content_type("Application/X-Protobuf; charset=binary"), Encoding::protobuf);
  EXPECT_EQ(encoding_for_content_type("application/json; charset=utf-8"), Encoding::json);
  EXPECT_EQ(encoding_for_content_type("application/jsonl"), std::nullopt);
  EXPECT_EQ(encoding_for_content_type("text/plain"), std::nullopt);
  EXPECT_EQ(encoding_for_content_type(""), std::nullopt);
}

TEST(DecodeProtobufTest, MapsSpansAndRoot) {
  pb_collector::ExportTraceServiceRequest req;
  auto* root = add_span(req, kRootBytes, "", "my_chatbot");
  root->mutable_status()->set_code(pb_trace::Status::STATUS_CODE_OK);
  root->set_kind(pb_trace::Span::SPAN_KIND_SERVER);
  set_string(root->add_attributes(), "http.route", "/chat");
  auto* n = root->add_attributes();
  n->set_key("retries");
  n->mutable_value()->set_int_value(3);
  auto* child = add_span(req, kChildBytes, kRootBytes, "retrieve");
  child->set_start_time_unix_nano(1'700'000'000'100'000'000ull);
  child->set_end_time_unix_nano(1'700'000'000'200'000'000ull);
  auto* ev = child->add_events();
  ev->set_name("cache_miss");
  ev->set_time_unix_nano(1'700'000'000'150'000'000ull);
  auto* ea = ev->add_attributes();
  ea->set_key("ok");
  ea->mutable_value()->set_bool_value(false);

  const auto out = decode_pb(req);
  ASSERT_EQ(out.traces.size(), 1u);
  EXPECT_EQ(out.accepted_spans, 2);
  EXPECT_EQ(out.rejected_spans, 0);
  const Trace& t = out.traces[0];
  EXPECT_EQ(t.trace_info.trace_id, "tr-" + kTraceHex);
  EXPECT_EQ(t.trace_info.request_time, 1'700'000'000'000'000'000);
  EXPECT_EQ(t.trace_info.execution_duration_ns, 1'250'000'000);
  EXPECT_EQ(t.trace_info.state, TraceState::ok);
  EXPECT_EQ(meta(t.trace_info, "service.name"), "chatbot");
  EXPECT_TRUE(t.trace_info.trace_location.empty());

  const Span* r = find_span(t, kRootHex);
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->is_root());
  EXPECT_EQ(r->name, "my_chatbot");
  EXPECT_EQ(r->status, SpanStatus::ok);
  EXPECT_EQ(r->span_type, "UNKNOWN");
  EXPECT_EQ(attr(*r, "http.route"), R"("/chat")");
  EXPECT_EQ(attr(*r, "retries"), "3");
  EXPECT_EQ(attr(*r, "otel.span_kind"), R"("SERVER")");

  const Span* c = find_span(t, kChildHex);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->parent_span_id, kRootHex);
  EXPECT_EQ(c->status, SpanStatus::unset);
  EXPECT_EQ(c->start_time_unix_nano, 1'700'000'000'100'000'000);
  EXPECT_EQ(c->end_time_unix_nano, 1'700'000'000'200'000'000);
  EXPECT_EQ(c->events, R"([{"name":"cache_miss","time_unix_nano":1700000000150000000,"attributes":{"ok":false}}])");
  EXPECT_TRUE(validate_trace(t).is_ok());
}

TEST(DecodeProtobufTest, AnyValueKindsBecomeJson) {
  pb_collector::ExportTraceServiceRequest req;
  auto* s = add_span(req, kRootBytes, "", "root");
  auto* a = s->add_attributes();
  a->set_key("list");
  auto* arr = a->mutable_value()->mutable_array_value();
  arr->add_values()->set_double_value(1.5);
  arr->add_values()->set_string_value("x\"y");
  auto* kv = arr->add_values()->mutable_kvlist_value()->add_values();
  kv->set_key("k");
  kv->mutable_value()->set_bool_value(true);
  auto* b = s->add_attributes();
  b->set_key("bytes");
  b->mutable_value()->set_bytes_value(std::string("\x00\x01\xff", 3));
  auto* e = s->add_attributes();
  e->set_key("empty");
  e->mutable_value();
  const auto out = decode_pb(req);
  ASSERT_EQ(out.traces.size(), 1u);
  const Span& sp = out.traces[0].spans[0];
  EXPECT_EQ(attr(sp, "list"), R"([1.5,"x\"y",{"k":true}])");
  EXPECT_EQ(attr(sp, "bytes"), R"("AAH/")");
  EXPECT_EQ(attr(sp, "empty"), "null");
}

TEST(DecodeProtobufTest, RootStatusAndPreviews) {
  pb_collector::ExportTraceServiceRequest req;
  auto* s = add_span(req, kRootBytes, "", "root");
  s->mutable_status()->set_code(pb_trace::Status::STATUS_CODE_ERROR);
  s->mutable_status()->set_message("boom");
  set_string(s->add_attributes(), "mlflow.spanInputs", R"({"user_question": "What is MLflow?"})");
  set_string(s->add_attributes(), "mlflow.spanOutputs", std::string(2000, 'a'));
  DecodeOptions opt;
  opt.preview_max_bytes = 100;
  opt.experiment_id = "42";
  const auto out = decode_pb(req, opt);
  ASSERT_EQ(out.traces.size(), 1u);
  const TraceInfo& info = out.traces[0].trace_info;
  EXPECT_EQ(info.state, TraceState::error);
  EXPECT_EQ(info.request_preview, "What is MLflow?");
  EXPECT_EQ(info.response_preview, std::string(100, 'a'));
  EXPECT_EQ(info.trace_location, R"({"type":"MLFLOW_EXPERIMENT","mlflow_experiment":{"experiment_id":"42"}})");
  EXPECT_EQ(out.traces[0].spans[0].status, SpanStatus::error);
  EXPECT_EQ(attr(out.traces[0].spans[0], "otel.status_description"), R"("boom")");
}

TEST(DecodeProtobufTest, UnendedRootIsInProgressAndChildOnlyTraceHasNoRoot) {
  pb_collector::ExportTraceServiceRequest req;
  auto* s = add_span(req, kRootBytes, "", "root");
  s->set_end_time_unix_nano(0);
  auto out = decode_pb(req);
  ASSERT_EQ(out.traces.size(), 1u);
  EXPECT_EQ(out.traces[0].trace_info.state, TraceState::in_progress);

  pb_collector::ExportTraceServiceRequest req2;
  add_span(req2, kChildBytes, kRootBytes, "child");
  out = decode_pb(req2);
  ASSERT_EQ(out.traces.size(), 1u);
  EXPECT_EQ(out.traces[0].root_span(), nullptr);
  EXPECT_EQ(out.traces[0].trace_info.request_time, 0);
}

TEST(DecodeProtobufTest, AllZeroParentMeansRoot) {
  pb_collector::ExportTraceServiceRequest req;
  add_span(req, kRootBytes, std::string(8, '\0'), "root");
  const auto out = decode_pb(req);
  ASSERT_EQ(out.traces.size(), 1u);
  EXPECT_TRUE(out.traces[0].spans[0].is_root());
}

TEST(DecodeMlflowTest, JsonEncodedAttributesAsTheOtelExporterSendsThem) {
  pb_collector::ExportTraceServiceRequest req;
  auto* s = add_span(req, kChildBytes, kRootBytes, "retrieve_context");
  set_string(s->add_attributes(), "mlflow.traceRequestId", R"("tr-11111111111111111111111111111111")");
  set_string(s->add_attributes(), "mlflow.spanType", R"("RETRIEVER")");
  set_string(s->add_attributes(), "mlflow.spanInputs", R"({"question": "What is MLflow?"})");
  set_string(s->add_attributes(), "mlflow.spanOutputs", R"([{"page_content": "MLflow is", "metadata": {"doc_uri": "a.md"}}])");
  set_string(s->add_attributes(), "mlflow.spanFunctionName", R"("retrieve_context")");
  const auto out = decode_pb(req);
  ASSERT_EQ(out.traces.size(), 1u);
  EXPECT_EQ(out.traces[0].trace_info.trace_id, "tr-11111111111111111111111111111111");
  const Span& sp = out.traces[0].spans[0];
  EXPECT_EQ(sp.span_type, "RETRIEVER");
  EXPECT_EQ(sp.inputs, R"({"question":"What is MLflow?"})");
  EXPECT_EQ(sp.outputs, R"([{"page_content":"MLflow is","metadata":{"doc_uri":"a.md"}}])");
  EXPECT_EQ(attr(sp, "mlflow.spanFunctionName"), R"("retrieve_context")");
  // Lifted fields do not stay behind as attributes.
  EXPECT_EQ(attr(sp, "mlflow.spanType"), "<absent>");
  EXPECT_EQ(attr(sp, "mlflow.spanInputs"), "<absent>");
  EXPECT_EQ(attr(sp, "mlflow.traceRequestId"), "<absent>");
}

TEST(DecodeMlflowTest, TypedAttributesAsMlflowRestClientSendsThem) {
  pb_collector::ExportTraceServiceRequest req;
  auto* s = add_span(req, kRootBytes, "", "my_chatbot");
  set_string(s->add_attributes(), "mlflow.spanType", "CHAIN");
  auto* in = s->add_attributes();
  in->set_key("mlflow.spanInputs");
  auto* kv = in->mutable_value()->mutable_kvlist_value()->add_values();
  kv->set_key("user_question");
  kv->mutable_value()->set_string_value("What is MLflow?");
  set_string(s->add_attributes(), "mlflow.spanOutputs", "MLflow is an open-source platform.");
  auto* lvl = s->add_attributes();
  lvl->set_key("mlflow.spanLogLevel");
  lvl->mutable_value()->set_int_value(10);
  const auto out = decode_pb(req);
  ASSERT_EQ(out.traces.size(), 1u);
  const Span& sp = out.traces[0].spans[0];
  EXPECT_EQ(sp.span_type, "CHAIN");
  EXPECT_EQ(sp.inputs, R"({"user_question":"What is MLflow?"})");
  EXPECT_EQ(sp.outputs, R"("MLflow is an open-source platform.")");
  EXPECT_EQ(attr(sp, "mlflow.spanLogLevel"), "10");
  EXPECT_EQ(out.traces[0].trace_info.trace_id, "tr-" + kTraceHex);
  EXPECT_EQ(out.traces[0].trace_info.request_preview, "What is MLflow?");
  EXPECT_EQ(out.traces[0].trace_info.response_preview, "MLflow is an open-source platform.");
}

TEST(DecodeMlflowTest, InvalidTraceRequestIdFallsBackToOtelId) {
  pb_collector::ExportTraceServiceRequest req;
  auto* s = add_span(req, kRootBytes, "", "root");
  set_string(s->add_attributes(), "mlflow.traceRequestId", R"("tr-NOT-HEX")");
  const auto out = decode_pb(req);
  ASSERT_EQ(out.traces.size(), 1u);
  EXPECT_EQ(out.traces[0].trace_info.trace_id, "tr-" + kTraceHex);
}

TEST(DecodeMlflowTest, UserAndSessionBecomeTraceMetadata) {
  pb_collector::ExportTraceServiceRequest req;
  auto* s = add_span(req, kRootBytes, "", "root");
  set_string(s->add_attributes(), "user.id", "enduser_123");
  set_string(s->add_attributes(), "mlflow.trace.session", R"("session-7")");
  const auto out = decode_pb(req);
  ASSERT_EQ(out.traces.size(), 1u);
  EXPECT_EQ(meta(out.traces[0].trace_info, "mlflow.trace.user"), "enduser_123");
  EXPECT_EQ(meta(out.traces[0].trace_info, "mlflow.trace.session"), "session-7");
}

TEST(DecodeGenAiTest, OperationNamesMapToSpanTypes) {
  EXPECT_EQ(span_type_for_gen_ai_operation("chat"), "CHAT_MODEL");
  EXPECT_EQ(span_type_for_gen_ai_operation("embeddings"), "EMBEDDING");
  EXPECT_EQ(span_type_for_gen_ai_operation("execute_tool"), "TOOL");
  EXPECT_EQ(span_type_for_gen_ai_operation("text_completion"), "LLM");
  EXPECT_EQ(span_type_for_gen_ai_operation("invoke_agent"), "AGENT");
  EXPECT_EQ(span_type_for_gen_ai_operation("something_else"), "");
}

TEST(DecodeGenAiTest, MessagesBecomeInputsAndOutputs) {
  pb_collector::ExportTraceServiceRequest req;
  auto* s = add_span(req, kRootBytes, "", "chat gpt-4o");
  set_string(s->add_attributes(), "gen_ai.operation.name", "chat");
  set_string(s->add_attributes(), "gen_ai.request.model", "gpt-4o");
  set_string(s->add_attributes(), "gen_ai.input.messages",
             R"([{"role": "user", "parts": [{"type": "text", "content": "What is MLflow?"}]}])");
  set_string(s->add_attributes(), "gen_ai.output.messages",
             R"([{"role": "assistant", "parts": [{"type": "text", "content": "A platform."}], "finish_reason": "stop"}])");
  const auto out = decode_pb(req);
  ASSERT_EQ(out.traces.size(), 1u);
  const Span& sp = out.traces[0].spans[0];
  EXPECT_EQ(sp.span_type, "CHAT_MODEL");
  EXPECT_EQ(sp.inputs, R"([{"role":"user","parts":[{"type":"text","content":"What is MLflow?"}]}])");
  EXPECT_EQ(sp.outputs, R"([{"role":"assistant","parts":[{"type":"text","content":"A platform."}],"finish_reason":"stop"}])");
  EXPECT_EQ(attr(sp, "gen_ai.request.model"), R"("gpt-4o")");
  EXPECT_EQ(attr(sp, "gen_ai.operation.name"), R"("chat")");
  EXPECT_EQ(attr(sp, "gen_ai.input.messages"), "<absent>");
}

TEST(DecodeGenAiTest, DeprecatedPromptAndCompletion) {
  pb_collector::ExportTraceServiceRequest req;
  auto* s = add_span(req, kRootBytes, "", "embed");
  set_string(s->add_attributes(), "gen_ai.operation.name", "embeddings");
  set_string(s->add_attributes(), "gen_ai.prompt", "plain text prompt");
  set_string(s->add_attributes(), "gen_ai.completion", R"([{"role": "assistant", "content": "hi"}])");
  const auto out = decode_pb(req);
  ASSERT_EQ(out.traces.size(), 1u);
  const Span& sp = out.traces[0].spans[0];
  EXPECT_EQ(sp.span_type, "EMBEDDING");
  EXPECT_EQ(sp.inputs, R"("plain text prompt")");
  EXPECT_EQ(sp.outputs, R"([{"role":"assistant","content":"hi"}])");
}

TEST(DecodeGenAiTest, MlflowFieldsWinAndGenAiStaysAnAttribute) {
  pb_collector::ExportTraceServiceRequest req;
  auto* s = add_span(req, kRootBytes, "", "tool");
  set_string(s->add_attributes(), "gen_ai.operation.name", "execute_tool");
  set_string(s->add_attributes(), "gen_ai.input.messages", "[1]");
  set_string(s->add_attributes(), "mlflow.spanInputs", R"({"a": 1})");
  const auto out = decode_pb(req);
  ASSERT_EQ(out.traces.size(), 1u);
  const Span& sp = out.traces[0].spans[0];
  EXPECT_EQ(sp.span_type, "TOOL");
  EXPECT_EQ(sp.inputs, R"({"a":1})");
  EXPECT_EQ(attr(sp, "gen_ai.input.messages"), R"("[1]")");
}

TEST(DecodeRejectTest, BadSpansAreRejectedOthersAccepted) {
  pb_collector::ExportTraceServiceRequest req;
  add_span(req, kRootBytes, "", "good");
  add_span(req, kChildBytes, kRootBytes, "short trace id")->set_trace_id("abc");
  add_span(req, std::string("\x01\x02\x03\x04\x05\x06\x07\x09", 8), kRootBytes, "zero trace id")->set_trace_id(std::string(16, '\0'));
  add_span(req, std::string(8, '\0'), kRootBytes, "zero span id");
  add_span(req, std::string("\x01\x02\x03\x04\x05\x06\x07\x0a", 8), kRootBytes, "");
  auto* backwards = add_span(req, std::string("\x01\x02\x03\x04\x05\x06\x07\x0b", 8), kRootBytes, "backwards");
  backwards->set_end_time_unix_nano(1);
  add_span(req, std::string("\x01\x02\x03\x04\x05\x06\x07\x0c", 8), "xyz", "bad parent");
  add_span(req, kRootBytes, "", "duplicate of good");
  DecodeOptions opt;
  opt.max_error_details = 100;
  const auto out = decode_pb(req, opt);
  EXPECT_EQ(out.accepted_spans, 1);
  EXPECT_EQ(out.rejected_spans, 7);
  ASSERT_EQ(out.traces.size(), 1u);
  EXPECT_EQ(out.traces[0].spans.size(), 1u);
  const std::string& m = out.error_message;
  EXPECT_NE(m.find("resource_spans[0].scope_spans[0].spans[1].trace_id: expected 16 bytes (32 hex digits), got 3 bytes"),
            std::string::npos) << m;
  EXPECT_NE(m.find("spans[2].trace_id: must not be all zeros"), std::string::npos) << m;
  EXPECT_NE(m.find("spans[3].span_id: must not be all zeros"), std::string::npos) << m;
  EXPECT_NE(m.find("spans[4].name: required"), std::string::npos) << m;
  EXPECT_NE(m.find("spans[5].end_time_unix_nano: must not be before start_time_unix_nano"), std::string::npos) << m;
  EXPECT_NE(m.find("spans[6].parent_span_id"), std::string::npos) << m;
  EXPECT_NE(m.find("spans[7].span_id: duplicate span"), std::string::npos) << m;
}

TEST(DecodeRejectTest, ErrorMessageIsBounded) {
  pb_collector::ExportTraceServiceRequest req;
  for (int i = 0; i < 50; ++i) add_span(req, kRootBytes, "", "bad")->set_trace_id("x");
  const auto out = decode_pb(req);
  EXPECT_EQ(out.rejected_spans, 50);
  EXPECT_LT(out.error_message.size(), 1000u);
}

TEST(DecodeRejectTest, TooDeepAttributeIsRefused) {
  // protobuf's own recursion limit (100 messages) refuses this before tracefeed's
  // kMaxJsonDepth would: the request is undecodable, nothing is published.
  pb_collector::ExportTraceServiceRequest req;
  auto* s = add_span(req, kRootBytes, "", "deep");
  auto* a = s->add_attributes();
  a->set_key("deep");
  pb_common::AnyValue* v = a->mutable_value();
  for (int i = 0; i < 80; ++i) v = v->mutable_array_value()->add_values();
  v->set_int_value(1);
  auto r = decode_export_request(req.SerializeAsString(), Encoding::protobuf);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::invalid_argument);
}

TEST(DecodeRejectTest, UndecodableBodies) {
  auto r = decode_export_request("\xff\xff\xff not protobuf", Encoding::protobuf);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::invalid_argument);
  r = decode_export_request("{not json", Encoding::json);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("not valid JSON"), std::string::npos);
  r = decode_export_request("[1,2]", Encoding::json);
  ASSERT_FALSE(r.is_ok());
  r = decode_export_request(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":true}]}]}]})", Encoding::json);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(),
            "resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano: expected an unsigned integer");
  r = decode_export_request(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":"SPAN_KIND_NOPE"}]}]}]})", Encoding::json);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("spans[0].kind: unknown enum value"), std::string::npos);
  // An empty request is valid (and maps to nothing).
  auto empty = decode_export_request("", Encoding::protobuf);
  ASSERT_TRUE(empty.is_ok());
  EXPECT_TRUE(empty->traces.empty());
  auto empty_json = decode_export_request("{}", Encoding::json);
  ASSERT_TRUE(empty_json.is_ok());
}

// The OTLP/JSON example of the OpenTelemetry specification, extended.
constexpr std::string_view kJsonRequest = R"({
  "resourceSpans": [{
    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "my.service"}}]},
    "scopeSpans": [{
      "scope": {"name": "my.library", "version": "1.0.0", "attributes": [{"key": "my.scope.attribute", "value": {"stringValue": "x"}}]},
      "spans": [{
        "traceId": "5B8EFFF798038103D269B633813FC60C",
        "spanId": "EEE19B7EC3C1B174",
        "parentSpanId": "",
        "name": "I'm a server span",
        "startTimeUnixNano": "1544712660000000000",
        "endTimeUnixNano": 1544712661000000000,
        "kind": 2,
        "status": {"code": "STATUS_CODE_ERROR", "message": "bad"},
        "attributes": [
          {"key": "my.span.attr", "value": {"stringValue": "some value"}},
          {"key": "int", "value": {"intValue": "9007199254740993"}},
          {"key": "dbl", "value": {"doubleValue": 2.5}},
          {"key": "nan", "value": {"doubleValue": "NaN"}},
          {"key": "flag", "value": {"boolValue": true}},
          {"key": "arr", "value": {"arrayValue": {"values": [{"intValue": 1}, {"stringValue": "two"}]}}},
          {"key": "map", "value": {"kvlistValue": {"values": [{"key": "a", "value": {"boolValue": false}}]}}},
          {"key": "raw", "value": {"bytesValue": "AAH/"}},
          {"key": "unknownField", "value": {"stringValue": "v"}, "extra": [1, 2, {"x": null}]}
        ],
        "events": [{"timeUnixNano": "1544712660500000000", "name": "ev", "attributes": [{"key": "k", "value": {"intValue": 5}}]}],
        "links": [{"traceId": "5b8efff798038103d269b633813fc60d", "spanId": "eee19b7ec3c1b175"}]
      }, {
        "trace_id": "5b8efff798038103d269b633813fc60c",
        "span_id": "aaa19b7ec3c1b174",
        "parent_span_id": "eee19b7ec3c1b174",
        "name": "child in snake_case",
        "start_time_unix_nano": 1544712660100000000,
        "end_time_unix_nano": 1544712660200000000,
        "kind": "SPAN_KIND_CLIENT",
        "status": {"code": 1}
      }]
    }]
  }]
})";

TEST(DecodeJsonTest, OtlpJsonMapping) {
  const auto out = decode_json(kJsonRequest);
  EXPECT_EQ(out.rejected_spans, 0) << out.error_message;
  ASSERT_EQ(out.traces.size(), 1u);
  const Trace& t = out.traces[0];
  EXPECT_EQ(t.trace_info.trace_id, "tr-5b8efff798038103d269b633813fc60c");
  EXPECT_EQ(t.trace_info.state, TraceState::error);
  EXPECT_EQ(t.trace_info.request_time, 1544712660000000000);
  EXPECT_EQ(t.trace_info.execution_duration_ns, 1'000'000'000);
  EXPECT_EQ(meta(t.trace_info, "service.name"), "my.service");
  ASSERT_EQ(t.spans.size(), 2u);
  const Span& root = t.spans[0];
  EXPECT_EQ(root.span_id, "eee19b7ec3c1b174");
  EXPECT_TRUE(root.is_root());
  EXPECT_EQ(root.status, SpanStatus::error);
  EXPECT_EQ(attr(root, "my.span.attr"), R"("some value")");
  EXPECT_EQ(attr(root, "int"), "9007199254740993");
  EXPECT_EQ(attr(root, "dbl"), "2.5");
  EXPECT_EQ(attr(root, "nan"), "null");
  EXPECT_EQ(attr(root, "flag"), "true");
  EXPECT_EQ(attr(root, "arr"), R"([1,"two"])");
  EXPECT_EQ(attr(root, "map"), R"({"a":false})");
  EXPECT_EQ(attr(root, "raw"), R"("AAH/")");
  EXPECT_EQ(attr(root, "unknownField"), R"("v")");
  EXPECT_EQ(attr(root, "otel.span_kind"), R"("SERVER")");
  EXPECT_EQ(attr(root, "otel.status_description"), R"("bad")");
  EXPECT_EQ(attr(root, "otel.links"), R"([{"trace_id":"5b8efff798038103d269b633813fc60d","span_id":"eee19b7ec3c1b175"}])");
  EXPECT_EQ(root.events, R"([{"name":"ev","time_unix_nano":1544712660500000000,"attributes":{"k":5}}])");
  const Span& child = t.spans[1];
  EXPECT_EQ(child.parent_span_id, "eee19b7ec3c1b174");
  EXPECT_EQ(child.status, SpanStatus::ok);
  EXPECT_EQ(attr(child, "otel.span_kind"), R"("CLIENT")");
}

TEST(DecodeJsonTest, BadHexIdsRejectTheSpanNotTheRequest) {
  const auto out = decode_json(R"({"resourceSpans":[{"scopeSpans":[{"spans":[
    {"traceId":"zz8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"a","startTimeUnixNano":"1"},
    {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7e","name":"b","startTimeUnixNano":"1"},
    {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"c","startTimeUnixNano":"1"}]}]}]})");
  EXPECT_EQ(out.accepted_spans, 1);
  EXPECT_EQ(out.rejected_spans, 2);
  EXPECT_NE(out.error_message.find(
                R"(resource_spans[0].scope_spans[0].spans[0].traceId: expected 32 hex digits, got "zz8efff798038103d269b633813fc60c")"),
            std::string::npos)
      << out.error_message;
  EXPECT_NE(out.error_message.find(R"(spans[1].spanId: expected 16 hex digits, got "eee19b7e")"), std::string::npos)
      << out.error_message;
}

TEST(DecodeJsonTest, Base64IdsFromGenericProtoJsonEncodersAreAccepted) {
  // protobuf's generic JSON mapping writes bytes as base64; OTLP/JSON says hex. Accept both.
  const auto out = decode_json(R"({"resourceSpans":[{"scopeSpans":[{"spans":[
    {"traceId":"CvdlGRbNQ92ESOshHIAxnA==","spanId":"t61rcWkgMzE=","name":"a","startTimeUnixNano":"1"}]}]}]})");
  ASSERT_EQ(out.traces.size(), 1u) << out.error_message;
  EXPECT_EQ(out.traces[0].trace_info.trace_id, "tr-" + kTraceHex);
  EXPECT_EQ(out.traces[0].spans[0].span_id, kRootHex);
}

TEST(DecodeJsonTest, JsonAndProtobufDecodeTheSameRequestAlike) {
  pb_collector::ExportTraceServiceRequest req;
  auto* s = add_span(req, kRootBytes, "", "root");
  set_string(s->add_attributes(), "mlflow.spanType", R"("AGENT")");
  const auto pb = decode_pb(req);
  const auto js = decode_json(R"({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"chatbot"}}]},
    "scopeSpans":[{"scope":{"name":"test"},"spans":[{"traceId":")" + kTraceHex + R"(","spanId":")" + kRootHex +
                              R"(","name":"root","startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000001250000000",
    "attributes":[{"key":"mlflow.spanType","value":{"stringValue":"\"AGENT\""}}]}]}]}]})");
  ASSERT_EQ(pb.traces.size(), 1u);
  ASSERT_EQ(js.traces.size(), 1u);
  EXPECT_EQ(to_json(pb.traces[0]), to_json(js.traces[0]));
}

TEST(DecodeJsonTest, GroupsSpansByTrace) {
  const auto out = decode_json(R"({"resourceSpans":[{"scopeSpans":[{"spans":[
    {"traceId":"00000000000000000000000000000001","spanId":"0000000000000001","name":"a","startTimeUnixNano":"1"},
    {"traceId":"00000000000000000000000000000002","spanId":"0000000000000001","name":"b","startTimeUnixNano":"1"}]}]},
    {"scopeSpans":[{"spans":[
    {"traceId":"00000000000000000000000000000001","spanId":"0000000000000002","parentSpanId":"0000000000000001","name":"c","startTimeUnixNano":"1"}]}]}]})");
  ASSERT_EQ(out.traces.size(), 2u);
  EXPECT_EQ(out.traces[0].trace_info.trace_id, "tr-00000000000000000000000000000001");
  EXPECT_EQ(out.traces[0].spans.size(), 2u);
  EXPECT_EQ(out.traces[1].spans.size(), 1u);
}

TEST(DecodeJsonTest, DeepJsonIsRefused) {
  std::string deep = R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"k","value":)";
  for (int i = 0; i < 100; ++i) deep += R"({"arrayValue":{"values":[)";
  deep += R"({"intValue":1})";
  for (int i = 0; i < 100; ++i) deep += "]}}";
  deep += "}]}]}]}]}";
  auto r = decode_export_request(deep, Encoding::json);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("nested deeper than"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace tracefeed::otlp
