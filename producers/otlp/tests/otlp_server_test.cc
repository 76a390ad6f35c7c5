// POST /v1/traces over a real socket (http::Server, cpp-httplib underneath): content types,
// gzip as a client sends it, the inflated-size limit, and error bodies.

#include <gtest/gtest.h>
#include <httplib.h>

#include "google/rpc/status.pb.h"
#include "http/server.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "producers/otlp/gzip.h"
#include "producers/otlp/otlp_routes.h"
#include "producers/otlp/tests/recording_sink.h"

namespace tracefeed::otlp {
namespace {

namespace pb_collector = opentelemetry::proto::collector::trace::v1;

std::string request_body() {
  pb_collector::ExportTraceServiceRequest req;
  auto* s = req.add_resource_spans()->add_scope_spans()->add_spans();
  s->set_trace_id(std::string(16, '\x41'));
  s->set_span_id(std::string(8, '\x42'));
  s->set_name("root");
  s->set_start_time_unix_nano(10);
  s->set_end_time_unix_nano(20);
  return req.SerializeAsString();
}

class OtlpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    http::ServerOptions opt;
    opt.listen = "127.0.0.1:0";
    opt.threads = 2;
    server = std::make_unique<http::Server>(opt);
    OtlpOptions otlp;
    otlp.max_decompressed_bytes = 1u << 20;
    register_otlp_routes(*server, sink, otlp);
    ASSERT_TRUE(server->start().is_ok());
    client = std::make_unique<httplib::Client>("127.0.0.1", server->port());
  }
  void TearDown() override { server->stop(); }

  testing::RecordingSink sink;
  std::unique_ptr<http::Server> server;
  std::unique_ptr<httplib::Client> client;
};

TEST_F(OtlpServerTest, ProtobufOverHttp) {
  auto res = client->Post("/v1/traces", request_body(), "application/x-protobuf");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/x-protobuf");
  pb_collector::ExportTraceServiceResponse out;
  EXPECT_TRUE(out.ParseFromString(res->body));
  ASSERT_EQ(sink.envelopes().size(), 1u);
  EXPECT_EQ(sink.envelopes()[0].trace().trace_info.trace_id, "tr-41414141414141414141414141414141");
}

TEST_F(OtlpServerTest, GzipOverHttp) {
  auto z = gzip(request_body());
  ASSERT_TRUE(z.is_ok());
  httplib::Headers headers{{"Content-Encoding", "gzip"}};
  auto res = client->Post("/v1/traces", headers, *z, "application/x-protobuf");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(sink.envelopes().size(), 1u);
}

TEST_F(OtlpServerTest, ZipBombOverHttpIs413) {
  auto z = gzip(std::string(8u << 20, '\0'));
  ASSERT_TRUE(z.is_ok());
  httplib::Headers headers{{"Content-Encoding", "gzip"}};
  auto res = client->Post("/v1/traces", headers, *z, "application/x-protobuf");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  EXPECT_EQ(sink.calls(), 0u);
}

TEST_F(OtlpServerTest, WrongContentTypeAndBadBody) {
  auto res = client->Post("/v1/traces", "hello", "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 415);
  res = client->Post("/v1/traces", "\xff\xfe", "application/x-protobuf");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  google::rpc::Status st;
  EXPECT_TRUE(st.ParseFromString(res->body));
  EXPECT_EQ(st.code(), 3);
}

TEST_F(OtlpServerTest, UnavailableSinkIs503WithRetryAfter) {
  sink.fail_with(Status::unavailable("kafka down"));
  auto res = client->Post("/v1/traces", request_body(), "application/x-protobuf");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->get_header_value("Retry-After"), "1");
}

}  // namespace
}  // namespace tracefeed::otlp
