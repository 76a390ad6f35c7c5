#include "processors/join/orphans.h"

#include <cstdio>

#include "core/time_format.h"
#include "processors/join/joiner.h"
#include "processors/join/tests/test_support.h"
#include "processors/join/trace_reader.h"
#include "processors/route/router.h"
#include "state/keys.h"
#include "state/write_batch.h"

namespace tracefeed::join {
namespace {

using namespace testing;
using namespace std::chrono_literals;

// feedback_json stamps an event id of 2 characters with this time; it becomes the create_time.
const int64_t kCreated = *parse_rfc3339_ns("2025-06-01T12:00:02Z");
constexpr int64_t kHourNs = 3'600'000'000'000;

std::string trace_id(int i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "tr-%032x", i);
  return buf;
}

class OrphanSweepTest : public ::testing::Test {
 protected:
  static OrphanSweepOptions options(size_t max_per_step = 1000) {
    OrphanSweepOptions o;
    o.max_per_step = max_per_step;
    o.pass_interval = 0ms;  // every step may start a pass: tests step explicitly
    return o;
  }

  int64_t now_ns() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(_clock.now().time_since_epoch())
        .count();
  }
  // Sets the manual clock to `created + d` (it starts at the feedback's create time).
  void at(std::chrono::nanoseconds d) {
    _clock.advance(std::chrono::nanoseconds(kCreated + d.count() - now_ns()));
  }

  ApplyResult apply(const std::string& json) {
    state::WriteBatch batch(*_store);
    ApplyResult r = _joiner.apply(parse(json), now_ns(), batch);
    EXPECT_NE(r.kind, ApplyResult::Kind::rejected) << r.error.to_string();
    EXPECT_TRUE(_store->write(batch).is_ok());
    return r;
  }

  // One step in a batch of its own, written, as the join's owner thread does.
  OrphanStepResult step(OrphanSweep& sweep, bool* wrote = nullptr) {
    state::WriteBatch batch(*_store);
    auto r = sweep.step(batch, now_ns());
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    if (wrote) *wrote = !batch.empty();
    EXPECT_TRUE(_store->write(batch).is_ok());
    return r.is_ok() ? *r : OrphanStepResult{};
  }

  std::optional<std::string> pending(const std::string& trace, const std::string& id) {
    auto v = _store->get(state::Family::pending, state::child_key(trace, id));
    EXPECT_TRUE(v.is_ok());
    return v.is_ok() ? *v : std::nullopt;
  }
  size_t pending_count() {
    size_t n = 0;
    EXPECT_TRUE(_store
                    ->scan_prefix(state::Family::pending, "",
                                  [&](std::string_view, std::string_view) {
                                    ++n;
                                    return true;
                                  })
                    .is_ok());
    return n;
  }
  std::vector<JsonTree> decisions(const std::string& trace = kTrace) {
    auto d = route::read_decisions(*_store, trace);
    EXPECT_TRUE(d.is_ok()) << d.status().to_string();
    return d.is_ok() ? std::move(d).value() : std::vector<JsonTree>{};
  }
  // The stored orphan record of `trace` (empty when none).
  std::string orphan_record(const std::string& trace = kTrace) {
    auto v = _store->get(state::Family::decisions, state::child_key(trace, orphan_rule_name));
    EXPECT_TRUE(v.is_ok());
    return v.is_ok() && v->has_value() ? **v : std::string();
  }

  ManualClock _clock{kCreated / 1'000'000};
  TempStore _store{_clock};
  Joiner _joiner;
};

