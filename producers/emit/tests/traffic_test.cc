#include "producers/emit/traffic.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "core/event_json.h"

namespace tracefeed::emit {
namespace {

TEST(TrafficGenerator, ValidEnvelopesWithTheConfiguredMix) {
  ManualClock clock;
  TrafficOptions o;
  o.feedback_ratio = 1.0;
  o.thumbs_down_ratio = 0.3;
  o.feedback_first_ratio = 0.2;
  o.duplicate_ratio = 0.05;
  TrafficGenerator gen(o, clock);
  std::vector<GeneratedEvent> events;
  for (int i = 0; i < 2000; ++i) gen.next_interaction(events);
  const auto& c = gen.counts();
  EXPECT_EQ(c.traces, 2000u);
  EXPECT_EQ(c.feedback, 2000u);
  EXPECT_NEAR(static_cast<double>(c.thumbs_down) / 2000, 0.3, 0.04);
  EXPECT_NEAR(static_cast<double>(c.feedback_first) / 2000, 0.2, 0.04);
  EXPECT_NEAR(static_cast<double>(c.duplicates) / 4000, 0.05, 0.015);
  EXPECT_EQ(events.size(), 4000u + c.duplicates);

  EventParser parser;
  std::map<std::string, int> seen_ids;
  std::set<std::string> traced;
  uint64_t feedback_before_trace = 0, false_values = 0;
  for (const auto& e : events) {
    auto env = parser.parse_envelope(e.json);
    ASSERT_TRUE(env.is_ok()) << env.status().to_string() << "\n" << e.json;
    EXPECT_EQ(env->event_id, e.event_id);
    EXPECT_EQ(env->trace_id(), e.trace_id);
    if (++seen_ids[e.event_id] > 1) continue;  // a duplicate
    if (env->type == EventType::trace) {
      const Trace& t = env->trace();
      ASSERT_GE(t.spans.size(), 1u);
      ASSERT_LE(t.spans.size(), 5u);
      EXPECT_EQ(t.spans[0].span_type, "CHAIN");
      if (t.spans.size() > 1) {
        EXPECT_EQ(t.spans[1].span_type, "RETRIEVER");
      }
      if (t.spans.size() > 2) {
        EXPECT_EQ(t.spans[2].span_type, "CHAT_MODEL");
      }
      traced.insert(t.trace_info.trace_id);
    } else {
      if (!traced.count(e.trace_id)) ++feedback_before_trace;
      if (std::get<Feedback>(env->assessment().value).value == "false") ++false_values;
    }
  }
  EXPECT_EQ(feedback_before_trace, c.feedback_first);
  EXPECT_EQ(false_values, c.thumbs_down);
  uint64_t dups = 0;
  for (const auto& [id, n] : seen_ids) dups += static_cast<uint64_t>(n - 1);
  EXPECT_EQ(dups, c.duplicates);
}

TEST(TrafficGenerator, SameSeedSameIds) {
  ManualClock clock;
  TrafficGenerator a({}, clock), b({}, clock);
  std::vector<GeneratedEvent> ea, eb;
  for (int i = 0; i < 10; ++i) {
    a.next_interaction(ea);
    b.next_interaction(eb);
  }
  ASSERT_EQ(ea.size(), eb.size());
  for (size_t i = 0; i < ea.size(); ++i) EXPECT_EQ(ea[i].json, eb[i].json);
}

}  // namespace
}  // namespace tracefeed::emit
