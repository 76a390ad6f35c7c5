// Webhook actions end to end: the Router writes the outbox entry in the join's batch, the
// dispatcher POSTs it to a local httplib server and stores the outcome as the decision.
#include "processors/route/webhook.h"

#include <httplib.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "core/json_tree.h"
#include "processors/route/tests/route_fixture.h"
#include "state/store.h"

namespace tracefeed::route {
namespace {

using namespace route::testing;

// A webhook receiver on 127.0.0.1: answers `fail_status` to the first `failures` requests, then
// `ok_status`.
class HookServer {
 public:
  HookServer(int failures, int fail_status = 500, int ok_status = 200)
      : _failures(failures), _fail_status(fail_status), _ok_status(ok_status) {
    _server.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(_mu);
      _bodies.push_back(req.body);
      _deliveries.push_back(req.get_header_value("X-Tracefeed-Delivery"));
      _attempt_headers.push_back(req.get_header_value("X-Tracefeed-Attempt"));
      const bool fail = static_cast<int>(_bodies.size()) <= _failures;
      res.status = fail ? _fail_status : _ok_status;
      res.set_content(fail ? "no" : "ok", "text/plain");
    });
    _port = _server.bind_to_any_port("127.0.0.1");
    _thread = std::thread([this] { _server.listen_after_bind(); });
    EXPECT_TRUE(eventually([&] { return _server.is_running(); }));
  }
  ~HookServer() {
    _server.stop();
    _thread.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(_port) + "/hook"; }
  size_t calls() {
    std::lock_guard lock(_mu);
    return _bodies.size();
  }
  std::vector<std::string> bodies() {
    std::lock_guard lock(_mu);
    return _bodies;
  }
  std::vector<std::string> deliveries() {
    std::lock_guard lock(_mu);
    return _deliveries;
  }
  std::vector<std::string> attempts() {
    std::lock_guard lock(_mu);
    return _attempt_headers;
  }

 private:
  const int _failures, _fail_status, _ok_status;
  httplib::Server _server;
  int _port = 0;
  std::thread _thread;
  std::mutex _mu;
  std::vector<std::string> _bodies, _deliveries, _attempt_headers;
};

class WebhookTest : public RouteFixture {
 protected:
  static WebhookOptions fast(int attempts) {
    WebhookOptions o;
    o.max_attempts = attempts;
    o.initial_backoff = std::chrono::milliseconds(1);
    o.max_backoff = std::chrono::milliseconds(4);
    o.connect_timeout = std::chrono::seconds(2);
    o.request_timeout = std::chrono::seconds(2);
    return o;
  }
  size_t outbox_size() {
    size_t n = 0;
    EXPECT_TRUE(_store->scan_prefix(state::Family::meta, webhook_outbox_all, [&](std::string_view, std::string_view) {
      ++n;
      return true;
    }).is_ok());
    return n;
  }
  void use_rule(const std::string& url) {
    set_rules({rule("hook", "feedback.user_feedback = false", {{RuleAction::Kind::webhook, url}})});
  }
};

TEST_F(WebhookTest, RetriesUntilTheReceiverAcceptsThenRecordsTheDelivery) {
  HookServer hook(/*failures=*/2);
  use_rule(hook.url());
  WebhookDispatcher dispatcher(*_store, _clock, fast(5));
  ASSERT_TRUE(dispatcher.start().is_ok());
  Router router(_topics, _rules, &dispatcher);

  EXPECT_TRUE(apply(router, trace_json("e1", root_span())).empty());
  // The webhook is not a Kafka output: the join's batch only carries the outbox entry.
  EXPECT_TRUE(apply(router, feedback_json("e2", "a-01", "false")).empty());
  ASSERT_TRUE(eventually([&] { return dispatcher.stats().delivered.load() == 1; })) << decision("hook");
  EXPECT_EQ(decision("hook"), "routed: all conditions met; webhook delivered: " + hook.url() +
                                  " answered HTTP 200 on attempt 3");
  EXPECT_EQ(hook.calls(), 3u);
  EXPECT_EQ(hook.attempts(), (std::vector<std::string>{"1", "2", "3"}));
  const auto bodies = hook.bodies();
  // Every attempt sends the same bytes: the body was fixed when the rule fired.
  EXPECT_EQ(bodies[0], bodies[2]);
  EXPECT_EQ(hook.deliveries()[0], std::string(kTrace) + "/hook/0");
  auto body = parse_json(bodies[0]);
  ASSERT_TRUE(body.is_ok()) << bodies[0];
  EXPECT_EQ(body->find("type")->as_string(), "webhook");
  EXPECT_EQ(body->find("rule")->as_string(), "hook");
  EXPECT_EQ(body->find("trace_id")->as_string(), kTrace);
  const JsonTree* info = body->find("trace_info");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->find("request_preview")->as_string(), "What is MLflow?");
  ASSERT_TRUE(info->find("assessments") && info->find("assessments")->is_array());
  EXPECT_EQ(info->find("assessments")->as_array().at(0).find("assessment_name")->as_string(), "user_feedback");
  EXPECT_TRUE(eventually([&] { return outbox_size() == 0; }));

  // The rule fired: more thumbs-down on the trace call nobody again.
  apply(router, feedback_json("e3", "a-02", "false"));
  dispatcher.stop();
  EXPECT_EQ(hook.calls(), 3u);
  EXPECT_EQ(dispatcher.stats().attempts.load(), 3u);
}

