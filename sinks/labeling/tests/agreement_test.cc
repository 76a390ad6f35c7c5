#include "sinks/labeling/agreement.h"

#include <gtest/gtest.h>

namespace tracefeed::labeling {
namespace {

// Wikipedia's Cohen's kappa example: 50 proposals, two readers. Yes/yes 20, yes/no 5, no/yes
// 10, no/no 15: p_o = 0.7, p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.5, kappa = 0.4.
TEST(Agreement, CohenKappaTextbookExample) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (int i = 0; i < 20; ++i) pairs.emplace_back("yes", "yes");
  for (int i = 0; i < 5; ++i) pairs.emplace_back("yes", "no");
  for (int i = 0; i < 10; ++i) pairs.emplace_back("no", "yes");
  for (int i = 0; i < 15; ++i) pairs.emplace_back("no", "no");
  double observed = 0;
  auto k = cohen_kappa(pairs, &observed);
  ASSERT_TRUE(k.has_value());
  EXPECT_NEAR(*k, 0.4, 1e-12);
  EXPECT_NEAR(observed, 0.7, 1e-12);
}

// Wikipedia's Fleiss' kappa example: 10 subjects, 14 raters each, 5 categories:
// P-bar = 0.378, P-bar_e = 0.213, kappa = 0.210.
TEST(Agreement, FleissKappaTextbookExample) {
  const std::vector<std::vector<int>> counts = {
      {0, 0, 0, 0, 14}, {0, 2, 6, 4, 2}, {0, 0, 3, 5, 6}, {0, 3, 9, 2, 0}, {2, 2, 8, 1, 1},
      {7, 7, 0, 0, 0},  {3, 2, 6, 3, 0}, {2, 5, 3, 2, 2}, {6, 5, 2, 1, 0}, {0, 2, 2, 3, 7},
  };
  double observed = 0;
  auto k = fleiss_kappa(counts, &observed);
  ASSERT_TRUE(k.has_value());
  EXPECT_NEAR(observed, 0.378, 5e-4);
  EXPECT_NEAR(*k, 0.210, 5e-4);
}

TEST(Agreement, PerfectAgreementOnOneCategoryIsUndefined) {
  double observed = 0;
  EXPECT_FALSE(cohen_kappa({{"a", "a"}, {"a", "a"}}, &observed).has_value());
  EXPECT_EQ(observed, 1.0);
  EXPECT_FALSE(fleiss_kappa({{3, 0}, {3, 0}}, &observed).has_value());
  EXPECT_EQ(observed, 1.0);
  // Perfect agreement over two categories is kappa 1; systematic disagreement is negative.
  EXPECT_NEAR(*cohen_kappa({{"a", "a"}, {"b", "b"}}), 1.0, 1e-12);
  EXPECT_NEAR(*cohen_kappa({{"a", "b"}, {"b", "a"}}), -1.0, 1e-12);
}

TEST(Agreement, TwoReviewersUseCohenWithEachReviewersOwnMarginals) {
  // alice: a a b b, bob: a b b b → p_o = 3/4; p_e = (2/4)(1/4) + (2/4)(3/4) = 1/2; kappa = 1/2.
  std::vector<Ratings> items = {
      {{"alice", "a"}, {"bob", "a"}},
      {{"bob", "b"}, {"alice", "a"}},  // order within an item does not matter
      {{"alice", "b"}, {"bob", "b"}},
      {{"bob", "b"}, {"alice", "b"}},
      {{"alice", "b"}},  // one answer: not counted
  };
  auto a = compute_agreement(items);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->method, AgreementMethod::cohen);
  EXPECT_EQ(a->items, 4u);
  EXPECT_EQ(a->reviewers, 2u);
  EXPECT_EQ(a->ratings, 8u);
  EXPECT_NEAR(a->observed_agreement, 0.75, 1e-12);
  ASSERT_TRUE(a->kappa.has_value());
  EXPECT_NEAR(*a->kappa, 0.5, 1e-12);
}

TEST(Agreement, MoreReviewersUseFleissWithVaryingRatingsPerItem) {
  // i1: a a a (P = 1), i2: a b (P = 0), i3: b b (P = 1) → P-bar = 2/3.
  // Ratings: a 4, b 3 of 7 → P_e = 16/49 + 9/49 = 25/49. kappa = (2/3 - 25/49) / (24/49) = 23/72.
  std::vector<Ratings> items = {
      {{"alice", "a"}, {"bob", "a"}, {"carol", "a"}},
      {{"alice", "a"}, {"bob", "b"}},
      {{"bob", "b"}, {"carol", "b"}},
  };
  auto a = compute_agreement(items);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->method, AgreementMethod::fleiss);
  EXPECT_EQ(a->reviewers, 3u);
  EXPECT_NEAR(a->observed_agreement, 2.0 / 3.0, 1e-12);
  ASSERT_TRUE(a->kappa.has_value());
  EXPECT_NEAR(*a->kappa, 23.0 / 72.0, 1e-12);
}

TEST(Agreement, NothingToCompareGivesNothing) {
  EXPECT_FALSE(compute_agreement({}).has_value());
  EXPECT_FALSE(compute_agreement({{{"alice", "a"}}, {{"bob", "b"}}}).has_value());
  // A reviewer counted twice on one item is one rating.
  EXPECT_FALSE(compute_agreement({{{"alice", "a"}, {"alice", "b"}}}).has_value());
}

TEST(Agreement, MethodNames) {
  EXPECT_EQ(to_string(AgreementMethod::cohen), "cohen_kappa");
  EXPECT_EQ(to_string(AgreementMethod::fleiss), "fleiss_kappa");
}

}  // namespace
}  // namespace tracefeed::labeling
