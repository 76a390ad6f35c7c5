// 20 reviewers claiming and submitting from one session at once, with leases expiring under
// them: no item is ever reviewed by more reviewers than reviews_per_item, no reviewer reviews an
// item twice, and exactly one set of assessments is produced per recorded review.
#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <thread>

#include "sinks/labeling/labeling_service.h"
#include "sinks/labeling/tests/test_support.h"

namespace tracefeed::labeling {
namespace {

using namespace testing;

struct Outcome {
  uint64_t submitted = 0, conflicts = 0, abandoned = 0;
};

void run_reviewers(int reviews_per_item, int items, int reviewers) {
  ManualClock clock;
  TempStore store(clock, "-" + std::to_string(reviews_per_item));
  FakeSink sink;
  LabelingService service(*store, sink, clock);
  config::LabelingSession session;
  session.name = "crowd";
  session.label_schemas = {"response_accuracy"};
  session.reviews_per_item = reviews_per_item;
  session.lease_duration = std::chrono::minutes(1);
  ASSERT_TRUE(
      service.load({categorical("response_accuracy", {"Accurate", "Inaccurate"})}, {session})
          .is_ok());
  std::vector<std::string> traces;
  for (int i = 1; i <= items; ++i) traces.push_back(trace(i));
  ASSERT_TRUE(service.add_items("crowd", traces).is_ok());

  const JsonTree labels = std::move(parse_json(R"({"response_accuracy":"Accurate"})")).value();
  std::vector<Outcome> outcomes(static_cast<size_t>(reviewers));
  std::vector<std::thread> threads;
  for (int r = 0; r < reviewers; ++r) {
    threads.emplace_back([&, r] {
      const std::string me = "reviewer-" + std::to_string(r);
      Outcome& out = outcomes[static_cast<size_t>(r)];
      for (uint64_t step = 0;; ++step) {
        auto claimed = service.claim("crowd", me);
        ASSERT_TRUE(claimed.is_ok()) << claimed.status().to_string();
        if (!claimed->has_value()) {
          // Nothing for me now. Done when nothing is pending or held anywhere; otherwise
          // someone is working on an item (or walked away from one whose lease has run out
          // and is returned by this very check) and it may come back to the queue.
          auto v = service.get_session("crowd");
          if (v->counts.pending == 0 && v->counts.in_progress == 0) return;
          std::this_thread::yield();
          continue;
        }
        const ClaimResult& c = **claimed;
        // Now and then walk away from a lease and let it run out: leases expire under the
        // others too, whose submissions then meet 409 and who claim again.
        if ((step + static_cast<uint64_t>(r)) % 53 == 0) {
          ++out.abandoned;
          clock.advance(std::chrono::seconds(61));
          continue;
        }
        auto done = service.submit("crowd", c.trace_id, me, c.lease.token, labels, nullptr);
        if (done.is_ok()) {
          ++out.submitted;
        } else {
          ASSERT_EQ(done.status().code(), ErrorCode::conflict) << done.status().to_string();
          ++out.conflicts;
        }
      }
    });
  }
  for (auto& t : threads) t.join();

  uint64_t submitted = 0, conflicts = 0, abandoned = 0;
  for (const auto& o : outcomes) {
    submitted += o.submitted;
    conflicts += o.conflicts;
    abandoned += o.abandoned;
  }
  // The run exercised expiry: abandoned leases came back to the queue and were reviewed.
  EXPECT_GT(abandoned, 0u);
  EXPECT_GE(service.stats().leases_expired.load(), abandoned);
  ::testing::Test::RecordProperty("conflicts", static_cast<int>(conflicts));
  std::printf("reviews_per_item=%d: %llu submitted, %llu abandoned, %llu refused with 409\n",
              reviews_per_item, static_cast<unsigned long long>(submitted),
              static_cast<unsigned long long>(abandoned),
              static_cast<unsigned long long>(conflicts));
  EXPECT_EQ(submitted, static_cast<uint64_t>(items) * static_cast<uint64_t>(reviews_per_item));
  EXPECT_EQ(service.stats().submits.load(), submitted);

  auto page = service.list_items("crowd", std::nullopt, 0, static_cast<size_t>(items) + 1);
  ASSERT_TRUE(page.is_ok());
  ASSERT_EQ(page->items.size(), static_cast<size_t>(items));
  for (const auto& [item, status] : page->items) {
    EXPECT_EQ(status, ItemStatus::completed) << item.trace_id;
    EXPECT_EQ(item.reviews.size(), static_cast<size_t>(reviews_per_item))
        << item.trace_id << " over- or under-reviewed";
    std::set<std::string> who;
    for (const auto& rv : item.reviews) who.insert(rv.reviewer);
    EXPECT_EQ(who.size(), item.reviews.size())
        << item.trace_id << " reviewed twice by one reviewer";
  }
  // One assessment per recorded review, never a second one for the same (trace, reviewer).
  const auto events = sink.snapshot();
  EXPECT_EQ(events.size(), submitted);
  std::set<std::string> ids;
  for (const auto& e : events) ids.insert(e.assessment().assessment_id);
  EXPECT_EQ(ids.size(), events.size());
}

TEST(LabelingConcurrency, TwentyReviewersOneReviewEach) {
  run_reviewers(1, 2000, 20);
}

TEST(LabelingConcurrency, TwentyReviewersThreeReviewsEach) {
  run_reviewers(3, 1000, 20);
}

}  // namespace
}  // namespace tracefeed::labeling
