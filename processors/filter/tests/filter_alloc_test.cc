// matches() must not allocate on the hot path: count global allocations around it.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "processors/filter/filter.h"

namespace {
std::atomic<long> g_allocations{0};
}

// GCC cannot see that these replace the global pair and warns on the inlined free().
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace tracefeed::filter {
namespace {

TEST(MatchesAllocation, NoAllocationInSteadyState) {
  Trace t;
  t.trace_info.trace_id = "tr-0123456789abcdef0123456789abcdef";
  t.trace_info.tags = {{"env", "prod"}};
  t.trace_info.trace_metadata = {{"mlflow.trace.user", "alice"}};
  Span root;
  root.name = "answer";
  root.span_type = "CHAIN";
  Span child = root;
  child.parent_span_id = "b000000000000000";
  child.name = "retrieve";
  child.span_type = "RETRIEVER";
  child.attributes = {{"model", "\"gpt\\u00e9\""}};
  t.spans = {root, child};
  Assessment a;
  a.assessment_name = "user_feedback";
  a.value = Feedback{"false", std::nullopt};
  Assessment b;
  b.assessment_name = "comment";
  b.value = Feedback{"\"escaped \\\"quote\\\" and more text than fits in SSO\"", std::nullopt};
  t.trace_info.assessments = {a, b};

  auto f = parse_filter(
      "feedback.user_feedback = false AND span.type IN ('RETRIEVER', 'LLM') AND tag.env LIKE 'pr%' "
      "AND "
      "metadata.`mlflow.trace.user` ILIKE 'ALICE' AND feedback.comment LIKE '%quote%' AND "
      "span.attributes.model = 'gpt\xC3\xA9' AND trace.name = 'answer' AND feedback.missing IS "
      "NULL");
  ASSERT_TRUE(f.is_ok()) << f.status().to_string();
  ASSERT_TRUE(f->matches(t));  // warms the thread-local buffer for escaped strings
  long before = g_allocations.load();
  bool all = true;
  for (int i = 0; i < 1000; ++i) all &= f->matches(t);
  long after = g_allocations.load();
  EXPECT_TRUE(all);
  EXPECT_EQ(after - before, 0);

  // Control: the counter does see allocations (parsing allocates).
  auto g = parse_filter("tag.env = 'a much longer value than the small string buffer holds'");
  EXPECT_TRUE(g.is_ok());
  EXPECT_GT(g_allocations.load(), after);
}

}  // namespace
}  // namespace tracefeed::filter
