// emit and loadgen against a gateway test double (http::Server) and the embedded broker.
#include "producers/emit/emit.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "core/ids.h"
#include "http/server.h"
#include "kafka/embedded_broker.h"
#include "producers/emit/loadgen.h"

namespace tracefeed::emit {
namespace {

using namespace std::chrono_literals;

// Accepts every line except those containing "reject_me" (rejected with their batch index);
// answers the first request with 503 + Retry-After: 0 when `busy_once`.
class FakeGateway {
 public:
  explicit FakeGateway(bool busy_once = false) : _busy_once(busy_once), _server(options()) {
    _server.route("POST", "/api/v1/events", [this](const http::Request& req, http::Response& res) {
      ++_requests;
      if (_busy_once.exchange(false)) {
        res.json(503, R"({"error_code":"TEMPORARILY_UNAVAILABLE","message":"busy"})");
        res.headers.emplace_back("Retry-After", "0");
        return;
      }
      size_t index = 0, start = 0, accepted = 0;
      std::string rejected;
      for (size_t i = 0; i < req.body.size(); ++i) {
        if (req.body[i] != '\n') continue;
        if (req.body.substr(start, i - start).find("reject_me") != std::string::npos) {
          if (!rejected.empty()) rejected += ",";
          rejected += R"({"index":)" + std::to_string(index) + R"(,"error_code":"INVALID_PARAMETER_VALUE","message":"server says no"})";
        } else {
          ++accepted;
        }
        ++index;
        start = i + 1;
      }
      _accepted += accepted;
      res.json(202, R"({"accepted":)" + std::to_string(accepted) + (rejected.empty() ? "" : R"(,"rejected":[)" + rejected + "]") + "}");
    });
  }
  Status start() { return _server.start(); }
  std::string url() const { return _server.base_url(); }
  int requests() const { return _requests.load(); }
  uint64_t accepted() const { return _accepted.load(); }

 private:
  static http::ServerOptions options() {
    http::ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.threads = 2;
    return o;
  }
  std::atomic<bool> _busy_once;
  std::atomic<int> _requests{0};
  std::atomic<uint64_t> _accepted{0};
  http::Server _server;
};

std::string feedback_line(const std::string& name) {
  return R"({"event_id":")" + new_event_id() + R"(","type":"assessment","assessment":{"trace_id":")" + new_trace_id() +
         R"(","assessment_name":")" + name + R"(","feedback":{"value":false}}})";
}

class TempDir {
 public:
  TempDir() : _path(std::filesystem::temp_directory_path() / ("emit-test-" + new_event_id())) {
    std::filesystem::create_directories(_path);
  }
  ~TempDir() { std::filesystem::remove_all(_path); }
  std::string file(const std::string& name) const { return (_path / name).string(); }

 private:
  std::filesystem::path _path;
};

TEST(Emit, SendsBatchesAndReportsRejectionsWithLineNumbers) {
  FakeGateway gw(/*busy_once=*/true);
  ASSERT_TRUE(gw.start().is_ok());
  TempDir dir;
  const std::string path = dir.file("events.ndjson");
  {
    std::ofstream f(path);
    for (int i = 1; i <= 12; ++i) {
      if (i == 4) {
        f << "{ this is not json\n";
      } else if (i == 9) {
        f << feedback_line("reject_me") << "\n";
      } else if (i == 6) {
        f << "\n";  // blank: skipped, but still counted as a line number
      } else {
        f << feedback_line("user_feedback") << "\n";
      }
    }
  }
  EmitOptions o;
  o.files = {path};
  o.url = gw.url();
  o.batch_size = 4;
  o.progress = false;
  std::FILE* sink = std::fopen("/dev/null", "w");
  auto r = emit_files(o, sink);
  std::fclose(sink);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->lines, 11u);
  EXPECT_EQ(r->sent, 10u);
  EXPECT_EQ(r->accepted, 9u);
  EXPECT_EQ(r->rejected, 2u);
  EXPECT_EQ(r->retries, 1u);
  EXPECT_EQ(gw.accepted(), 9u);
  ASSERT_EQ(r->first_errors.size(), 2u);
  EXPECT_EQ(r->first_errors[0].rfind(path + ":4: ", 0), 0u) << r->first_errors[0];
  EXPECT_EQ(r->first_errors[1], path + ":9: INVALID_PARAMETER_VALUE: server says no");
  EXPECT_EQ(gw.requests(), 1 + 3) << "one 503, then batches of 4, 4, 2";
}

