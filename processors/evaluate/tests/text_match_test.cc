#include "processors/evaluate/text_match.h"

#include <gtest/gtest.h>

namespace tracefeed::evaluate {
namespace {

TEST(TextMatch, NormalizesLikeSquad) {
  EXPECT_EQ(normalize_answer("The Open-Source  platform!"), "open source platform");
  EXPECT_EQ(normalize_answer("  An apple, a pear; THE end. "), "apple pear end");
  EXPECT_EQ(normalize_answer("MLflow's 3.1 release"), "mlflow s 3 1 release");
  EXPECT_EQ(normalize_answer(""), "");
  EXPECT_EQ(normalize_answer("?!."), "");
}

TEST(TextMatch, KeepsUtf8InsideTokens) {
  EXPECT_EQ(normalize_answer("Café au LAIT"), "café au lait");
  Tokenizer t;
  const auto& tokens = t.tokenize("naïve — résumé");
  // The em dash is three bytes >= 0x80: a token of its own, not a separator.
  ASSERT_EQ(tokens.size(), 3u);
  EXPECT_EQ(tokens[0], "naïve");
  EXPECT_EQ(tokens[2], "résumé");
}

TEST(TextMatch, EqualTokensHashEqual) {
  Tokenizer a, b;
  a.tokenize("MLflow, mlflow! MLFLOW");
  ASSERT_EQ(a.hashes().size(), 3u);
  EXPECT_EQ(a.hashes()[0], a.hashes()[1]);
  EXPECT_EQ(a.hashes()[1], a.hashes()[2]);
  b.tokenize("mlflo mlflows");
  EXPECT_NE(b.hashes()[0], a.hashes()[0]);
  EXPECT_NE(b.hashes()[1], a.hashes()[0]);
}

TEST(TextMatch, TokenizerReusesItsBuffersAcrossCalls) {
  Tokenizer t;
  EXPECT_EQ(t.tokenize("a long sentence with several words").size(), 5u);
  EXPECT_EQ(t.tokenize("short").size(), 1u);
  EXPECT_EQ(t.tokens().front(), "short");
}

TEST(TextMatch, OverlapCountsTokensAsAMultiset) {
  Tokenizer a, b;
  a.tokenize("red red green blue yellow");
  b.tokenize("red green blue purple");
  std::vector<uint64_t> p = a.hashes(), e = b.hashes();
  const TokenOverlap o = token_overlap(p, e);
  EXPECT_EQ(o.common, 3u);  // the second "red" has no partner
  EXPECT_EQ(o.predicted, 5u);
  EXPECT_EQ(o.expected, 4u);
  EXPECT_DOUBLE_EQ(o.precision(), 0.6);
  EXPECT_DOUBLE_EQ(o.recall(), 0.75);
  EXPECT_NEAR(o.f1(), 2 * 0.6 * 0.75 / 1.35, 1e-12);
}

TEST(TextMatch, F1OfEmptyAnswers) {
  std::vector<uint64_t> none, one = {1};
  EXPECT_DOUBLE_EQ(token_overlap(none, none).f1(), 1.0);
  EXPECT_DOUBLE_EQ(token_overlap(one, none).f1(), 0.0);
  EXPECT_DOUBLE_EQ(token_overlap(none, one).f1(), 0.0);
  std::vector<uint64_t> x = {1}, y = {2};
  EXPECT_DOUBLE_EQ(token_overlap(x, y).f1(), 0.0);
}

TEST(TextMatch, FactCoveredAtThreshold) {
  Tokenizer out, scratch;
  out.tokenize("MLflow is an open source platform for the ML lifecycle");
  std::vector<uint64_t> tokens = out.hashes(), fh;
  std::sort(tokens.begin(), tokens.end());
  EXPECT_TRUE(fact_covered(tokens, "MLflow is open-source", 1.0, scratch, fh));
  // 3 of 4 tokens ("tracking" is missing).
  EXPECT_TRUE(fact_covered(tokens, "MLflow open source tracking", 0.75, scratch, fh));
  EXPECT_FALSE(fact_covered(tokens, "MLflow open source tracking", 0.8, scratch, fh));
  EXPECT_FALSE(fact_covered(tokens, "It has a model registry", 0.8, scratch, fh));
  EXPECT_TRUE(fact_covered(tokens, "the", 0.8, scratch, fh));  // nothing left after normalization
  // A token counts once per occurrence: "open open" needs two.
  EXPECT_FALSE(fact_covered(tokens, "open open", 1.0, scratch, fh));
}

}  // namespace
}  // namespace tracefeed::evaluate
