#include "producers/otlp/otlp_routes.h"

#include <gtest/gtest.h>

#include "core/event_json.h"
#include "google/rpc/status.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "producers/otlp/gzip.h"
#include "producers/otlp/tests/recording_sink.h"

namespace tracefeed::otlp {
namespace {

namespace pb_collector = opentelemetry::proto::collector::trace::v1;
using testing::RecordingSink;

pb_collector::ExportTraceServiceRequest make_request(int traces, bool with_bad_span = false) {
  pb_collector::ExportTraceServiceRequest req;
  auto* ss = req.add_resource_spans()->add_scope_spans();
  for (int t = 0; t < traces; ++t) {
    auto* s = ss->add_spans();
    std::string tid(16, '\x11');
    tid[15] = static_cast<char>(t + 1);
    s->set_trace_id(tid);
    s->set_span_id(std::string(8, '\x22'));
    s->set_name("root");
    s->set_start_time_unix_nano(1'000);
    s->set_end_time_unix_nano(2'000);
  }
  if (with_bad_span) {
    auto* s = ss->add_spans();
    s->set_trace_id("short");
    s->set_span_id(std::string(8, '\x33'));
    s->set_name("bad");
  }
  return req;
}

http::Request post(std::string body, std::string content_type) {
  http::Request req;
  req.method = "POST";
  req.path = "/v1/traces";
  req.body = std::move(body);
  req.headers.emplace_back("content-type", std::move(content_type));
  return req;
}

std::string header(const http::Response& res, std::string_view name) {
  for (const auto& [k, v] : res.headers) {
    if (k == name) return v;
  }
  return "<absent>";
}

class OtlpRoutesTest : public ::testing::Test {
 protected:
  http::Response call(const http::Request& req) {
    http::Response res;
    handle_otlp_export(req, res, sink, options);
    return res;
  }
  RecordingSink sink;
  OtlpOptions options;
};

TEST_F(OtlpRoutesTest, ProtobufPublishesOneEnvelopePerTrace) {
  const auto res = call(post(make_request(2).SerializeAsString(), "application/x-protobuf"));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.content_type, "application/x-protobuf");
  pb_collector::ExportTraceServiceResponse out;
  ASSERT_TRUE(out.ParseFromString(res.body));
  EXPECT_FALSE(out.has_partial_success());
  const auto envs = sink.envelopes();
  ASSERT_EQ(envs.size(), 2u);
  for (const auto& e : envs) {
    EXPECT_EQ(e.type, EventType::trace);
    EXPECT_TRUE(e.event_id.starts_with("otlp-" + e.trace().trace_info.trace_id.substr(3) + "-")) << e.event_id;
    EXPECT_EQ(e.time, 2'000);
    EXPECT_TRUE(validate_envelope(e).is_ok());
  }
  EXPECT_NE(envs[0].event_id, envs[1].event_id);
}

TEST_F(OtlpRoutesTest, JsonRequestGetsJsonResponse) {
  const auto res = call(post(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c",
      "spanId":"eee19b7ec3c1b174","name":"a","startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]})",
                             "application/json; charset=utf-8"));
  EXPECT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.content_type, "application/json");
  EXPECT_EQ(res.body, "{}");
  ASSERT_EQ(sink.envelopes().size(), 1u);
  EXPECT_EQ(sink.envelopes()[0].trace().trace_info.trace_id, "tr-5b8efff798038103d269b633813fc60c");
}

TEST_F(OtlpRoutesTest, PartialSuccessNamesTheRejectedSpan) {
  auto res = call(post(make_request(1, true).SerializeAsString(), "application/x-protobuf"));
  EXPECT_EQ(res.status, 200);
  pb_collector::ExportTraceServiceResponse out;
  ASSERT_TRUE(out.ParseFromString(res.body));
  EXPECT_EQ(out.partial_success().rejected_spans(), 1);
  EXPECT_NE(out.partial_success().error_message().find("spans[1].trace_id: expected 16 bytes"), std::string::npos);
  EXPECT_EQ(sink.envelopes().size(), 1u);

  res = call(post(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"00","spanId":"eee19b7ec3c1b174","name":"a"}]}]}]})",
                  "application/json"));
  EXPECT_EQ(res.status, 200);
  EXPECT_NE(res.body.find(R"("partialSuccess":{"rejectedSpans":"1","errorMessage":"resource_spans[0].scope_spans[0].spans[0].traceId: expected 32 hex digits)"),
            std::string::npos)
      << res.body;
}

TEST_F(OtlpRoutesTest, UnsupportedContentTypeIs415) {
  const auto res = call(post("{}", "text/plain"));
  EXPECT_EQ(res.status, 415);
  EXPECT_NE(res.body.find("Content-Type: expected application/x-protobuf or application/json"), std::string::npos);
  EXPECT_EQ(sink.calls(), 0u);
  auto req = post("{}", "application/json");
  req.headers.emplace_back("content-encoding", "zstd");
  EXPECT_EQ(call(req).status, 415);
}

