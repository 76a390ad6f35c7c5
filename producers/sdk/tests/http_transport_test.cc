// HttpTransport against a test double of the gateway's POST /api/v1/events (an http::Server that
// records requests and answers as scripted): batching, NDJSON bodies, retries on 503 with
// Retry-After and on connection errors, rejections.
#include "producers/sdk/http_transport.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "core/event_json.h"
#include "core/ids.h"
#include "http/server.h"
#include "producers/sdk/tracer.h"

namespace tracefeed {
namespace {

using namespace std::chrono_literals;

// Waits on a condition with a deadline (tests never sleep to synchronise).
bool wait_for(const std::function<bool()>& cond, std::chrono::milliseconds timeout = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// The gateway double. Thread-safe (handlers run on the server's workers).
class FakeGateway {
 public:
  struct Answer {
    int status = 202;
    std::string body;  // empty: {"accepted": <lines>}
    std::string retry_after;
  };

  FakeGateway() : _server(options()) {
    _server.route("POST", "/api/v1/events", [this](const http::Request& req, http::Response& res) {
      std::lock_guard lock(_mu);
      _requests.push_back(req);
      _request_times.push_back(std::chrono::steady_clock::now());
      Answer a;
      if (!_script.empty()) {
        a = _script.front();
        _script.pop_front();
      }
      size_t lines = 0;
      for (char c : req.body) lines += c == '\n';
      res.json(a.status, a.body.empty() ? R"({"accepted":)" + std::to_string(lines) + "}" : a.body);
      if (!a.retry_after.empty()) res.headers.emplace_back("Retry-After", a.retry_after);
      _cv.notify_all();
    });
  }
  Status start() { return _server.start(); }
  std::string url() const { return _server.base_url(); }
  void script(Answer a) {
    std::lock_guard lock(_mu);
    _script.push_back(std::move(a));
  }
  std::vector<http::Request> requests() const {
    std::lock_guard lock(_mu);
    return _requests;
  }
  std::vector<std::chrono::steady_clock::time_point> request_times() const {
    std::lock_guard lock(_mu);
    return _request_times;
  }

 private:
  static http::ServerOptions options() {
    http::ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.threads = 2;
    return o;
  }
  mutable std::mutex _mu;
  std::condition_variable _cv;
  std::deque<Answer> _script;
  std::vector<http::Request> _requests;
  std::vector<std::chrono::steady_clock::time_point> _request_times;
  http::Server _server;  // last: stopped first, before the state its handler uses
};

std::vector<std::string> lines_of(const std::string& body) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\n') {
      out.push_back(body.substr(start, i - start));
      start = i + 1;
    }
  }
  EXPECT_EQ(start, body.size()) << "every line ends with a newline";
  return out;
}

TEST(HttpTransport, BatchesNdjsonEnvelopes) {
  FakeGateway gw;
  ASSERT_TRUE(gw.start().is_ok());
  HttpTransportOptions o;
  o.url = gw.url();
  o.max_batch_events = 10;
  o.linger = 1h;  // batches leave when full, or when flush() makes them urgent
  auto transport = HttpTransport::create(o);
  ASSERT_TRUE(transport.is_ok()) << transport.status().to_string();
  Tracer tracer(**transport);
  const std::string trace_id = new_trace_id();
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(tracer.log_feedback({.trace_id = trace_id, .name = "f", .value = i}).is_ok());
  ASSERT_TRUE(tracer.flush(30s).is_ok());
  auto st = (*transport)->stats();
  EXPECT_EQ(st.enqueued, 25u);
  EXPECT_EQ(st.acknowledged, 25u);
  EXPECT_EQ(st.failed, 0u);
  auto reqs = gw.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].header("content-type"), "application/x-ndjson");
  EventParser parser;
  size_t total = 0;
  std::vector<size_t> sizes;
  for (const auto& r : reqs) {
    auto lines = lines_of(r.body);
    sizes.push_back(lines.size());
    for (const auto& l : lines) {
      auto e = parser.parse_envelope(l);
      ASSERT_TRUE(e.is_ok()) << e.status().to_string();
      EXPECT_EQ(std::get<Feedback>(e->assessment().value).value, std::to_string(total++));  // order kept
    }
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{10, 10, 5}));
  EXPECT_TRUE((*transport)->close(10s).is_ok());
}

TEST(HttpTransport, RetriesOn503HonouringRetryAfterWithTheSameEventIds) {
  FakeGateway gw;
  ASSERT_TRUE(gw.start().is_ok());
  gw.script({503, R"({"error_code":"TEMPORARILY_UNAVAILABLE","message":"kafka: producer queue full"})", "1"});
  gw.script({503, R"({"error_code":"TEMPORARILY_UNAVAILABLE","message":"again"})", ""});
  HttpTransportOptions o;
  o.url = gw.url();
  o.linger = 0ms;
  o.initial_backoff = 10ms;
  auto transport = HttpTransport::create(o);
  ASSERT_TRUE(transport.is_ok());
  Tracer tracer(**transport);
  ASSERT_TRUE(tracer.log_feedback({.trace_id = new_trace_id(), .name = "f", .value = true}).is_ok());
  ASSERT_TRUE(tracer.flush(30s).is_ok());
  auto st = (*transport)->stats();
  EXPECT_EQ(st.acknowledged, 1u);
  EXPECT_EQ(st.retries, 2u);
  EXPECT_EQ(st.last_retry_delay_ms, 10) << "no Retry-After the second time: the computed back-off";
  auto reqs = gw.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].body, reqs[1].body) << "a retry resends the same envelope (same event_id)";
  EXPECT_EQ(reqs[1].body, reqs[2].body);
  auto times = gw.request_times();
  EXPECT_GE(times[1] - times[0], 1s) << "Retry-After: 1 was honoured";
}

