// Backfill and the one-off time index build, driven as the join's owner thread drives them:
// one backfill_step per batch, each step's batch written before the next.
#include <set>

#include "processors/route/tests/route_fixture.h"
#include "processors/route/time_index.h"
#include "state/store.h"

namespace tracefeed::route {
namespace {

using namespace route::testing;

class BackfillTest : public RouteFixture {
 protected:
  // Five traces stored before any rule existed; 1 and 3 got a thumbs-down.
  void store_history() {
    for (int i = 1; i <= 5; ++i) {
      const std::string t = trace_id(i);
      apply_unrouted(trace_json("t" + std::to_string(i), root_span(), t));
      apply_unrouted(feedback_json("f" + std::to_string(i), "a-01", i % 2 == 1 && i != 5 ? "false" : "true", "", t));
    }
  }
  static std::set<std::string> keys(const std::vector<Output>& out) {
    std::set<std::string> k;
    for (const auto& o : out) k.insert(o.key);
    return k;
  }
  size_t index_entries() {
    size_t n = 0;
    EXPECT_TRUE(_store->scan_prefix(state::Family::meta, time_index::prefix, [&](std::string_view, std::string_view) {
      ++n;
      return true;
    }).is_ok());
    return n;
  }
  Rule thumbs_down(bool backfill = true, const std::string& filter = "feedback.user_feedback = false") {
    return rule("bf", filter, {{RuleAction::Kind::labeling_session, "s"}}, backfill);
  }
};

TEST_F(BackfillTest, BuildsTheTimeIndexOnceThenEvaluatesTheRuleOverStoredTraces) {
  store_history();
  set_rules({thumbs_down()});
  _rules.request_backfill("bf");
  Router router(_topics, _rules, nullptr, BackfillOptions{2});
  int steps = 0;
  auto out = drain_backfill(router, &steps);
  // 5 traces, 2 per step: 3 steps of index build, 3 of backfill.
  EXPECT_EQ(steps, 6);
  EXPECT_EQ(index_entries(), 5u);
  auto marker = _store->get(state::Family::meta, time_index::complete_key);
  ASSERT_TRUE(marker.is_ok());
  EXPECT_TRUE(marker->has_value());
  EXPECT_EQ(keys(out), (std::set<std::string>{trace_id(1), trace_id(3)}));
  EXPECT_EQ(out[0].topic, "tf.review");
  EXPECT_EQ(decision("bf", trace_id(1)), "routed: all conditions met");
  EXPECT_EQ(decision("bf", trace_id(2)), "filtered_out: condition not met: feedback.user_feedback = false");
  auto progress = read_backfill_progress(*_store, "bf");
  ASSERT_TRUE(progress.is_ok() && progress->has_value());
  EXPECT_TRUE((*progress)->done);
  EXPECT_EQ((*progress)->evaluated, 5u);
  EXPECT_EQ((*progress)->routed, 2u);
  EXPECT_EQ((*progress)->version, rule_version(thumbs_down()));
}

TEST_F(BackfillTest, ARestartDoesNotRedoAFinishedBackfill) {
  store_history();
  set_rules({thumbs_down()});
  _rules.request_backfill("bf");
  {
    Router router(_topics, _rules);
    EXPECT_EQ(drain_backfill(router).size(), 2u);
  }
  // A new process: the registry asks again for every backfill rule at load.
  RuleSet again;
  again.replace({thumbs_down()});
  again.request_backfill("bf");
  Router router(_topics, again);
  int steps = 0;
  EXPECT_TRUE(drain_backfill(router, &steps).empty());
  EXPECT_EQ(steps, 0);
}

TEST_F(BackfillTest, ANewRuleVersionRunsAgainButARuleFiresOncePerTrace) {
  store_history();
  set_rules({thumbs_down()});
  _rules.request_backfill("bf");
  Router router(_topics, _rules);
  EXPECT_EQ(keys(drain_backfill(router)), (std::set<std::string>{trace_id(1), trace_id(3)}));
  // Changed filter: every stored trace is evaluated again; 1 and 3 fired already and do not fire
  // again, the thumbs-up traces now match.
  set_rules({thumbs_down(true, "feedback.user_feedback IS NOT NULL")});
  _rules.request_backfill("bf");
  EXPECT_EQ(keys(drain_backfill(router)), (std::set<std::string>{trace_id(2), trace_id(4), trace_id(5)}));
  auto progress = read_backfill_progress(*_store, "bf");
  ASSERT_TRUE(progress.is_ok() && progress->has_value());
  EXPECT_EQ((*progress)->routed, 3u);
}

TEST_F(BackfillTest, TracesRoutedLiveAreNotFiredAgainByTheBackfill) {
  store_history();
  set_rules({thumbs_down()});
  Router router(_topics, _rules, nullptr, BackfillOptions{1});
  // The rule is live before its backfill reaches trace 3: new feedback routes it.
  auto live = apply(router, feedback_json("f3b", "a-02", "false", "", trace_id(3)));
  ASSERT_EQ(live.size(), 1u);
  _rules.request_backfill("bf");
  EXPECT_EQ(keys(drain_backfill(router)), (std::set<std::string>{trace_id(1)}));
}

TEST_F(BackfillTest, ARuleDeletedMidwayStopsItsBackfill) {
  store_history();
  set_rules({thumbs_down()});
  _rules.request_backfill("bf");
  Router router(_topics, _rules, nullptr, BackfillOptions{1});
  // Finish the index build first.
  for (int i = 0; i < 6; ++i) {
    state::WriteBatch batch(*_store);
    std::vector<Output> out;
    ASSERT_TRUE(router.backfill_step(*_store, batch, loader(), kTimeNs, out).is_ok());
    ASSERT_TRUE(_store->write(batch).is_ok());
  }
  set_rules({});
  int steps = 0;
  drain_backfill(router, &steps);
  EXPECT_EQ(steps, 0);
  auto progress = read_backfill_progress(*_store, "bf");
  ASSERT_TRUE(progress.is_ok());
  ASSERT_TRUE(progress->has_value());
  EXPECT_FALSE((*progress)->done);
}

TEST_F(BackfillTest, TheLivePathIndexesEveryTraceItRoutes) {
  Router router(_topics, _rules);
  apply(router, trace_json("e1", root_span()));
  apply(router, feedback_json("e2", "a-01", "false"));
  // One entry, at the root span's start (1748779200250 ms); re-touching the trace adds nothing.
  EXPECT_EQ(index_entries(), 1u);
  auto found = _store->get(state::Family::meta, time_index::key(1'748'779'200'250, kTrace));
  ASSERT_TRUE(found.is_ok());
  EXPECT_TRUE(found->has_value());
  // Feedback alone (no trace yet) has no entry: search lists stored traces only.
  apply(router, feedback_json("e3", "a-01", "false", "", trace_id(9)));
  EXPECT_EQ(index_entries(), 1u);
}

}  // namespace
}  // namespace tracefeed::route