TEST_F(OrphanSweepTest, MarkedOnlyOnceOlderThanTheTimeout) {
  EXPECT_EQ(apply(feedback_json("e1", "a-01", "false")).pending_delta, 1);
  OrphanSweep sweep(*_store, options());

  at(std::chrono::nanoseconds(kHourNs));  // exactly the timeout: not older yet
  bool wrote = true;
  OrphanStepResult r = step(sweep, &wrote);
  EXPECT_EQ(r.scanned, 1u);
  EXPECT_EQ(r.orphaned_assessments, 0u);
  EXPECT_TRUE(r.pass_complete);
  EXPECT_FALSE(wrote);
  EXPECT_EQ(pending(kTrace, "a-01"), "");
  EXPECT_TRUE(decisions().empty());

  at(std::chrono::nanoseconds(kHourNs + 1));
  r = step(sweep, &wrote);
  EXPECT_EQ(r.scanned, 1u);
  EXPECT_EQ(r.orphaned_assessments, 1u);
  EXPECT_EQ(r.orphaned_traces, 1u);
  EXPECT_EQ(r.unreadable, 0u);
  EXPECT_TRUE(wrote);
  EXPECT_EQ(pending(kTrace, "a-01"), std::string(orphan_marker));

  // The router's record shape, under the pseudo-rule, stamped with the step's time.
  std::string expected;
  route::write_decision_json(
      expected, kTrace, "join/orphaned", route::Decision::waiting_for_trace,
      "orphaned: no trace 1h after feedback user_feedback (assessment a-01); it still joins if "
      "the trace arrives",
      now_ns());
  EXPECT_EQ(orphan_record(), expected);
  auto d = decisions();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].find("trace_id")->as_string(), kTrace);
  EXPECT_EQ(d[0].find("rule")->as_string(), "join/orphaned");
  EXPECT_EQ(d[0].find("decision")->as_string(), "waiting_for_trace");
  EXPECT_EQ(d[0].find("time")->as_string(), format_rfc3339(now_ns()));
  EXPECT_FALSE(route::decision_fired(orphan_record()));
}

TEST_F(OrphanSweepTest, OneDecisionRecordPerTrace) {
  const std::string a = trace_id(1), b = trace_id(2);
  for (const char* id : {"a-1", "a-2", "a-3"})
    apply(feedback_json(std::string("e") + id[2], id, "false", "", a));
  apply(feedback_json("f1", "a-b1", "true", "", b));
  OrphanSweep sweep(*_store, options());
  at(2h);
  OrphanStepResult r = step(sweep);
  EXPECT_EQ(r.scanned, 4u);
  EXPECT_EQ(r.orphaned_assessments, 4u);
  EXPECT_EQ(r.orphaned_traces, 2u);
  ASSERT_EQ(decisions(a).size(), 1u);
  ASSERT_EQ(decisions(b).size(), 1u);
  EXPECT_EQ(decisions(a)[0].find("reason")->as_string(),
            "orphaned: no trace 1h after feedback user_feedback (assessment a-1) and 2 more "
            "assessments; it still joins "
            "if the trace arrives");
  const std::string record = orphan_record(a);

  // Feedback on the same trace that is orphaned later: marked, and the trace keeps its one record.
  apply(feedback_json("e4", "a-4", "false", "", a));
  at(4h);
  r = step(sweep);
  EXPECT_EQ(r.scanned, 5u);
  EXPECT_EQ(r.orphaned_assessments, 1u);
  EXPECT_EQ(r.orphaned_traces, 0u);
  EXPECT_EQ(pending(a, "a-4"), std::string(orphan_marker));
  EXPECT_EQ(orphan_record(a), record);
  EXPECT_EQ(decisions(a).size(), 1u);
}

TEST_F(OrphanSweepTest, SteppingAgainOverTheSameStateMarksNothing) {
  apply(feedback_json("e1", "a-01", "false"));
  apply(feedback_json("e2", "a-02", "false", "", trace_id(7)));
  at(3h);
  OrphanSweep sweep(*_store, options());
  EXPECT_EQ(step(sweep).orphaned_assessments, 2u);
  const std::string record = orphan_record();

  // The next pass of the same sweep, and a restarted one (cursor from the start).
  for (int restart = 0; restart < 2; ++restart) {
    OrphanSweep restarted(*_store, options());
    OrphanSweep& s = restart ? restarted : sweep;
    at(5h);
    bool wrote = true;
    OrphanStepResult r = step(s, &wrote);
    EXPECT_EQ(r.scanned, 2u);
    EXPECT_EQ(r.orphaned_assessments, 0u);
    EXPECT_EQ(r.orphaned_traces, 0u);
    EXPECT_FALSE(wrote);
    EXPECT_EQ(orphan_record(), record);  // still the first record (its time too)
  }

  // Two steps into one batch not yet written (the second reads the first through the batch).
  apply(feedback_json("e3", "a-03", "false", "", trace_id(8)));
  at(6h);
  OrphanSweep fresh(*_store, options());
  state::WriteBatch batch(*_store);
  auto first = fresh.step(batch, now_ns());
  ASSERT_TRUE(first.is_ok());
  EXPECT_EQ(first->orphaned_assessments, 1u);
  EXPECT_EQ(first->orphaned_traces, 1u);
  auto second = fresh.step(batch, now_ns());
  ASSERT_TRUE(second.is_ok());
  EXPECT_EQ(second->scanned, 3u);
  EXPECT_EQ(second->orphaned_assessments, 0u);
  EXPECT_EQ(second->orphaned_traces, 0u);
  ASSERT_TRUE(_store->write(batch).is_ok());
  EXPECT_EQ(decisions(trace_id(8)).size(), 1u);
}

