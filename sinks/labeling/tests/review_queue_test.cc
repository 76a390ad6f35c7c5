#include "sinks/labeling/review_queue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tracefeed::labeling {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kT0 = 1'700'000'000'000;
constexpr int64_t kLeaseMs = 60'000;

std::string trace(int i) {
  std::string hex = std::to_string(i);
  return "tr-" + std::string(32 - hex.size(), '0') + hex;
}

Item item(int i, int priority = 0, int64_t added = kT0) {
  Item it;
  it.trace_id = trace(i);
  it.priority = priority;
  it.added_ms = added;
  return it;
}

QueuePolicy policy(int32_t reviews = 1, std::vector<std::string> assigned = {}) {
  return QueuePolicy{reviews, std::move(assigned), std::chrono::milliseconds(kLeaseMs)};
}

// What LabelingService does: plan, "store", put.
std::optional<Lease> claim(ReviewQueue& q, const std::string& reviewer, int64_t now,
                           std::string* trace_id = nullptr) {
  bool reused = false;
  auto planned = q.plan_claim(reviewer, now, "0123456789abcdef", &reused);
  if (!planned) return std::nullopt;
  if (trace_id) *trace_id = planned->trace_id;
  Lease lease = *planned->lease;
  if (!reused) q.put(std::move(*planned));
  return lease;
}

Status submit(ReviewQueue& q, const std::string& trace_id, const std::string& reviewer,
              const std::string& token, int64_t now) {
  auto check = q.check_lease(trace_id, reviewer, token, now);
  if (!check.is_ok()) return check.status();
  if (*check != LeaseCheck::ok) return Status::ok();  // a retry: nothing to do
  Item done = *q.find(trace_id);
  done.lease.reset();
  done.reviews.push_back(Review{reviewer, token, now, {{"q", "\"a\""}}, {}});
  q.put(std::move(done));
  return Status::ok();
}

Status skip(ReviewQueue& q, const std::string& trace_id, const std::string& reviewer,
            const std::string& token, int64_t now) {
  auto check = q.check_lease(trace_id, reviewer, token, now);
  if (!check.is_ok()) return check.status();
  Item done = *q.find(trace_id);
  done.lease.reset();
  done.skips.push_back(Skip{reviewer, token, now});
  q.put(std::move(done));
  return Status::ok();
}

TEST(ReviewQueue, ClaimsByPriorityThenAgeThenArrival) {
  ReviewQueue q(policy());
  q.put(item(1, 0, kT0 + 10));
  q.put(item(2, 5, kT0 + 30));
  q.put(item(3, 0, kT0 + 5));
  q.put(item(4, 5, kT0 + 20));
  q.put(item(5, 0, kT0 + 5));  // same age as 3, arrived later
  std::vector<std::string> order;
  for (int i = 0; i < 5; ++i) {
    std::string t;
    ASSERT_TRUE(claim(q, "r" + std::to_string(i), kT0, &t));
    order.push_back(t);
  }
  EXPECT_EQ(order, (std::vector<std::string>{trace(4), trace(2), trace(3), trace(5), trace(1)}));
  EXPECT_FALSE(claim(q, "r9", kT0));
}

TEST(ReviewQueue, TwoReviewersRacingForOneItem) {
  ReviewQueue q(policy());
  q.put(item(1));
  auto a = claim(q, "alice", kT0);
  auto b = claim(q, "bob", kT0);
  ASSERT_TRUE(a);
  EXPECT_FALSE(b) << "one item, one lease";
  EXPECT_EQ(a->token.substr(0, 2), "1-");
  EXPECT_EQ(a->expires_at_ms, kT0 + kLeaseMs);
  EXPECT_EQ(q.counts().in_progress, 1u);
  EXPECT_EQ(q.counts().pending, 0u);
}

TEST(ReviewQueue, AReviewerGetsTheirOwnLiveLeaseBack) {
  ReviewQueue q(policy());
  q.put(item(1));
  q.put(item(2));
  auto first = claim(q, "alice", kT0);
  bool reused = false;
  auto again = q.plan_claim("alice", kT0 + 1000, "ffffffffffffffff", &reused);
  ASSERT_TRUE(again);
  EXPECT_TRUE(reused);
  EXPECT_EQ(*again->lease, *first);
  EXPECT_EQ(q.counts().pending, 1u) << "the second item is still there for others";
}

