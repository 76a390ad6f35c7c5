#include <gtest/gtest.h>

#include "processors/route/router.h"
#include "processors/route/webhook.h"

namespace tracefeed::route {
namespace {

TEST(WebhookUrl, AcceptsHttpAndHttpsWithAHost) {
  EXPECT_TRUE(check_webhook_url("http://127.0.0.1:8080/hook").is_ok());
  EXPECT_TRUE(check_webhook_url("https://hooks.example.com/services/T0/B0?x=1").is_ok());
  EXPECT_TRUE(check_webhook_url("http://localhost").is_ok());
  EXPECT_NE(check_webhook_url("ftp://example.com/").message().find("expected an http:// or https:// URL"),
            std::string::npos);
  EXPECT_NE(check_webhook_url("http:///path").message().find("no host"), std::string::npos);
  EXPECT_NE(check_webhook_url("http://:80/").message().find("no host"), std::string::npos);
  EXPECT_NE(check_webhook_url("http://a b/").message().find("spaces"), std::string::npos);
}

TEST(WebhookUrl, CompileRuleNamesTheActionField) {
  auto bad = compile_rule("r", "", 1.0, 0, false, {{RuleAction::Kind::webhook, "example.com/hook"}});
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().message().rfind("rules[r].actions: webhook: expected an http:// or https:// URL", 0), 0u)
      << bad.status().message();
  EXPECT_TRUE(compile_rule("r", "", 1.0, 0, false, {{RuleAction::Kind::webhook, "http://127.0.0.1:9/x"}}).is_ok());
}

TEST(WebhookOptions, ValidateListsEveryProblem) {
  WebhookOptions o;
  EXPECT_TRUE(o.validate().is_ok());
  o.max_attempts = 0;
  o.workers = 0;
  o.queue_capacity = 0;
  const std::string m = o.validate().message();
  EXPECT_NE(m.find("max_attempts"), std::string::npos) << m;
  EXPECT_NE(m.find("workers"), std::string::npos) << m;
  EXPECT_NE(m.find("queue_capacity"), std::string::npos) << m;
}

TEST(WebhookOutbox, KeysGroupByTraceAndRule) {
  const std::string k = webhook_outbox_key("tr-1", "rule", 2);
  EXPECT_EQ(k, std::string("whk\0tr-1\0rule\0" "2", 15));
  EXPECT_TRUE(k.starts_with(webhook_outbox_prefix("tr-1", "rule")));
  EXPECT_FALSE(webhook_outbox_key("tr-12", "rule", 0).starts_with(webhook_outbox_prefix("tr-1", "rule")));
  EXPECT_TRUE(k.starts_with(webhook_outbox_all));
  EXPECT_EQ(webhook_outbox_value("http://h/x", "{}"), std::string("http://h/x\0{}", 13));
}

TEST(Decisions, FiredMeansRoutedOrFailed) {
  std::string json;
  write_decision_json(json, "tr-1", "r", Decision::routed, "all conditions met", 0);
  EXPECT_EQ(json, R"({"trace_id":"tr-1","rule":"r","decision":"routed","reason":"all conditions met","time":"1970-01-01T00:00:00Z"})");
  EXPECT_TRUE(decision_fired(json));
  write_decision_json(json, "tr-1", "r", Decision::failed, "webhook failed", 0);
  EXPECT_TRUE(decision_fired(json));
  write_decision_json(json, "tr-1", "r", Decision::filtered_out, "decision \"routed\"", 0);
  EXPECT_FALSE(decision_fired(json));
}

}  // namespace
}  // namespace tracefeed::route
