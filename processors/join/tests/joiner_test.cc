#include "processors/join/joiner.h"

#include "core/ids.h"
#include "processors/join/tests/test_support.h"
#include "processors/join/trace_reader.h"
#include "state/write_batch.h"

namespace tracefeed::join {
namespace {

using namespace testing;

class JoinerTest : public ::testing::Test {
 protected:
  ApplyResult apply(const std::string& json) {
    state::WriteBatch batch(*_store);
    ApplyResult r = _joiner.apply(parse(json), 1'700'000'000'000'000'000, batch);
    EXPECT_TRUE(_store->write(batch).is_ok());
    return r;
  }
  Trace read() {
    auto t = TraceReader(*_store).get(kTrace, true);
    EXPECT_TRUE(t.is_ok()) << t.status().to_string();
    EXPECT_TRUE(t.is_ok() && t->has_value());
    return t.is_ok() && t->has_value() ? std::move(**t) : Trace{};
  }
  const Assessment* find(const Trace& t, const std::string& id) {
    for (const auto& a : t.trace_info.assessments) {
      if (a.assessment_id == id) return &a;
    }
    return nullptr;
  }

  ManualClock _clock;
  TempStore _store{_clock};
  Joiner _joiner;
};

TEST_F(JoinerTest, FeedbackBeforeItsTraceWaitsThenJoins) {
  ApplyResult r = apply(feedback_json("e1", "a-01", "false"));
  EXPECT_EQ(r.kind, ApplyResult::Kind::applied);
  EXPECT_EQ(r.pending_delta, 1);
  Trace before = read();
  EXPECT_EQ(before.trace_info.assessments.size(), 1u);
  EXPECT_TRUE(before.spans.empty());

  r = apply(trace_json("e2", root_span()));
  EXPECT_EQ(r.pending_delta, -1);
  Trace t = read();
  ASSERT_EQ(t.trace_info.assessments.size(), 1u);
  EXPECT_EQ(std::get<Feedback>(t.trace_info.assessments[0].value).value, "false");
  EXPECT_EQ(t.spans.size(), 1u);
  // Previews and timing come from the root span, as MLflow derives them.
  EXPECT_EQ(t.trace_info.request_preview, "What is MLflow?");
  EXPECT_EQ(t.trace_info.response_preview, "MLflow is a platform.");
  EXPECT_EQ(t.trace_info.execution_duration_ns, 1'250'000'000);
  EXPECT_EQ(t.trace_info.state, TraceState::ok);
}

TEST_F(JoinerTest, TraceInPartsMerges) {
  apply(trace_json("e1", child_span()));
  Trace partial = read();
  EXPECT_EQ(partial.spans.size(), 1u);
  EXPECT_EQ(partial.trace_info.request_preview, "");
  apply(trace_json("e2", root_span()));
  Trace t = read();
  ASSERT_EQ(t.spans.size(), 2u);
  EXPECT_NE(t.root_span(), nullptr);
  EXPECT_EQ(t.trace_info.request_preview, "What is MLflow?");
  // A re-sent span replaces the stored one rather than duplicating it.
  apply(trace_json("e3", child_span()));
  EXPECT_EQ(read().spans.size(), 2u);
}

TEST_F(JoinerTest, DuplicateEventAppliesOnce) {
  EXPECT_EQ(apply(feedback_json("e1", "", "false")).kind, ApplyResult::Kind::applied);
  EXPECT_EQ(apply(feedback_json("e1", "", "false")).kind, ApplyResult::Kind::duplicate);
  Trace t = read();
  ASSERT_EQ(t.trace_info.assessments.size(), 1u);
  // The id made for an id-less assessment is derived from its event id: replay-stable.
  EXPECT_EQ(t.trace_info.assessments[0].assessment_id, assessment_id_from("e1"));
}

TEST_F(JoinerTest, OverrideInvalidatesTheOriginal) {
  apply(trace_json("t", root_span()));
  apply(feedback_json("e1", "a-01", "false"));
  apply(feedback_json("e2", "a-02", "true", R"(,"overrides":"a-01")"));
  Trace t = read();
  ASSERT_NE(find(t, "a-01"), nullptr);
  ASSERT_NE(find(t, "a-02"), nullptr);
  EXPECT_FALSE(find(t, "a-01")->valid);
  EXPECT_TRUE(find(t, "a-02")->valid);
  EXPECT_EQ(find(t, "a-02")->overrides, "a-01");
}

TEST_F(JoinerTest, OverrideBeforeOriginalStillInvalidatesIt) {
  apply(feedback_json("e2", "a-02", "true", R"(,"overrides":"a-01")"));
  apply(feedback_json("e1", "a-01", "false"));
  Trace t = read();
  ASSERT_NE(find(t, "a-01"), nullptr);
  EXPECT_FALSE(find(t, "a-01")->valid);
  EXPECT_TRUE(find(t, "a-02")->valid);
}

TEST_F(JoinerTest, DeletingAnOverrideRestoresTheOriginal) {
  apply(feedback_json("e1", "a-01", "false"));
  apply(feedback_json("e2", "a-02", "true", R"(,"overrides":"a-01")"));
  auto r = apply(R"({"event_id":"e3","type":"assessment_delete","assessment":{"assessment_id":"a-02","trace_id":")" +
                 std::string(kTrace) + R"("}})");
  EXPECT_EQ(r.kind, ApplyResult::Kind::applied);
  Trace t = read();
  EXPECT_EQ(find(t, "a-02"), nullptr);
  ASSERT_NE(find(t, "a-01"), nullptr);
  EXPECT_TRUE(find(t, "a-01")->valid);
}