TEST(ReviewQueue, ExpiredLeaseReturnsTheItemExactlyOnce) {
  ReviewQueue q(policy());
  q.put(item(1));
  auto a = claim(q, "alice", kT0);
  ASSERT_TRUE(a);
  EXPECT_FALSE(claim(q, "bob", kT0 + kLeaseMs - 1)) << "not expired yet";
  std::string t;
  auto b = claim(q, "bob", kT0 + kLeaseMs, &t);
  ASSERT_TRUE(b) << "expired at expires_at";
  EXPECT_EQ(t, trace(1));
  EXPECT_EQ(b->token.substr(0, 2), "2-") << "the fencing number grows";
  EXPECT_FALSE(claim(q, "carol", kT0 + kLeaseMs)) << "returned once, not twice";
  EXPECT_EQ(q.counts().in_progress, 1u);
  EXPECT_EQ(q.counts().total(), 1u);
}

TEST(ReviewQueue, StaleForeignAndExpiredTokensConflict) {
  ReviewQueue q(policy());
  q.put(item(1));
  auto a = claim(q, "alice", kT0);
  ASSERT_TRUE(a);

  // Foreign: bob presents alice's token.
  auto foreign = q.check_lease(trace(1), "bob", a->token, kT0 + 1);
  EXPECT_EQ(foreign.status().code(), ErrorCode::conflict);
  EXPECT_THAT(foreign.status().message(), HasSubstr("another reviewer"));
  // Made up.
  auto wrong = q.check_lease(trace(1), "alice", "1-0000000000000000", kT0 + 1);
  EXPECT_EQ(wrong.status().code(), ErrorCode::conflict);
  // Expired but not yet claimed by anyone else.
  auto expired = q.check_lease(trace(1), "alice", a->token, kT0 + kLeaseMs);
  EXPECT_EQ(expired.status().code(), ErrorCode::conflict);
  EXPECT_THAT(expired.status().message(), HasSubstr("expired"));
  // Superseded: bob claimed it after expiry; alice's token is stale for good.
  auto b = claim(q, "bob", kT0 + kLeaseMs + 1);
  ASSERT_TRUE(b);
  EXPECT_EQ(submit(q, trace(1), "alice", a->token, kT0 + kLeaseMs + 2).code(), ErrorCode::conflict);
  EXPECT_TRUE(submit(q, trace(1), "bob", b->token, kT0 + kLeaseMs + 2).is_ok());
  EXPECT_EQ(q.counts().completed, 1u);
  // Unknown item.
  EXPECT_EQ(q.check_lease(trace(9), "bob", b->token, kT0).status().code(), ErrorCode::not_found);
}

TEST(ReviewQueue, ARetriedSubmitIsRecognised) {
  ReviewQueue q(policy());
  q.put(item(1));
  auto a = claim(q, "alice", kT0);
  ASSERT_TRUE(submit(q, trace(1), "alice", a->token, kT0 + 1).is_ok());
  EXPECT_EQ(*q.check_lease(trace(1), "alice", a->token, kT0 + 2), LeaseCheck::already_submitted);
  EXPECT_EQ(q.check_lease(trace(1), "bob", a->token, kT0 + 2).status().code(), ErrorCode::conflict);
  EXPECT_EQ(q.find(trace(1))->reviews.size(), 1u);
}

TEST(ReviewQueue, ReviewsPerItemNeedsDistinctReviewers) {
  ReviewQueue q(policy(2));
  q.put(item(1));
  auto a = claim(q, "alice", kT0);
  ASSERT_TRUE(submit(q, trace(1), "alice", a->token, kT0).is_ok());
  EXPECT_EQ(q.status(*q.find(trace(1))), ItemStatus::pending);
  EXPECT_FALSE(claim(q, "alice", kT0)) << "alice already reviewed it";
  auto b = claim(q, "bob", kT0);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->token.substr(0, 2), "2-");
  ASSERT_TRUE(submit(q, trace(1), "bob", b->token, kT0).is_ok());
  EXPECT_EQ(q.status(*q.find(trace(1))), ItemStatus::completed);
  EXPECT_FALSE(claim(q, "carol", kT0)) << "completed items are not offered";
  auto progress = q.reviewer_progress();
  EXPECT_EQ(progress["alice"].reviewed, 1u);
  EXPECT_EQ(progress["bob"].reviewed, 1u);
}

TEST(ReviewQueue, SkipPassesTheItemOn) {
  ReviewQueue q(policy(1));
  q.put(item(1));
  q.put(item(2));
  auto a = claim(q, "alice", kT0);
  ASSERT_TRUE(skip(q, trace(1), "alice", a->token, kT0).is_ok());
  // One reviewer needed, one skipped: with reviews_per_item 1 the item is skipped.
  EXPECT_EQ(q.status(*q.find(trace(1))), ItemStatus::skipped);
  std::string t;
  ASSERT_TRUE(claim(q, "alice", kT0, &t));
  EXPECT_EQ(t, trace(2));
  EXPECT_EQ(q.reviewer_progress()["alice"].skipped, 1u);

  // With two reviews needed, one skip sends it back to the queue for others, never to alice.
  ReviewQueue q2(policy(2));
  q2.put(item(1));
  auto s = claim(q2, "alice", kT0);
  ASSERT_TRUE(skip(q2, trace(1), "alice", s->token, kT0).is_ok());
  EXPECT_EQ(q2.status(*q2.find(trace(1))), ItemStatus::pending);
  EXPECT_FALSE(claim(q2, "alice", kT0));
  EXPECT_TRUE(claim(q2, "bob", kT0));
}

