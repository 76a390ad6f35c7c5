#include "sinks/metrics/feedback_metrics.h"

#include <gtest/gtest.h>

#include "metrics/tests/exposition_text.h"

namespace tracefeed::quality {
namespace {

using metrics::testing::count_samples;
using metrics::testing::sample_value;
using namespace std::chrono_literals;

constexpr int64_t kSecond = 1'000'000'000;

class FeedbackMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override { make({}); }
  void make(FeedbackMetricsOptions o) {
    _fm.reset();
    auto fm = FeedbackMetrics::create(_metrics, _clock, std::move(o));
    ASSERT_TRUE(fm.is_ok()) << fm.status().to_string();
    _fm = std::move(fm).value();
  }
  UnixNanos now() const { return std::chrono::duration_cast<std::chrono::nanoseconds>(_clock.now().time_since_epoch()).count(); }
  Assessment feedback(std::string id, std::string name, std::string value, UnixNanos created = 0) {
    Assessment a;
    a.assessment_id = std::move(id);
    a.assessment_name = std::move(name);
    a.trace_id = "tr-00000000000000000000000000000001";
    a.create_time = created ? created : now();
    a.value = Feedback{std::move(value), std::nullopt};
    return a;
  }
  void add(const Assessment& a) { _fm->on_assessment_applied(nullptr, &a); }
  double counted(const std::string& name, const std::string& value) {
    return sample_value(_metrics.text(), "tracefeed_feedback_total{name=\"" + name + "\",value=\"" + value + "\"}");
  }
  double exposed_ratio(const std::string& name) {
    return sample_value(_metrics.text(), "tracefeed_negative_feedback_ratio{name=\"" + name + "\"}");
  }