TEST_F(WebhookTest, GivesUpAfterMaxAttemptsWithAFailedDecision) {
  HookServer hook(/*failures=*/1'000'000, /*fail_status=*/503);
  use_rule(hook.url());
  WebhookDispatcher dispatcher(*_store, _clock, fast(3));
  ASSERT_TRUE(dispatcher.start().is_ok());
  Router router(_topics, _rules, &dispatcher);

  apply(router, trace_json("e1", root_span()));
  apply(router, feedback_json("e2", "a-01", "false"));
  ASSERT_TRUE(eventually([&] { return dispatcher.stats().failed.load() == 1; }));
  EXPECT_EQ(decision("hook"), "failed: all conditions met; webhook " + hook.url() + " failed: HTTP 503 after 3 attempts");
  EXPECT_EQ(hook.calls(), 3u);
  EXPECT_EQ(outbox_size(), 0u);

  // `failed` means the rule fired: a later change of the trace does not fire it again.
  apply(router, feedback_json("e3", "a-02", "false"));
  dispatcher.stop();
  EXPECT_EQ(hook.calls(), 3u);
  EXPECT_EQ(decision("hook").rfind("failed: ", 0), 0u);
}

TEST_F(WebhookTest, AClientErrorIsNotRetried) {
  HookServer hook(/*failures=*/1'000'000, /*fail_status=*/404);
  use_rule(hook.url());
  WebhookDispatcher dispatcher(*_store, _clock, fast(5));
  ASSERT_TRUE(dispatcher.start().is_ok());
  Router router(_topics, _rules, &dispatcher);
  apply(router, trace_json("e1", root_span()));
  apply(router, feedback_json("e2", "a-01", "false"));
  ASSERT_TRUE(eventually([&] { return dispatcher.stats().failed.load() == 1; }));
  EXPECT_EQ(hook.calls(), 1u);
  EXPECT_EQ(decision("hook"), "failed: all conditions met; webhook " + hook.url() + " failed: HTTP 404 (not retried)");
}

TEST_F(WebhookTest, AnUnreachableReceiverFailsWithTheConnectionError) {
  std::string url;
  {
    HookServer gone(0);
    url = gone.url();
  }  // nothing listens there any more
  use_rule(url);
  WebhookDispatcher dispatcher(*_store, _clock, fast(2));
  ASSERT_TRUE(dispatcher.start().is_ok());
  Router router(_topics, _rules, &dispatcher);
  apply(router, trace_json("e1", root_span()));
  apply(router, feedback_json("e2", "a-01", "false"));
  ASSERT_TRUE(eventually([&] { return dispatcher.stats().failed.load() == 1; }));
  const std::string d = decision("hook");
  EXPECT_EQ(d.rfind("failed: all conditions met; webhook " + url + " failed: ", 0), 0u) << d;
  EXPECT_NE(d.find("after 2 attempts"), std::string::npos) << d;
}

TEST_F(WebhookTest, EntriesLeftInTheOutboxAreDeliveredOnTheNextStart) {
  HookServer hook(0);
  use_rule(hook.url());
  {
    // A run whose dispatcher never delivered (it crashed, or was not running).
    Router router(_topics, _rules, nullptr);
    apply(router, trace_json("e1", root_span()));
    apply(router, feedback_json("e2", "a-01", "false"));
  }
  EXPECT_EQ(outbox_size(), 1u);
  EXPECT_EQ(decision("hook"), "routed: all conditions met; webhook delivery pending");
  WebhookDispatcher dispatcher(*_store, _clock, fast(3));
  ASSERT_TRUE(dispatcher.start().is_ok());
  ASSERT_TRUE(eventually([&] { return dispatcher.stats().delivered.load() == 1; }));
  EXPECT_EQ(hook.calls(), 1u);
  EXPECT_EQ(decision("hook").rfind("routed: all conditions met; webhook delivered", 0), 0u) << decision("hook");
}

TEST_F(WebhookTest, AFullQueueLeavesEntriesToTheOutboxRescan) {
  HookServer hook(0);
  use_rule(hook.url());
  WebhookOptions o = fast(3);
  o.queue_capacity = 1;
  o.workers = 1;
  WebhookDispatcher dispatcher(*_store, _clock, o);
  Router router(_topics, _rules, &dispatcher);
  // Not started yet: the first submit fills the queue, the others overflow to the outbox.
  for (int i = 0; i < 4; ++i) {
    const std::string t = trace_id(i + 1);
    apply(router, trace_json("t" + std::to_string(i), root_span(), t));
    apply(router, feedback_json("f" + std::to_string(i), "a-01", "false", "", t));
  }
  EXPECT_EQ(dispatcher.stats().overflowed.load(), 3u);
  ASSERT_TRUE(dispatcher.start().is_ok());
  ASSERT_TRUE(eventually([&] { return dispatcher.stats().delivered.load() == 4; }));
  EXPECT_EQ(hook.calls(), 4u);
  EXPECT_EQ(outbox_size(), 0u);
}

TEST_F(WebhookTest, MixedActionsProduceTheReviewItemAndCallTheWebhook) {
  HookServer hook(0);
  set_rules({rule("both", "feedback.user_feedback = false",
                  {{RuleAction::Kind::labeling_session, "s"}, {RuleAction::Kind::webhook, hook.url()}})});
  WebhookDispatcher dispatcher(*_store, _clock, fast(3));
  ASSERT_TRUE(dispatcher.start().is_ok());
  Router router(_topics, _rules, &dispatcher);
  apply(router, trace_json("e1", root_span()));
  auto out = apply(router, feedback_json("e2", "a-01", "false"));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].topic, "tf.review");
  ASSERT_TRUE(eventually([&] { return dispatcher.stats().delivered.load() == 1; }));
  EXPECT_EQ(hook.deliveries()[0], std::string(kTrace) + "/both/1");
}

}  // namespace
}  // namespace tracefeed::route