TEST(Emit, RunEmitExitCodes) {
  FakeGateway gw;
  ASSERT_TRUE(gw.start().is_ok());
  TempDir dir;
  const std::string good = dir.file("good.ndjson"), bad = dir.file("bad.ndjson");
  std::ofstream(good) << feedback_line("a") << "\n" << feedback_line("b") << "\n";
  std::ofstream(bad) << feedback_line("reject_me") << "\n";
  EmitOptions o;
  o.url = gw.url();
  o.progress = false;
  o.files = {good};
  EXPECT_EQ(run_emit(o), 0);
  o.files = {good, bad};
  EXPECT_EQ(run_emit(o), 1);
  o.files = {dir.file("missing.ndjson")};
  EXPECT_EQ(run_emit(o), 2);
}

TEST(Loadgen, WritesNdjsonThatEmitReplays) {
  FakeGateway gw;
  ASSERT_TRUE(gw.start().is_ok());
  TempDir dir;
  LoadgenOptions lo;
  lo.output = dir.file("traffic.ndjson");
  lo.count = 300;
  lo.rate = 0;
  auto rep = run_loadgen_report(lo, SystemClock::instance());
  ASSERT_TRUE(rep.is_ok()) << rep.status().to_string();
  EXPECT_EQ(rep->sent, 300u);
  EmitOptions eo;
  eo.files = {lo.output};
  eo.url = gw.url();
  eo.progress = false;
  std::FILE* sink = std::fopen("/dev/null", "w");
  auto r = emit_files(eo, sink);
  std::fclose(sink);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->lines, 300u);
  EXPECT_EQ(r->accepted, 300u);
  EXPECT_EQ(r->rejected, 0u) << (r->first_errors.empty() ? "" : r->first_errors[0]);
}

TEST(Loadgen, ToTheGatewayOverHttp) {
  FakeGateway gw;
  ASSERT_TRUE(gw.start().is_ok());
  LoadgenOptions lo;
  lo.url = gw.url();
  lo.count = 500;
  lo.rate = 0;
  auto rep = run_loadgen_report(lo, SystemClock::instance());
  ASSERT_TRUE(rep.is_ok()) << rep.status().to_string();
  EXPECT_EQ(rep->acknowledged, 500u) << rep->first_error;
  EXPECT_EQ(gw.accepted(), 500u);
  EXPECT_GT(rep->p50_ns, 0);
  EXPECT_GE(rep->p99_ns, rep->p50_ns);
}

TEST(Loadgen, StraightToKafkaAtATargetRate) {
  auto broker = kafka::EmbeddedBroker::start();
  ASSERT_TRUE(broker.is_ok());
  ASSERT_TRUE((*broker)->create_topic("lg.traces", 2).is_ok());
  ASSERT_TRUE((*broker)->create_topic("lg.assessments", 2).is_ok());
  LoadgenOptions lo;
  lo.kafka_brokers = (*broker)->bootstrap_servers();
  lo.topic_prefix = "lg.";
  lo.count = 400;
  lo.rate = 2000;  // ~0.2 s
  auto rep = run_loadgen_report(lo, SystemClock::instance());
  ASSERT_TRUE(rep.is_ok()) << rep.status().to_string();
  EXPECT_EQ(rep->acknowledged, 400u) << rep->first_error;
  EXPECT_EQ(rep->failed, 0u);
  EXPECT_LE(rep->events_per_second, 2000 * 1.5) << "paced by the token bucket";
}

}  // namespace
}  // namespace tracefeed::emit