TEST(ReviewQueue, AssignedUsersBoundWhatAnItemCanGet) {
  // Three reviews wanted but only two assigned users: two reviews complete it.
  ReviewQueue q(policy(3, {"alice", "bob"}));
  q.put(item(1));
  auto a = claim(q, "alice", kT0);
  ASSERT_TRUE(submit(q, trace(1), "alice", a->token, kT0).is_ok());
  auto b = claim(q, "bob", kT0);
  ASSERT_TRUE(submit(q, trace(1), "bob", b->token, kT0).is_ok());
  EXPECT_EQ(q.status(*q.find(trace(1))), ItemStatus::completed);

  // Every assigned user reviewed or skipped it, without enough reviews: skipped.
  ReviewQueue q2(policy(2, {"alice", "bob"}));
  q2.put(item(1));
  auto a2 = claim(q2, "alice", kT0);
  ASSERT_TRUE(submit(q2, trace(1), "alice", a2->token, kT0).is_ok());
  auto b2 = claim(q2, "bob", kT0);
  ASSERT_TRUE(skip(q2, trace(1), "bob", b2->token, kT0).is_ok());
  EXPECT_EQ(q2.status(*q2.find(trace(1))), ItemStatus::skipped);
}

TEST(ReviewQueue, ASubmissionInFlightPinsItsLease) {
  ReviewQueue q(policy());
  q.put(item(1));
  auto a = claim(q, "alice", kT0);
  Item pinned = *q.find(trace(1));
  pinned.pinned = a->token;
  q.put(pinned);
  EXPECT_EQ(q.expire_leases(kT0 + 10 * kLeaseMs), 0u) << "a pinned lease does not expire";
  EXPECT_FALSE(claim(q, "bob", kT0 + 10 * kLeaseMs));
  auto again = q.check_lease(trace(1), "alice", a->token, kT0 + 1);
  EXPECT_EQ(again.status().code(), ErrorCode::conflict);
  EXPECT_THAT(again.status().message(), HasSubstr("in progress"));
  EXPECT_EQ(q.counts().in_progress, 1u);
  // Unpinned (production failed): it expires as usual.
  pinned.pinned.clear();
  q.put(pinned);
  EXPECT_EQ(q.expire_leases(kT0 + 10 * kLeaseMs), 1u);
  EXPECT_TRUE(claim(q, "bob", kT0 + 10 * kLeaseMs));
}

TEST(ReviewQueue, CountsAgeAndPolicyChanges) {
  ReviewQueue q(policy(2));
  q.put(item(1, 9, kT0 + 100));
  q.put(item(2, 0, kT0));
  q.put(item(3, 0, kT0 + 50));
  EXPECT_EQ(q.counts().pending, 3u);
  EXPECT_EQ(q.oldest_pending_age_ms(kT0 + 1000), 1000);
  std::string t;
  auto a = claim(q, "alice", kT0, &t);
  EXPECT_EQ(t, trace(1));
  ASSERT_TRUE(submit(q, trace(1), "alice", a->token, kT0).is_ok());
  EXPECT_EQ(q.counts().pending, 3u) << "one of two reviews: still pending";
  q.set_policy(policy(1));
  EXPECT_EQ(q.counts().completed, 1u);
  EXPECT_EQ(q.counts().pending, 2u);
  // for_each walks arrival order from a given seq.
  std::vector<std::string> seen;
  q.for_each(2, [&](const Item& i) {
    seen.push_back(i.trace_id);
    return true;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{trace(2), trace(3)}));
}

TEST(ReviewQueue, PutKeepsAnItemsPlace) {
  ReviewQueue q(policy());
  q.put(item(1));
  q.put(item(2));
  Item changed = *q.find(trace(1));
  changed.seq = 99;  // ignored: an item keeps its arrival number
  changed.priority = 3;
  q.put(changed);
  EXPECT_EQ(q.find(trace(1))->seq, 1u);
  EXPECT_EQ(q.next_seq(), 3u);
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(parse_item_status("in_progress"), ItemStatus::in_progress);
  EXPECT_FALSE(parse_item_status("done").has_value());
}

}  // namespace
}  // namespace tracefeed::labeling