  ManualClock _clock;
  metrics::Metrics _metrics;
  std::unique_ptr<FeedbackMetrics> _fm;
};

TEST_F(FeedbackMetricsTest, CountsValidFeedbackByNameAndValue) {
  add(feedback("a-1", "user_feedback", "false"));
  add(feedback("a-2", "user_feedback", "false"));
  add(feedback("a-3", "user_feedback", "true"));
  add(feedback("a-4", "correctness", R"("yes")"));
  EXPECT_EQ(counted("user_feedback", "false"), 2.0);
  EXPECT_EQ(counted("user_feedback", "true"), 1.0);
  EXPECT_EQ(counted("correctness", "yes"), 1.0);
}

TEST_F(FeedbackMetricsTest, IgnoresExpectationsInvalidAndErroredFeedback) {
  Assessment expectation = feedback("a-1", "expected_response", "");
  expectation.value = Expectation{R"("Paris")"};
  add(expectation);
  Assessment invalid = feedback("a-2", "user_feedback", "false");
  invalid.valid = false;
  add(invalid);
  Assessment errored = feedback("a-3", "judge", "");
  errored.value = Feedback{"", AssessmentError{"TIMEOUT", "judge timed out"}};
  add(errored);
  _fm->on_assessment_applied(nullptr, nullptr);
  EXPECT_EQ(count_samples(_metrics.text(), "tracefeed_feedback_total"), 0u);
  EXPECT_EQ(count_samples(_metrics.text(), "tracefeed_negative_feedback_ratio"), 0u);
}

TEST_F(FeedbackMetricsTest, RatioIsTheNegativeShareOfTheWindow) {
  EXPECT_EQ(_fm->negative_ratio("user_feedback"), -1.0);
  for (int i = 0; i < 3; ++i) add(feedback("n" + std::to_string(i), "user_feedback", "false"));
  add(feedback("p", "user_feedback", "true"));
  add(feedback("s", "score", "0.9"));
  add(feedback("s2", "score", "0.2"));
  EXPECT_DOUBLE_EQ(_fm->negative_ratio("user_feedback"), 0.75);
  EXPECT_DOUBLE_EQ(exposed_ratio("user_feedback"), 0.75);
  EXPECT_DOUBLE_EQ(exposed_ratio("score"), 0.5);
}

TEST_F(FeedbackMetricsTest, AnOverrideReplacesTheOldValueInTheRatio) {
  Assessment down = feedback("a-1", "user_feedback", "false");
  add(down);
  EXPECT_DOUBLE_EQ(_fm->negative_ratio("user_feedback"), 1.0);
  // The join applies an override as: the new assessment, then the old one marked invalid.
  _clock.advance(5s);
  Assessment up = feedback("a-2", "user_feedback", "true");
  up.overrides = "a-1";
  add(up);
  Assessment down_invalid = down;
  down_invalid.valid = false;
  _fm->on_assessment_applied(&down, &down_invalid);
  EXPECT_DOUBLE_EQ(_fm->negative_ratio("user_feedback"), 0.0);
  // Counters count what was applied: one of each.
  EXPECT_EQ(counted("user_feedback", "false"), 1.0);
  EXPECT_EQ(counted("user_feedback", "true"), 1.0);

  // Deleting the override restores the old feedback, as in MLflow.
  _fm->on_assessment_applied(&up, nullptr);
  _fm->on_assessment_applied(&down_invalid, &down);
  EXPECT_DOUBLE_EQ(_fm->negative_ratio("user_feedback"), 1.0);
  EXPECT_EQ(counted("user_feedback", "false"), 2.0);
}

TEST_F(FeedbackMetricsTest, AnUpdateThatChangesTheValueMovesIt) {
  Assessment stored = feedback("a-1", "user_feedback", "false");
  add(stored);
  add(feedback("a-2", "user_feedback", "true"));
  Assessment updated = stored;
  updated.value = Feedback{"true", std::nullopt};
  updated.last_update_time = now() + kSecond;
  _fm->on_assessment_applied(&stored, &updated);
  EXPECT_DOUBLE_EQ(_fm->negative_ratio("user_feedback"), 0.0);
  EXPECT_EQ(counted("user_feedback", "true"), 2.0);

  // A rationale edit changes nothing the metrics show.
  Assessment edited = updated;
  edited.rationale = "changed my mind";
  _fm->on_assessment_applied(&updated, &edited);
  EXPECT_EQ(counted("user_feedback", "true"), 2.0);
  EXPECT_DOUBLE_EQ(_fm->negative_ratio("user_feedback"), 0.0);
}

TEST_F(FeedbackMetricsTest, ADeleteTakesTheFeedbackOutOfTheRatio) {
  Assessment down = feedback("a-1", "user_feedback", "false");
  add(down);
  add(feedback("a-2", "user_feedback", "true"));
  _fm->on_assessment_applied(&down, nullptr);
  EXPECT_DOUBLE_EQ(_fm->negative_ratio("user_feedback"), 0.0);
  EXPECT_EQ(counted("user_feedback", "false"), 1.0);  // a counter never goes down
}

TEST_F(FeedbackMetricsTest, TheWindowSlidesByCreateTime) {
  FeedbackMetricsOptions o;
  o.ratio_window = 600s;  // 60 buckets of 10 s
  make(o);
  add(feedback("a-1", "user_feedback", "false"));
  _clock.advance(300s);
  add(feedback("a-2", "user_feedback", "true"));
  EXPECT_DOUBLE_EQ(_fm->negative_ratio("user_feedback"), 0.5);
  _clock.advance(310s);  // a-1 is now 610 s old: out of the window
  EXPECT_DOUBLE_EQ(_fm->negative_ratio("user_feedback"), 0.0);
  _clock.advance(300s);  // both out
  EXPECT_EQ(_fm->negative_ratio("user_feedback"), -1.0);
  EXPECT_EQ(count_samples(_metrics.text(), "tracefeed_negative_feedback_ratio"), 0u);

  // Late feedback (created before the window) counts, but not in the ratio; feedback from a
  // client whose clock is ahead counts as now.
  add(feedback("late", "user_feedback", "false", now() - 3600 * kSecond));
  EXPECT_EQ(_fm->negative_ratio("user_feedback"), -1.0);
  EXPECT_EQ(counted("user_feedback", "false"), 2.0);
  add(feedback("ahead", "user_feedback", "false", now() + 3600 * kSecond));
  EXPECT_DOUBLE_EQ(_fm->negative_ratio("user_feedback"), 1.0);
}

TEST_F(FeedbackMetricsTest, InvalidatingFeedbackOutsideTheWindowDoesNotTouchNewBuckets) {
  FeedbackMetricsOptions o;
  o.ratio_window = 60s;
  make(o);
  Assessment old = feedback("a-1", "user_feedback", "false");
  add(old);
  _clock.advance(60s);  // exactly one window later the bucket index is reused modulo 60
  add(feedback("a-2", "user_feedback", "false"));
  add(feedback("a-3", "user_feedback", "true"));
  _fm->on_assessment_applied(&old, nullptr);
  EXPECT_DOUBLE_EQ(_fm->negative_ratio("user_feedback"), 0.5);

  // Feedback counted before a restart (this object never saw it) is clamped at zero.
  Assessment unseen = feedback("a-4", "other_name", "false");
  _fm->on_assessment_applied(&unseen, nullptr);
  add(feedback("a-5", "other_name", "true"));
  EXPECT_DOUBLE_EQ(_fm->negative_ratio("other_name"), 0.0);
}

TEST_F(FeedbackMetricsTest, CardinalityIsBoundedByNamesAndValuesPerName) {
  FeedbackMetricsOptions o;
  o.max_names = 2;
  o.max_values_per_name = 3;
  make(o);
  add(feedback("1", "a", "false"));
  add(feedback("2", "b", "true"));
  add(feedback("3", "c", "false"));      // third name → "other"
  add(feedback("4", "d", "true"));       // fourth name → "other"
  add(feedback("5", "other", "false"));  // a feedback really named "other" shares its series
  EXPECT_EQ(counted("other", "false"), 2.0);
  EXPECT_EQ(counted("other", "true"), 1.0);
  EXPECT_DOUBLE_EQ(exposed_ratio("other"), 2.0 / 3.0);
  EXPECT_EQ(count_samples(_metrics.text(), "tracefeed_negative_feedback_ratio"), 3u);  // a, b, other

  for (int i = 0; i < 6; ++i) add(feedback("v" + std::to_string(i), "a", "\"choice " + std::to_string(i) + "\""));
  add(feedback("list", "a", "[1,2]"));
  // "false" + choices 0, 1 take the three value slots; choices 2–5 and the list are "other".
  EXPECT_EQ(counted("a", "choice 1"), 1.0);
  EXPECT_TRUE(std::isnan(counted("a", "choice 2")));
  EXPECT_EQ(counted("a", "other"), 5.0);

  // Bound: (max_names + 1) × (max_values_per_name + 1) series at most, whatever arrives.
  for (int i = 0; i < 200; ++i) add(feedback("x" + std::to_string(i), "name" + std::to_string(i), std::to_string(i)));
  EXPECT_LE(count_samples(_metrics.text(), "tracefeed_feedback_total"), 3u * 4u);
}

TEST_F(FeedbackMetricsTest, LongNamesAreCutAndShareOneSeries) {
  FeedbackMetricsOptions o;
  o.value.max_label_bytes = 8;
  make(o);
  add(feedback("1", "response_quality", "false"));
  add(feedback("2", "response_quantity", "true"));  // same first 8 bytes
  EXPECT_DOUBLE_EQ(exposed_ratio("response"), 0.5);
  EXPECT_EQ(count_samples(_metrics.text(), "tracefeed_negative_feedback_ratio"), 1u);
}

TEST(FeedbackMetricsOptions, AreValidated) {
  ManualClock clock;
  metrics::Metrics m;
  FeedbackMetricsOptions short_window;
  short_window.ratio_window = 10s;
  EXPECT_EQ(FeedbackMetrics::create(m, clock, short_window).status().code(), ErrorCode::invalid_argument);
  FeedbackMetricsOptions no_names;
  no_names.max_names = 0;
  EXPECT_EQ(FeedbackMetrics::create(m, clock, no_names).status().code(), ErrorCode::invalid_argument);
}

TEST(FeedbackMetricsLifetime, DestroyingItRemovesTheRatioSource) {
  ManualClock clock;
  metrics::Metrics m;
  {
    auto fm = FeedbackMetrics::create(m, clock);
    ASSERT_TRUE(fm.is_ok());
    Assessment a;
    a.assessment_name = "user_feedback";
    a.create_time = std::chrono::duration_cast<std::chrono::nanoseconds>(clock.now().time_since_epoch()).count();
    a.value = Feedback{"false", std::nullopt};
    (*fm)->on_assessment_applied(nullptr, &a);
    EXPECT_EQ(count_samples(m.text(), "tracefeed_negative_feedback_ratio"), 1u);
  }
  EXPECT_EQ(count_samples(m.text(), "tracefeed_negative_feedback_ratio"), 0u);
  EXPECT_EQ(count_samples(m.text(), "tracefeed_feedback_total"), 1u);  // counters stay with the registry
}

}  // namespace
}  // namespace tracefeed::quality
