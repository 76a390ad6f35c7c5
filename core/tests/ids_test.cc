#include "core/ids.h"

#include <gtest/gtest.h>

#include <set>

namespace tracefeed {
namespace {

TEST(Ids, ValidatesMlflowFormats) {
  EXPECT_TRUE(is_trace_id("tr-0123456789abcdef0123456789abcdef"));
  EXPECT_FALSE(is_trace_id("tr-0123456789ABCDEF0123456789abcdef"));  // uppercase
  EXPECT_FALSE(is_trace_id("tr-0123"));
  EXPECT_FALSE(is_trace_id("xx-0123456789abcdef0123456789abcdef"));
  EXPECT_TRUE(is_span_id("0123456789abcdef"));
  EXPECT_FALSE(is_span_id("0123456789abcde"));
  EXPECT_FALSE(is_span_id("0123456789abcdeg"));
  EXPECT_TRUE(is_assessment_id("a-1f"));
  EXPECT_FALSE(is_assessment_id("a-"));
  EXPECT_FALSE(is_assessment_id("b-12"));
}

TEST(Ids, GeneratedIdsAreValidAndDistinct) {
  IdGenerator gen(42);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto t = gen.trace_id();
    EXPECT_TRUE(is_trace_id(t)) << t;
    EXPECT_TRUE(seen.insert(t).second);
    EXPECT_TRUE(is_span_id(gen.span_id()));
    EXPECT_TRUE(is_assessment_id(gen.assessment_id()));
  }
  EXPECT_TRUE(is_trace_id(new_trace_id()));
  EXPECT_NE(new_event_id(), new_event_id());
}

TEST(Ids, DerivedAssessmentIdsAreStable) {
  EXPECT_EQ(assessment_id_from("ev-1"), assessment_id_from("ev-1"));
  EXPECT_NE(assessment_id_from("ev-1"), assessment_id_from("ev-2"));
  EXPECT_TRUE(is_assessment_id(assessment_id_from("ev-1")));
  // Fixed vectors: ids and sampling decisions must not change between versions.
  // "a-" + the nibbles, lowest first, of XXH64("ev-1", 0x5eed) then XXH64("ev-1", 0xfeed).
  EXPECT_EQ(assessment_id_from("ev-1"), "a-afe54c3b7d4913264cf2fef23032cc5e");
}

TEST(Ids, SameSeedSameStream) {
  IdGenerator a(7), b(7);
  EXPECT_EQ(a.trace_id(), b.trace_id());
}

}  // namespace
}  // namespace tracefeed