TEST_F(OrphanSweepTest, MaxPerStepBoundsAStepAndTheCursorGoesOn) {
  // Six pending keys over five traces; trace 3's two keys straddle the first page boundary.
  apply(feedback_json("e1", "a-c1", "false", "", trace_id(1)));
  apply(feedback_json("e2", "a-c2", "false", "", trace_id(2)));
  apply(feedback_json("e3", "a-c3", "false", "", trace_id(3)));
  apply(feedback_json("e4", "a-c4", "false", "", trace_id(3)));
  apply(feedback_json("e5", "a-c5", "false", "", trace_id(4)));
  apply(feedback_json("e6", "a-c6", "false", "", trace_id(5)));
  at(2h);
  OrphanSweep sweep(*_store, options(3));

  OrphanStepResult r = step(sweep);
  EXPECT_EQ(r.scanned, 3u);
  EXPECT_EQ(r.orphaned_assessments, 3u);
  EXPECT_EQ(r.orphaned_traces, 3u);
  EXPECT_FALSE(r.pass_complete);
  EXPECT_EQ(pending(trace_id(3), "a-c3"), std::string(orphan_marker));
  EXPECT_EQ(pending(trace_id(3), "a-c4"), "");
  EXPECT_EQ(pending(trace_id(4), "a-c5"), "");

  r = step(sweep);  // continues where the first stopped
  EXPECT_EQ(r.scanned, 3u);
  EXPECT_EQ(r.orphaned_assessments, 3u);
  EXPECT_EQ(r.orphaned_traces, 2u);  // trace 3 has its record from the first step
  EXPECT_TRUE(r.pass_complete);
  for (int i = 1; i <= 5; ++i) EXPECT_EQ(decisions(trace_id(i)).size(), 1u) << i;
  EXPECT_NE(orphan_record(trace_id(3)).find("(assessment a-c3); it still joins"),
            std::string::npos);

  r = step(sweep);  // a new pass from the start
  EXPECT_EQ(r.scanned, 3u);
  EXPECT_EQ(r.orphaned_assessments, 0u);
  EXPECT_FALSE(r.pass_complete);
}

TEST_F(OrphanSweepTest, NextPassWaitsForThePassInterval) {
  apply(feedback_json("e1", "a-01", "false"));
  OrphanSweepOptions o = options();
  o.pass_interval = 60s;
  OrphanSweep sweep(*_store, o);
  at(30min);
  EXPECT_TRUE(step(sweep).pass_complete);
  at(30min + 59s);
  EXPECT_EQ(step(sweep).scanned, 0u);  // resting
  at(30min + 60s);
  EXPECT_EQ(step(sweep).scanned, 1u);
  at(2h);  // a pass ended at 31 min: the next may start
  OrphanStepResult r = step(sweep);
  EXPECT_EQ(r.orphaned_assessments, 1u);
}

