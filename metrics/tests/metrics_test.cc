#include "metrics/metrics.h"

#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>

#include <atomic>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "metrics/tests/exposition_text.h"

namespace tracefeed::metrics {
namespace {

using testing::sample_value;

TEST(MetricsCatalog, HasEveryFamilyOfProductSection7WithItsLabels) {
  // PRODUCT.md §7, copied by hand: the catalog must not drift from the contract.
  const std::map<std::string, std::vector<std::string>> contract = {
      {"tracefeed_events_ingested_total", {"type"}},
      {"tracefeed_events_rejected_total", {"reason"}},
      {"tracefeed_consumer_lag", {"topic", "partition"}},
      {"tracefeed_join_pending_assessments", {}},
      {"tracefeed_route_latency_seconds", {}},
      {"tracefeed_state_bytes", {}},
      {"tracefeed_feedback_total", {"name", "value"}},
      {"tracefeed_negative_feedback_ratio", {"name"}},
      {"tracefeed_review_queue_depth", {"session"}},
      {"tracefeed_review_item_age_seconds", {"session"}},
      {"tracefeed_reviews_completed_total", {"session", "reviewer"}},
      {"tracefeed_eval_score", {"scorer"}},
      {"tracefeed_label_agreement", {"session", "schema"}},
      // Beyond §7 (an addition, documented in docs/metrics.md):
      {"tracefeed_join_orphaned_assessments_total", {}},
  };
  ASSERT_EQ(catalog().size(), contract.size());
  for (const FamilyInfo& f : catalog()) {
    auto it = contract.find(std::string(f.name));
    ASSERT_NE(it, contract.end()) << f.name;
    std::vector<std::string> labels(f.labels.begin(), f.labels.end());
    EXPECT_EQ(labels, it->second) << f.name;
    EXPECT_FALSE(f.help.empty()) << f.name;
    EXPECT_FALSE(f.updated_by.empty()) << f.name;
    EXPECT_EQ(find_family(f.name), &f);
  }
  EXPECT_EQ(find_family("tracefeed_route_latency_seconds")->kind, Kind::histogram);
  EXPECT_EQ(find_family("tracefeed_feedback_total")->kind, Kind::counter);
  EXPECT_EQ(find_family("tracefeed_label_agreement")->kind, Kind::gauge);
  EXPECT_EQ(find_family("tracefeed_nope"), nullptr);
}

TEST(MetricsExposition, ListsEveryFamilyWithHelpAndTypeBeforeAnySample) {
  Metrics m;
  const std::string text = m.text();
  for (const FamilyInfo& f : catalog()) {
    const std::string kind = f.kind == Kind::counter ? "counter" : f.kind == Kind::gauge ? "gauge" : "histogram";
    EXPECT_NE(text.find("# HELP " + std::string(f.name) + " " + std::string(f.help) + "\n"), std::string::npos) << f.name;
    EXPECT_NE(text.find("# TYPE " + std::string(f.name) + " " + kind + "\n"), std::string::npos) << f.name;
  }
  // The fixed label sets exist from the start, so rate() has a zero to start from.
  for (std::string type : {"trace", "assessment", "assessment_update", "assessment_delete"}) {
    EXPECT_EQ(sample_value(text, "tracefeed_events_ingested_total{type=\"" + type + "\"}"), 0.0) << type;
  }
  EXPECT_EQ(sample_value(text, "tracefeed_route_latency_seconds_count"), 0.0);
}

TEST(MetricsExposition, HandlesCountAndAreStablePerLabelSet) {
  Metrics m;
  m.events_ingested(EventType::assessment).Increment(3);
  prometheus::Counter& a = m.feedback("user_feedback", "false");
  EXPECT_EQ(&a, &m.feedback("user_feedback", "false"));
  EXPECT_NE(&a, &m.feedback("user_feedback", "true"));
  a.Increment();
  a.Increment();
  m.events_rejected("invalid_event").Increment();
  auto reviews = m.add_source(names::reviews_completed_total, [](std::vector<Sample>& out) {
    out.push_back({{"quickstart_review", "alice"}, 4});
  });
  ASSERT_TRUE(reviews.is_ok());

  const std::string text = m.text();
  EXPECT_EQ(sample_value(text, R"(tracefeed_events_ingested_total{type="assessment"})"), 3.0);
  EXPECT_EQ(sample_value(text, R"(tracefeed_feedback_total{name="user_feedback",value="false"})"), 2.0);
  EXPECT_EQ(sample_value(text, R"(tracefeed_feedback_total{name="user_feedback",value="true"})"), 0.0);
  EXPECT_EQ(sample_value(text, R"(tracefeed_events_rejected_total{reason="invalid_event"})"), 1.0);
  EXPECT_EQ(sample_value(text, R"(tracefeed_reviews_completed_total{reviewer="alice",session="quickstart_review"})"), 4.0);
}

TEST(MetricsExposition, LabelValuesAreEscaped) {
  Metrics m;
  m.feedback("quote", "say \"hi\"\\now\n").Increment();
  EXPECT_EQ(sample_value(m.text(), R"(tracefeed_feedback_total{name="quote",value="say \"hi\"\\now\n"})"), 1.0);
}

TEST(MetricsRouteLatency, UsesTheConfiguredBucketsAndClampsNegativeLatencies) {
  config::MetricsOptions o;
  o.route_latency_buckets_seconds = {0.1, 1};
  Metrics m(o);
  const UnixNanos created = 1'700'000'000'000'000'000;
  const auto at = [&](int64_t ns) {
    return Clock::time_point(std::chrono::duration_cast<Clock::time_point::duration>(std::chrono::nanoseconds(created + ns)));
  };
  m.observe_route_latency(at(50'000'000), created);    // 50 ms
  m.observe_route_latency(at(500'000'000), created);   // 500 ms
  m.observe_route_latency(at(-2'000'000'000), created);  // client clock 2 s ahead → 0
  m.route_latency().Observe(3.0);
  const std::string text = m.text();
  EXPECT_EQ(sample_value(text, R"(tracefeed_route_latency_seconds_bucket{le="0.1"})"), 2.0);
  EXPECT_EQ(sample_value(text, R"(tracefeed_route_latency_seconds_bucket{le="1"})"), 3.0);
  EXPECT_EQ(sample_value(text, R"(tracefeed_route_latency_seconds_bucket{le="+Inf"})"), 4.0);
  EXPECT_EQ(sample_value(text, "tracefeed_route_latency_seconds_count"), 4.0);
  EXPECT_NEAR(sample_value(text, "tracefeed_route_latency_seconds_sum"), 3.55, 1e-9);
}

TEST(MetricsSources, AreCalledAtScrapeTimeAndSummedPerLabelSet) {
  Metrics m;
  double store_a = 100, store_b = 250;
  auto ra = m.add_source(names::state_bytes, [&](std::vector<Sample>& out) { out.push_back({{}, store_a}); });
  auto rb = m.add_source(names::state_bytes, [&](std::vector<Sample>& out) { out.push_back({{}, store_b}); });
  ASSERT_TRUE(ra.is_ok() && rb.is_ok());
  auto rq = m.add_source(names::review_queue_depth, [](std::vector<Sample>& out) {
    out.push_back({{"s1"}, 4});
    out.push_back({{"s2"}, 0});
    out.push_back({{"s1"}, 1});  // a second partition's share of the same session
  });
  ASSERT_TRUE(rq.is_ok());
  std::string text = m.text();
  EXPECT_EQ(sample_value(text, "tracefeed_state_bytes"), 350.0);
  EXPECT_EQ(sample_value(text, R"(tracefeed_review_queue_depth{session="s1"})"), 5.0);
  EXPECT_EQ(sample_value(text, R"(tracefeed_review_queue_depth{session="s2"})"), 0.0);

  store_a = 1000;  // read again on the next scrape
  EXPECT_EQ(sample_value(m.text(), "tracefeed_state_bytes"), 1250.0);
}

TEST(MetricsSources, MergeWithHandlesOfTheSameFamily) {
  // The gateway's validation rejections can come from a source while the publisher counts
  // through handles: one family, summed per reason.
  Metrics m;
  m.events_rejected("unavailable").Increment(2);
  auto r = m.add_source(names::events_rejected_total, [](std::vector<Sample>& out) {
    out.push_back({{"invalid_event"}, 7});
    out.push_back({{"unavailable"}, 1});
  });
  ASSERT_TRUE(r.is_ok());
  const std::string text = m.text();
  EXPECT_EQ(sample_value(text, R"(tracefeed_events_rejected_total{reason="invalid_event"})"), 7.0);
  EXPECT_EQ(sample_value(text, R"(tracefeed_events_rejected_total{reason="unavailable"})"), 3.0);
  EXPECT_EQ(testing::count_samples(text, "tracefeed_events_rejected_total"), 2u);
}

TEST(MetricsSources, RegistrationRemovesTheSourceWhenDestroyed) {
  Metrics m;
  int calls = 0;
  {
    auto r = m.add_source(names::join_pending_assessments, [&](std::vector<Sample>& out) {
      ++calls;
      out.push_back({{}, 9});
    });
    ASSERT_TRUE(r.is_ok());
    SourceRegistration moved = std::move(r).value();
    EXPECT_TRUE(moved.active());
    EXPECT_EQ(sample_value(m.text(), "tracefeed_join_pending_assessments"), 9.0);
  }
  EXPECT_EQ(testing::count_samples(m.text(), "tracefeed_join_pending_assessments"), 0u);
  EXPECT_EQ(calls, 1);

  auto r = m.add_source(names::join_pending_assessments, [](std::vector<Sample>& out) { out.push_back({{}, 1}); });
  ASSERT_TRUE(r.is_ok());
  r->reset();
  EXPECT_FALSE(r->active());
  EXPECT_EQ(testing::count_samples(m.text(), "tracefeed_join_pending_assessments"), 0u);
}

TEST(MetricsSources, RejectUnknownFamiliesHistogramsAndEmptyCallbacks) {
  Metrics m;
  auto unknown = m.add_source("tracefeed_nope", [](std::vector<Sample>&) {});
  ASSERT_FALSE(unknown.is_ok());
  EXPECT_EQ(unknown.status().code(), ErrorCode::invalid_argument);
  EXPECT_NE(unknown.status().message().find("tracefeed_nope"), std::string::npos);
  auto histogram = m.add_source(names::route_latency_seconds, [](std::vector<Sample>&) {});
  ASSERT_FALSE(histogram.is_ok());
  EXPECT_NE(histogram.status().message().find("histogram"), std::string::npos);
  EXPECT_FALSE(m.add_source(names::state_bytes, SampleSource()).is_ok());
}

TEST(MetricsSources, ScrapesRaceSafelyWithRegistrationAndIncrements) {
  // Sanitizer builds check that a scrape never runs a source being destroyed.
  Metrics m;
  std::atomic<bool> done{false};
  std::thread scraper([&] {
    while (!done.load()) {
      std::string t = m.text();
      EXPECT_NE(t.find("tracefeed_state_bytes"), std::string::npos);
    }
  });
  for (int i = 0; i < 300; ++i) {
    auto value = std::make_unique<double>(i);
    auto r = m.add_source(names::state_bytes, [v = value.get()](std::vector<Sample>& out) { out.push_back({{}, *v}); });
    ASSERT_TRUE(r.is_ok());
    m.feedback("n", std::to_string(i % 5)).Increment();
    r->reset();  // before `value` dies
  }
  done = true;
  scraper.join();
  EXPECT_EQ(sample_value(m.text(), R"(tracefeed_feedback_total{name="n",value="0"})"), 60.0);
}

}  // namespace
}  // namespace tracefeed::metrics