TEST_F(JoinerTest, UpdateChangesOnlyTheSentFields) {
  apply(feedback_json("e1", "a-01", "false"));
  auto r = apply(R"({"event_id":"e2","type":"assessment_update","time":"2025-06-02T00:00:00Z","assessment":{"assessment_id":"a-01","trace_id":")" +
                 std::string(kTrace) + R"(","rationale":"clearer now"}})");
  EXPECT_EQ(r.kind, ApplyResult::Kind::applied);
  Trace t = read();
  const Assessment* a = find(t, "a-01");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->rationale, "clearer now");
  EXPECT_EQ(std::get<Feedback>(a->value).value, "false");
  EXPECT_GT(a->last_update_time, a->create_time);
}

TEST_F(JoinerTest, UpdateOfUnknownOrWrongKindIsRejected) {
  auto r = apply(R"({"event_id":"e2","type":"assessment_update","assessment":{"assessment_id":"a-09","trace_id":")" +
                 std::string(kTrace) + R"(","rationale":"x"}})");
  EXPECT_EQ(r.kind, ApplyResult::Kind::rejected);
  EXPECT_EQ(r.error.code(), ErrorCode::not_found);
  apply(feedback_json("e1", "a-01", "false"));
  r = apply(R"({"event_id":"e3","type":"assessment_update","assessment":{"assessment_id":"a-01","trace_id":")" +
            std::string(kTrace) + R"(","expectation":{"value":"x"}}})");
  EXPECT_EQ(r.kind, ApplyResult::Kind::rejected);
  EXPECT_NE(r.error.message().find("cannot change a feedback into an expectation"), std::string::npos);
}

TEST_F(JoinerTest, DeleteOfPendingFeedbackClearsThePendingMark) {
  EXPECT_EQ(apply(feedback_json("e1", "a-01", "false")).pending_delta, 1);
  auto r = apply(R"({"event_id":"e2","type":"assessment_delete","assessment":{"assessment_id":"a-01","trace_id":")" +
                 std::string(kTrace) + R"("}})");
  EXPECT_EQ(r.pending_delta, -1);
  EXPECT_EQ(apply(trace_json("e3", root_span())).pending_delta, 0);
}

TEST_F(JoinerTest, SameEventsSameState) {
  // Determinism: two stores fed the same events hold byte-identical traces and assessments.
  TempStore other(_clock, "-other");
  Joiner other_joiner;
  const std::vector<std::string> events = {feedback_json("e1", "", "false"), trace_json("e2", child_span()),
                                           feedback_json("e3", "", "true", R"(,"overrides":")" + assessment_id_from("e1") + "\""),
                                           trace_json("e4", root_span())};
  for (const auto& json : events) {
    apply(json);
    state::WriteBatch b(*other);
    (void)other_joiner.apply(parse(json), 1'700'000'000'000'000'000, b);
    ASSERT_TRUE(other->write(b).is_ok());
  }
  auto a = TraceReader(*_store).get(kTrace, true);
  auto b = TraceReader(*other).get(kTrace, true);
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  EXPECT_EQ(to_json(**a), to_json(**b));
}

}  // namespace
}  // namespace tracefeed::join