TEST_F(OtlpRoutesTest, UndecodableBodyIs400WithRpcStatus) {
  auto res = call(post("\xff\xff\xff garbage", "application/x-protobuf"));
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.content_type, "application/x-protobuf");
  google::rpc::Status st;
  ASSERT_TRUE(st.ParseFromString(res.body));
  EXPECT_EQ(st.code(), 3);
  EXPECT_NE(st.message().find("not a valid protobuf ExportTraceServiceRequest"), std::string::npos);

  res = call(post("{oops", "application/json"));
  EXPECT_EQ(res.status, 400);
  EXPECT_TRUE(res.body.starts_with(R"({"code":3,"message":"body: not valid JSON)")) << res.body;
  EXPECT_EQ(sink.calls(), 0u);
}

TEST_F(OtlpRoutesTest, GzipBodies) {
  auto z = gzip(make_request(1).SerializeAsString());
  ASSERT_TRUE(z.is_ok());
  auto req = post(*z, "application/x-protobuf");
  req.headers.emplace_back("content-encoding", "gzip");
  EXPECT_EQ(call(req).status, 200);
  EXPECT_EQ(sink.envelopes().size(), 1u);

  // The HTTP layer may have inflated the body already and left the header in place.
  auto pre = post(make_request(2).SerializeAsString(), "application/x-protobuf");
  pre.headers.emplace_back("content-encoding", "gzip");
  EXPECT_EQ(call(pre).status, 200);
  EXPECT_EQ(sink.envelopes().size(), 2u);

  auto bad = post(z->substr(0, z->size() - 10), "application/x-protobuf");
  bad.headers.emplace_back("content-encoding", "gzip");
  EXPECT_EQ(call(bad).status, 400);
}

TEST_F(OtlpRoutesTest, ZipBombIs413) {
  options.max_decompressed_bytes = 1u << 20;
  auto z = gzip(std::string(32u << 20, '\0'));
  ASSERT_TRUE(z.is_ok());
  auto req = post(*z, "application/x-protobuf");
  req.headers.emplace_back("content-encoding", "gzip");
  const auto res = call(req);
  EXPECT_EQ(res.status, 413);
  google::rpc::Status st;
  ASSERT_TRUE(st.ParseFromString(res.body));
  EXPECT_NE(st.message().find("inflates to more than the limit"), std::string::npos);
  EXPECT_EQ(sink.calls(), 0u);
}

TEST_F(OtlpRoutesTest, SinkUnavailableIs503WithRetryAfter) {
  sink.fail_with(Status::unavailable("producer queue full"));
  const auto res = call(post(make_request(1).SerializeAsString(), "application/x-protobuf"));
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(header(res, "Retry-After"), "1");
  google::rpc::Status st;
  ASSERT_TRUE(st.ParseFromString(res.body));
  EXPECT_EQ(st.code(), 14);
  EXPECT_NE(st.message().find("producer queue full"), std::string::npos);
}

TEST_F(OtlpRoutesTest, SinkRefusalIsReportedAsRejectedSpans) {
  sink.fail_with(Status::invalid_argument("trace.spans[0].name: longer than 256 bytes"));
  const auto res = call(post(make_request(2).SerializeAsString(), "application/x-protobuf"));
  EXPECT_EQ(res.status, 200);
  pb_collector::ExportTraceServiceResponse out;
  ASSERT_TRUE(out.ParseFromString(res.body));
  EXPECT_EQ(out.partial_success().rejected_spans(), 2);
  EXPECT_NE(out.partial_success().error_message().find("longer than 256 bytes"), std::string::npos);
}

TEST_F(OtlpRoutesTest, RetriedBatchHasTheSameEventIds) {
  const std::string body = make_request(3).SerializeAsString();
  sink.fail_with(Status::unavailable("broker down"));
  EXPECT_EQ(call(post(body, "application/x-protobuf")).status, 503);
  sink.fail_with(Status::ok());
  EXPECT_EQ(call(post(body, "application/x-protobuf")).status, 200);
  EXPECT_EQ(call(post(body, "application/x-protobuf")).status, 200);
  EXPECT_EQ(sink.envelopes().size(), 3u);  // the recording sink dedupes by event_id, as the real one
  EXPECT_EQ(sink.calls(), 9u);

  // Different content of the same trace → a different event.
  auto changed = make_request(3);
  changed.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0)->set_end_time_unix_nano(3'000);
  EXPECT_EQ(call(post(changed.SerializeAsString(), "application/x-protobuf")).status, 200);
  EXPECT_EQ(sink.envelopes().size(), 4u);
}

TEST_F(OtlpRoutesTest, ExperimentHeaderSetsTraceLocation) {
  auto req = post(make_request(1).SerializeAsString(), "application/x-protobuf");
  req.headers.emplace_back("x-mlflow-experiment-id", "123");
  EXPECT_EQ(call(req).status, 200);
  ASSERT_EQ(sink.envelopes().size(), 1u);
  EXPECT_EQ(sink.envelopes()[0].trace().trace_info.trace_location,
            R"({"type":"MLFLOW_EXPERIMENT","mlflow_experiment":{"experiment_id":"123"}})");

  auto bad = post(make_request(1).SerializeAsString(), "application/x-protobuf");
  bad.headers.emplace_back("x-mlflow-experiment-id", std::string(300, '9'));
  EXPECT_EQ(call(bad).status, 400);
}

TEST_F(OtlpRoutesTest, EmptyRequestIsOkAndPublishesNothing) {
  const auto res = call(post("", "application/x-protobuf"));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(sink.calls(), 0u);
}

}  // namespace
}  // namespace tracefeed::otlp
