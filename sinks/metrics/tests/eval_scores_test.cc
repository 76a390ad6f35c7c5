#include "sinks/metrics/eval_scores.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "metrics/tests/exposition_text.h"

namespace tracefeed::quality {
namespace {

using metrics::testing::count_samples;
using metrics::testing::sample_value;

TEST(EvalScores, GaugeIsTheMeanOfTheLastWindowScores) {
  metrics::Metrics m;
  EvalScoresOptions o;
  o.window = 4;
  auto e = EvalScores::create(m, o);
  ASSERT_TRUE(e.is_ok());
  EXPECT_FALSE((*e)->mean("correctness").has_value());
  for (double v : {1.0, 0.0, 1.0, 1.0}) (*e)->record("correctness", v);
  EXPECT_DOUBLE_EQ(*(*e)->mean("correctness"), 0.75);
  (*e)->record("correctness", 0.0);  // pushes out the first 1.0
  (*e)->record("correctness", 0.0);  // pushes out the 0.0
  EXPECT_DOUBLE_EQ(*(*e)->mean("correctness"), 0.5);
  (*e)->record("correctness", std::numeric_limits<double>::quiet_NaN());  // ignored
  (*e)->record("relevance", 0.25);
  const std::string text = m.text();
  EXPECT_DOUBLE_EQ(sample_value(text, R"(tracefeed_eval_score{scorer="correctness"})"), 0.5);
  EXPECT_DOUBLE_EQ(sample_value(text, R"(tracefeed_eval_score{scorer="relevance"})"), 0.25);
}

TEST(EvalScores, ScorersBeyondTheCapShareOneSeries) {
  metrics::Metrics m;
  EvalScoresOptions o;
  o.max_scorers = 2;
  auto e = EvalScores::create(m, o);
  ASSERT_TRUE(e.is_ok());
  (*e)->record("a", 1);
  (*e)->record("b", 1);
  (*e)->record("c", 0);
  (*e)->record("d", 1);
  (*e)->record("other", 0);
  (*e)->record("a", 0);
  const std::string text = m.text();
  EXPECT_EQ(count_samples(text, "tracefeed_eval_score"), 3u);
  EXPECT_DOUBLE_EQ(sample_value(text, R"(tracefeed_eval_score{scorer="other"})"), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(sample_value(text, R"(tracefeed_eval_score{scorer="a"})"), 0.5);
}

TEST(EvalScores, OptionsAreValidatedAndTheSourceGoesWithTheObject) {
  metrics::Metrics m;
  EXPECT_EQ(EvalScores::create(m, {.window = 0}).status().code(), ErrorCode::invalid_argument);
  EXPECT_EQ(EvalScores::create(m, {.max_scorers = 0}).status().code(), ErrorCode::invalid_argument);
  {
    auto e = EvalScores::create(m);
    ASSERT_TRUE(e.is_ok());
    (*e)->record("correctness", 1);
    EXPECT_EQ(count_samples(m.text(), "tracefeed_eval_score"), 1u);
  }
  EXPECT_EQ(count_samples(m.text(), "tracefeed_eval_score"), 0u);
}

}  // namespace
}  // namespace tracefeed::quality
