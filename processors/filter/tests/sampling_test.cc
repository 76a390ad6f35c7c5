// Sampling: fixed vectors (checked against the reference xxHash library, libxxhash 0.8.1) so any
// other implementation can verify it agrees, and the distribution of the decision.
#include "processors/filter/sampling.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

namespace tracefeed::filter {
namespace {

TEST(Xxh64, ReferenceVectors) {
  EXPECT_EQ(xxh64(""), 0xEF46DB3751D8E999ULL);
  EXPECT_EQ(xxh64("a"), 0xD24EC4F1A98C6E5BULL);
  EXPECT_EQ(xxh64("abc"), 0x44BC2CF5AD770999ULL);
  EXPECT_EQ(xxh64("0123456789abcdef0123456789abcdef"),
            0x642A94958E71E6C5ULL);  // exactly one stripe
  EXPECT_EQ(xxh64("The quick brown fox jumps over the lazy dog"), 0x0B242D361FDA71BCULL);
  std::string bytes;
  for (int i = 0; i < 100; ++i) bytes.push_back(static_cast<char>(i));
  EXPECT_EQ(xxh64(bytes), 0x6AC1E58032166597ULL);  // stripes + 8/4/1-byte tails
}

TEST(Sampling, FixedVectors) {
  // u = (XXH64(trace_id ++ "\0" ++ rule_name) >> 11) * 2^-53
  struct Vector {
    const char* trace_id;
    const char* rule;
    double u;
  } vectors[] = {
      {"tr-0123456789abcdef0123456789abcdef", "thumbs_down_to_review", 0.820546143894851},
      {"tr-0123456789abcdef0123456789abcdef", "low_judge_score", 0.7344191894041782},
      {"tr-ffffffffffffffffffffffffffffffff", "thumbs_down_to_review", 0.1560822735390145},
      {"tr-00000000000000000000000000000000", "r", 0.70729085000725},
      {"", "", 0.9109597380402374},
  };
  for (const auto& v : vectors) {
    EXPECT_DOUBLE_EQ(sample_point(v.trace_id, v.rule), v.u) << v.trace_id << " " << v.rule;
    EXPECT_TRUE(sampled_in(v.trace_id, v.rule, v.u + 1e-9));
    EXPECT_FALSE(sampled_in(v.trace_id, v.rule, v.u));
  }
  EXPECT_TRUE(sampled_in("tr-ffffffffffffffffffffffffffffffff", "thumbs_down_to_review", 0.2));
  EXPECT_FALSE(sampled_in("tr-0123456789abcdef0123456789abcdef", "thumbs_down_to_review", 0.8));
}

TEST(Sampling, RateBounds) {
  for (int i = 0; i < 1000; ++i) {
    std::string id = "tr-" + std::to_string(i);
    EXPECT_TRUE(sampled_in(id, "rule", 1.0));
    EXPECT_TRUE(sampled_in(id, "rule", 1.5));
    EXPECT_FALSE(sampled_in(id, "rule", 0.0));
    EXPECT_FALSE(sampled_in(id, "rule", -1.0));
    EXPECT_FALSE(sampled_in(id, "rule", std::nan("")));
    double u = sample_point(id, "rule");
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
  }
}

TEST(Sampling, DeterministicAndMonotoneInRate) {
  for (int i = 0; i < 1000; ++i) {
    char id[40];
    std::snprintf(id, sizeof id, "tr-%032x", i * 2654435761u);
    bool low = sampled_in(id, "r", 0.1);
    EXPECT_EQ(low, sampled_in(id, "r", 0.1));
    if (low) {
      EXPECT_TRUE(sampled_in(id, "r", 0.2));  // raising the rate only adds traces
    }
  }
}

TEST(Sampling, DistributionAtThirtyPercent) {
  int in = 0, other_rule_in = 0, both = 0;
  constexpr int n = 10'000;
  for (int i = 0; i < n; ++i) {
    char id[40];
    std::snprintf(id, sizeof id, "tr-%032x", i);
    bool a = sampled_in(id, "thumbs_down_to_review", 0.3);
    bool b = sampled_in(id, "low_judge_score", 0.3);
    in += a;
    other_rule_in += b;
    both += a && b;
  }
  EXPECT_NEAR(in / double(n), 0.3, 0.02);
  EXPECT_NEAR(other_rule_in / double(n), 0.3, 0.02);
  EXPECT_NEAR(both / double(n), 0.09, 0.02);  // rules sample independently
}

}  // namespace
}  // namespace tracefeed::filter
