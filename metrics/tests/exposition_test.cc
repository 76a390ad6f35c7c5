#include "metrics/exposition.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <prometheus/counter.h>

#include "metrics/tests/exposition_text.h"

namespace tracefeed::metrics {
namespace {

using testing::sample_value;

http::ServerOptions test_options() {
  http::ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.threads = 2;
  return o;
}

TEST(MetricsRoute, ServesTheTextFormatThroughTheHttpServer) {
  Metrics m;
  double pending = 3;
  auto reg = m.add_source(names::join_pending_assessments, [&](std::vector<Sample>& out) { out.push_back({{}, pending}); });
  ASSERT_TRUE(reg.is_ok());
  http::Server server(test_options());
  register_metrics_route(server, m);
  ASSERT_TRUE(server.start().is_ok());

  httplib::Client client("127.0.0.1", server.port());
  auto r = client.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; version=0.0.4");
  EXPECT_NE(r->body.find("# TYPE tracefeed_route_latency_seconds histogram\n"), std::string::npos);
  EXPECT_EQ(sample_value(r->body, "tracefeed_join_pending_assessments"), 3.0);

  // Values move between scrapes: handles and sources alike.
  m.events_ingested(EventType::trace).Increment(5);
  pending = 0;
  r = client.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(sample_value(r->body, R"(tracefeed_events_ingested_total{type="trace"})"), 5.0);
  EXPECT_EQ(sample_value(r->body, "tracefeed_join_pending_assessments"), 0.0);
  reg->reset();
  server.stop();
}

TEST(MetricsRoute, ServesOnTheConfiguredPathOnly) {
  Metrics m;
  http::Server server(test_options());
  register_metrics_route(server, m, "/internal/metrics.txt");
  ASSERT_TRUE(server.start().is_ok());
  httplib::Client client("127.0.0.1", server.port());
  auto ok = client.Get("/internal/metrics.txt");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_NE(ok->body.find("tracefeed_state_bytes"), std::string::npos);
  // The '.' of the configured path is literal, not a regex wildcard.
  auto other = client.Get("/internal/metricsXtxt");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404);
  auto default_path = client.Get("/metrics");
  ASSERT_TRUE(default_path);
  EXPECT_EQ(default_path->status, 404);
}

}  // namespace
}  // namespace tracefeed::metrics
