// The rules API's part in webhooks and backfill: validation of webhook actions, backfill requests
// on create and at load, and the backfill progress shown by GET /api/v1/rules/{name}.
#include "processors/route/rules_api.h"

#include <httplib.h>

#include "http/server.h"
#include "processors/route/tests/route_fixture.h"
#include "state/store.h"

namespace tracefeed::route {
namespace {

using namespace route::testing;

class RulesApiTest : public RouteFixture {
 protected:
  void start(std::vector<Rule> config_rules = {}) {
    _registry = std::make_unique<RulesRegistry>(*_store, _rules, std::move(config_rules));
    ASSERT_TRUE(_registry->load().is_ok());
    http::ServerOptions o;
    o.listen = "127.0.0.1:0";
    _server = std::make_unique<http::Server>(o);
    _registry->register_routes(*_server);
    ASSERT_TRUE(_server->start().is_ok());
    _client = std::make_unique<httplib::Client>("127.0.0.1", _server->port());
  }
  httplib::Result post(const std::string& body) { return _client->Post("/api/v1/rules", body, "application/json"); }

  std::unique_ptr<RulesRegistry> _registry;
  std::unique_ptr<http::Server> _server;
  std::unique_ptr<httplib::Client> _client;
};

TEST_F(RulesApiTest, WebhookActionsAreAcceptedAndBadUrlsNamed) {
  start();
  auto ok = post(R"({"name":"hook","filter":"feedback.user_feedback = false","actions":[{"webhook":"http://127.0.0.1:9/x"}]})");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 201) << ok->body;
  auto bad = post(R"({"name":"hook2","actions":[{"webhook":"127.0.0.1:9/x"}]})");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("rules[hook2].actions: webhook: expected an http:// or https:// URL"), std::string::npos)
      << bad->body;
}

TEST_F(RulesApiTest, ABackfillRuleIsEvaluatedOverStoredTracesAndReportsProgress) {
  for (int i = 1; i <= 3; ++i) {
    apply_unrouted(trace_json("t" + std::to_string(i), root_span(), trace_id(i)));
    apply_unrouted(feedback_json("f" + std::to_string(i), "a-01", i == 2 ? "false" : "true", "", trace_id(i)));
  }
  start();
  auto created = post(R"({"name":"bf","filter":"feedback.user_feedback = false","backfill":true,"actions":[{"labeling_session":"s"}]})");
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  // A rule without backfill asks for nothing.
  ASSERT_EQ(post(R"({"name":"live","actions":[{"eval":"d"}]})")->status, 201);

  Router router(_topics, _rules);
  auto out = drain_backfill(router);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].key, trace_id(2));
  EXPECT_EQ(decision("live", trace_id(1)), "");  // not backfilled

  auto got = _client->Get("/api/v1/rules/bf");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 200);
  EXPECT_NE(got->body.find(R"("backfill_progress":{"current_version":true,"done":true,"evaluated":3,"routed":1})"),
            std::string::npos)
      << got->body;
  auto live = _client->Get("/api/v1/rules/live");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->body.find("backfill_progress"), std::string::npos) << live->body;
}

TEST_F(RulesApiTest, LoadAsksForEveryBackfillRuleOnce) {
  start({rule("cfg", "", {{RuleAction::Kind::eval, "d"}}, /*backfill=*/true),
         rule("plain", "", {{RuleAction::Kind::eval, "d"}})});
  EXPECT_EQ(_rules.take_backfill_requests(), std::vector<std::string>{"cfg"});
  EXPECT_TRUE(_rules.take_backfill_requests().empty());
}

}  // namespace
}  // namespace tracefeed::route