TEST(HttpTransport, RejectedItemsFailTheRestAreAcknowledged) {
  FakeGateway gw;
  ASSERT_TRUE(gw.start().is_ok());
  gw.script({202, R"({"accepted":2,"rejected":[{"index":1,"error_code":"INVALID_PARAMETER_VALUE","message":"bad"}]})", ""});
  HttpTransportOptions o;
  o.url = gw.url();
  o.linger = 1h;
  o.max_batch_events = 3;
  std::atomic<int> ok{0}, bad{0};
  o.on_ack = [&](const Status& s, int64_t) { (s.is_ok() ? ok : bad).fetch_add(1); };
  auto transport = HttpTransport::create(o);
  ASSERT_TRUE(transport.is_ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*transport)->send({EventType::assessment, "e", "tr", "{}"}).is_ok());
  ASSERT_TRUE((*transport)->flush(30s).is_ok());
  EXPECT_EQ(ok.load(), 2);
  EXPECT_EQ(bad.load(), 1);
  auto st = (*transport)->stats();
  EXPECT_EQ(st.failed, 1u);
  EXPECT_NE(st.first_error.find("INVALID_PARAMETER_VALUE"), std::string::npos) << st.first_error;
  EXPECT_EQ(st.retries, 0u);
}

TEST(HttpTransport, ClientErrorsAreNotRetried) {
  FakeGateway gw;
  ASSERT_TRUE(gw.start().is_ok());
  gw.script({400, R"({"error_code":"INVALID_PARAMETER_VALUE","message":"body: not NDJSON"})", ""});
  HttpTransportOptions o;
  o.url = gw.url();
  o.linger = 0ms;
  auto transport = HttpTransport::create(o);
  ASSERT_TRUE(transport.is_ok());
  ASSERT_TRUE((*transport)->send({EventType::assessment, "e", "tr", "{}"}).is_ok());
  ASSERT_TRUE((*transport)->flush(30s).is_ok());
  EXPECT_EQ((*transport)->stats().failed, 1u);
  EXPECT_EQ(gw.requests().size(), 1u);
}

TEST(HttpTransport, ConnectionErrorsAreRetriedUntilTheGatewayIsUp) {
  // Find a free port, then leave it closed while the first attempts fail.
  int port = 0;
  {
    FakeGateway probe;
    ASSERT_TRUE(probe.start().is_ok());
    port = std::stoi(probe.url().substr(probe.url().rfind(':') + 1));
  }
  HttpTransportOptions o;
  o.url = "http://127.0.0.1:" + std::to_string(port);
  o.linger = 0ms;
  o.initial_backoff = 20ms;
  o.max_backoff = 50ms;
  auto transport = HttpTransport::create(o);
  ASSERT_TRUE(transport.is_ok());
  ASSERT_TRUE((*transport)->send({EventType::assessment, "e", "tr", "{}"}).is_ok());
  ASSERT_TRUE(wait_for([&] { return (*transport)->stats().retries >= 1; }));
  http::ServerOptions so;
  so.listen = "127.0.0.1:" + std::to_string(port);
  http::Server server(so);
  server.route("POST", "/api/v1/events", [](const http::Request&, http::Response& res) { res.json(202, R"({"accepted":1})"); });
  ASSERT_TRUE(server.start().is_ok());
  ASSERT_TRUE((*transport)->flush(30s).is_ok());
  EXPECT_EQ((*transport)->stats().acknowledged, 1u);
  // Close the client first: the server's stop would otherwise wait out the idle keep-alive.
  EXPECT_TRUE((*transport)->close(10s).is_ok());
}

TEST(HttpTransport, FullBufferPolicyAndCloseAccounting) {
  // No gateway at all: nothing is ever delivered, so the buffer fills.
  HttpTransportOptions o;
  o.url = "http://127.0.0.1:1";
  o.max_buffered_events = 2;
  o.max_batch_events = 1;
  o.linger = 0ms;
  o.on_full = BufferFullPolicy::error;
  o.initial_backoff = 1h;  // the sender holds its batch in back-off
  o.retry_timeout = 10h;
  auto transport = HttpTransport::create(o);
  ASSERT_TRUE(transport.is_ok());
  // One event goes to the sender (in back-off); then two fill the buffer.
  ASSERT_TRUE((*transport)->send({EventType::assessment, "e", "tr", "{}"}).is_ok());
  ASSERT_TRUE(wait_for([&] { return (*transport)->stats().retries >= 1; }));
  ASSERT_TRUE((*transport)->send({EventType::assessment, "e", "tr", "{}"}).is_ok());
  ASSERT_TRUE((*transport)->send({EventType::assessment, "e", "tr", "{}"}).is_ok());
  EXPECT_EQ((*transport)->send({EventType::assessment, "e", "tr", "{}"}).code(), ErrorCode::unavailable);
  EXPECT_EQ((*transport)->flush(10ms).code(), ErrorCode::timeout);
  Status closed = (*transport)->close(10ms);
  EXPECT_EQ(closed.code(), ErrorCode::unavailable);
  auto st = (*transport)->stats();
  EXPECT_EQ(st.enqueued, 3u);
  EXPECT_EQ(st.failed, 3u) << "every taken event is accounted for";
  EXPECT_EQ((*transport)->send({EventType::assessment, "e", "tr", "{}"}).code(), ErrorCode::unavailable);
}

}  // namespace
}  // namespace tracefeed