TEST_F(OrphanSweepTest, TraceArrivingLaterJoinsAndTheRecordStaysAsHistory) {
  route::RuleSet rules;
  auto rule = route::compile_rule("thumbs_down", "feedback.user_feedback = false", 1.0, 0, false,
                                  {{route::RuleAction::Kind::labeling_session, "review"}});
  ASSERT_TRUE(rule.is_ok()) << rule.status().to_string();
  rules.replace({std::move(rule).value()});
  route::Router router(Topics::with_prefix("tf."), rules);

  apply(feedback_json("e1", "a-01", "false"));
  at(2h);
  OrphanSweep sweep(*_store, options());
  EXPECT_EQ(step(sweep).orphaned_assessments, 1u);
  const std::string record = orphan_record();
  ASSERT_FALSE(record.empty());

  // The trace comes: the Joiner erases the marked pending entry like any other, and routing
  // (which reads only the records of real rules) fires as usual.
  state::WriteBatch batch(*_store);
  ApplyResult applied = _joiner.apply(parse(trace_json("e2", root_span())), now_ns(), batch);
  EXPECT_EQ(applied.kind, ApplyResult::Kind::applied);
  EXPECT_EQ(applied.pending_delta, -1);
  Trace t;
  bool present = false;
  ASSERT_TRUE(_joiner.load_joined(batch, kTrace, t, present).is_ok());
  EXPECT_TRUE(present);
  std::vector<route::Output> out;
  ASSERT_TRUE(router.route(t, present, now_ns(), batch, out).is_ok());
  ASSERT_TRUE(_store->write(batch).is_ok());
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(pending_count(), 0u);

  auto joined = TraceReader(*_store).get(kTrace, true);
  ASSERT_TRUE(joined.is_ok() && joined->has_value());
  EXPECT_EQ((*joined)->trace_info.assessments.size(), 1u);
  EXPECT_EQ((*joined)->spans.size(), 1u);

  // What GET /api/v1/traces/{id}/decisions returns: both records, the orphan one unchanged.
  auto d = decisions();
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].find("rule")->as_string(),
            "join/orphaned");  // key order: "join/…" < "thumbs_down"
  EXPECT_EQ(d[1].find("rule")->as_string(), "thumbs_down");
  EXPECT_EQ(d[1].find("decision")->as_string(), "routed");
  EXPECT_EQ(orphan_record(), record);

  at(10h);
  bool wrote = true;
  EXPECT_EQ(step(sweep, &wrote).scanned, 0u);
  EXPECT_FALSE(wrote);
}

TEST_F(OrphanSweepTest, FeedbackWhoseTraceArrivedIsNeverMarked) {
  const std::string joined = trace_id(1), orphan = trace_id(2);
  apply(trace_json("e1", root_span(), joined));
  EXPECT_EQ(apply(feedback_json("e2", "a-1", "false", "", joined)).pending_delta, 0);
  apply(feedback_json("e3", "a-2", "false", "", orphan));
  at(1000h);
  OrphanSweep sweep(*_store, options());
  OrphanStepResult r = step(sweep);
  EXPECT_EQ(r.scanned, 1u);
  EXPECT_EQ(r.orphaned_assessments, 1u);
  EXPECT_TRUE(decisions(joined).empty());
  EXPECT_EQ(decisions(orphan).size(), 1u);
}

TEST_F(OrphanSweepTest, ARecordAlreadyUnderThePseudoRuleIsNotOverwritten) {
  // E.g. a rule created through the API with that name (compile_rule allows '/').
  std::string theirs;
  route::write_decision_json(theirs, kTrace, orphan_rule_name, route::Decision::routed,
                             "all conditions met", kCreated);
  {
    state::WriteBatch batch(*_store);
    batch.put(state::Family::decisions, state::child_key(kTrace, orphan_rule_name), theirs);
    ASSERT_TRUE(_store->write(batch).is_ok());
  }
  apply(feedback_json("e1", "a-01", "false"));
  at(2h);
  OrphanSweep sweep(*_store, options());
  OrphanStepResult r = step(sweep);
  EXPECT_EQ(r.orphaned_assessments, 1u);
  EXPECT_EQ(r.orphaned_traces, 0u);
  EXPECT_EQ(orphan_record(), theirs);
}

TEST_F(OrphanSweepTest, ReasonNamesTheConfiguredTimeout) {
  apply(feedback_json("e1", "a-01", "false"));
  OrphanSweepOptions o = options();
  o.timeout = 90min;
  OrphanSweep sweep(*_store, o);
  at(89min);
  EXPECT_EQ(step(sweep).orphaned_assessments, 0u);
  at(91min);
  EXPECT_EQ(step(sweep).orphaned_assessments, 1u);
  EXPECT_NE(orphan_record().find("no trace 1h30m after feedback user_feedback"), std::string::npos)
      << orphan_record();
}

TEST_F(OrphanSweepTest, InvalidOptionsAreRejectedByName) {
  OrphanSweepOptions o;
  o.timeout = 0ms;
  OrphanSweep zero_timeout(*_store, o);
  state::WriteBatch batch(*_store);
  auto r = zero_timeout.step(batch, now_ns());
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("timeout"), std::string::npos) << r.status().to_string();
  o = {};
  o.max_per_step = 0;
  EXPECT_NE(o.validate().message().find("max_per_step"), std::string::npos);
  EXPECT_TRUE(OrphanSweepOptions{}.validate().is_ok());
}

}  // namespace
}  // namespace tracefeed::join
