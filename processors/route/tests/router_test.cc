#include "processors/route/router.h"

#include "processors/join/joiner.h"
#include "processors/join/tests/test_support.h"
#include "state/write_batch.h"

namespace tracefeed::route {
namespace {

using namespace join::testing;

class RouterTest : public ::testing::Test {
 protected:
  void add_rule(const std::string& name, const std::string& filter, double rate = 1.0) {
    auto r = compile_rule(name, filter, rate, 0, false, {{RuleAction::Kind::labeling_session, "quickstart_review"}});
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    _rules_vec.push_back(std::move(r).value());
    _rules.replace(_rules_vec);
  }
  // Applies an event and routes the trace, as the join processor does after each batch.
  std::vector<Output> apply(const std::string& json) {
    state::WriteBatch batch(*_store);
    (void)_joiner.apply(parse(json), 1'700'000'000'000'000'000, batch);
    Trace t;
    bool present = false;
    EXPECT_TRUE(_joiner.load_joined(batch, kTrace, t, present).is_ok());
    std::vector<Output> out;
    EXPECT_TRUE(_router.route(t, present, 1'700'000'000'000'000'000, batch, out).is_ok());
    EXPECT_TRUE(_store->write(batch).is_ok());
    return out;
  }
  std::string decision(const std::string& rule) {
    auto d = read_decisions(*_store, kTrace);
    EXPECT_TRUE(d.is_ok());
    for (const auto& v : *d) {
      if (v.find("rule")->as_string() == rule) return v.find("decision")->as_string() + ": " + v.find("reason")->as_string();
    }
    return "";
  }

  ManualClock _clock;
  TempStore _store{_clock};
  join::Joiner _joiner;
  std::vector<Rule> _rules_vec;
  RuleSet _rules;
  Router _router{Topics::with_prefix("tf."), _rules};
};

TEST_F(RouterTest, ThumbsDownIsRoutedOnce) {
  add_rule("thumbs_down_to_review", "feedback.user_feedback = false");
  EXPECT_TRUE(apply(trace_json("e1", root_span())).empty());
  EXPECT_EQ(decision("thumbs_down_to_review"), "filtered_out: condition not met: feedback.user_feedback = false");
  auto out = apply(feedback_json("e2", "a-01", "false"));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].topic, "tf.review");
  EXPECT_EQ(out[0].key, kTrace);
  EXPECT_NE(out[0].value.find(R"("type":"review_item","labeling_session":"quickstart_review","trace_id":")" + std::string(kTrace)),
            std::string::npos)
      << out[0].value;
  EXPECT_EQ(decision("thumbs_down_to_review"), "routed: all conditions met");
  // More feedback on the same trace: the rule has fired and does not fire again.
  EXPECT_TRUE(apply(feedback_json("e3", "a-02", "false")).empty());
}

TEST_F(RouterTest, WaitsForTheTraceWhenTheRuleReadsIt) {
  add_rule("thumbs_down_retrieval", "feedback.user_feedback = false AND span.type = 'RETRIEVER'");
  EXPECT_TRUE(apply(feedback_json("e1", "a-01", "false")).empty());
  EXPECT_EQ(decision("thumbs_down_retrieval"), "waiting_for_trace: feedback conditions met; the trace has not arrived yet");
  EXPECT_TRUE(apply(trace_json("e2", root_span())).empty());
  EXPECT_EQ(decision("thumbs_down_retrieval"), "filtered_out: condition not met: span.type = 'RETRIEVER'");
  EXPECT_EQ(apply(trace_json("e3", child_span())).size(), 1u);
  EXPECT_EQ(decision("thumbs_down_retrieval"), "routed: all conditions met");
}

TEST_F(RouterTest, OverriddenFeedbackNoLongerCounts) {
  add_rule("thumbs_down_to_review", "feedback.user_feedback = false");
  apply(trace_json("e0", root_span()));
  apply(feedback_json("e1", "a-01", "true"));
  EXPECT_TRUE(apply(feedback_json("e2", "a-02", "true", R"(,"overrides":"a-01")")).empty());
  EXPECT_EQ(decision("thumbs_down_to_review").rfind("filtered_out", 0), 0u);
}

TEST_F(RouterTest, SampleRateZeroSamplesOut) {
  add_rule("never", "feedback.user_feedback = false", 0.0);
  apply(trace_json("e0", root_span()));
  EXPECT_TRUE(apply(feedback_json("e1", "a-01", "false")).empty());
  EXPECT_EQ(decision("never").rfind("sampled_out", 0), 0u);
}

TEST(RuleJson, ErrorsNameTheField) {
  auto bad_filter = rule_from_json(*parse_json(R"({"name":"r","filter":"feedback.x == 1","actions":[{"eval":"d"}]})"));
  ASSERT_FALSE(bad_filter.is_ok());
  EXPECT_EQ(bad_filter.status().message().rfind("rules[r].filter: ", 0), 0u) << bad_filter.status().message();
  auto rate = rule_from_json(*parse_json(R"({"name":"r","sample_rate":2,"actions":[{"eval":"d"}]})"));
  ASSERT_FALSE(rate.is_ok());
  EXPECT_NE(rate.status().message().find("rules[r].sample_rate: expected a number between 0 and 1"), std::string::npos);
  auto action = rule_from_json(*parse_json(R"({"name":"r","actions":[{"email":"x"}]})"));
  ASSERT_FALSE(action.is_ok());
  EXPECT_NE(action.status().message().find("unknown action \"email\""), std::string::npos);
  auto ok = rule_from_json(*parse_json(R"({"name":"r","filter":"feedback.user_feedback = false","sample_rate":0.5,"actions":[{"labeling_session":"s"}]})"));
  ASSERT_TRUE(ok.is_ok()) << ok.status().to_string();
  std::string json;
  JsonWriter w(json);
  write_rule_json(w, *ok);
  EXPECT_EQ(json, R"({"name":"r","filter":"feedback.user_feedback = false","sample_rate":0.5,"priority":0,"backfill":false,"actions":[{"labeling_session":"s"}]})");
}

}  // namespace
}  // namespace tracefeed::route
