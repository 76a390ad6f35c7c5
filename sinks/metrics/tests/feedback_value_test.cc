#include "sinks/metrics/feedback_value.h"

#include <gtest/gtest.h>

namespace tracefeed::quality {
namespace {

FeedbackValueClass classify(std::string_view json, const FeedbackValueRules& rules = {}) {
  FeedbackValueClass c;
  classify_feedback_value(json, rules, c);
  return c;
}

TEST(FeedbackValue, BooleansAreTheirOwnLabelAndFalseIsNegative) {
  EXPECT_EQ(classify("true").label, "true");
  EXPECT_FALSE(classify("true").negative);
  EXPECT_EQ(classify("false").label, "false");
  EXPECT_TRUE(classify("false").negative);
}

TEST(FeedbackValue, NumbersAreRoundedToOneDecimalAndNegativeAtOrBelowTheThreshold) {
  EXPECT_EQ(classify("0.73").label, "0.7");
  EXPECT_EQ(classify("1").label, "1");
  EXPECT_EQ(classify("4.0").label, "4");
  EXPECT_EQ(classify("0.96").label, "1");
  EXPECT_EQ(classify("-0.04").label, "0");  // not "-0"
  EXPECT_EQ(classify("-3").label, "-3");
  EXPECT_EQ(classify("1e20").label, "1e+20");
  EXPECT_EQ(classify("-1.5e300").label, "-1.5e+300");
  EXPECT_TRUE(classify("0.5").negative);
  EXPECT_TRUE(classify("0").negative);
  EXPECT_FALSE(classify("0.51").negative);
  EXPECT_TRUE(classify("0.54").negative == false && classify("0.54").label == "0.5")
      << "negative is decided on the value, not on its rounded label";

  FeedbackValueRules stars;  // a 1–5 rating
  stars.numeric_negative_at_or_below = 2;
  EXPECT_TRUE(classify("2", stars).negative);
  EXPECT_FALSE(classify("3", stars).negative);
}

TEST(FeedbackValue, StringsAreNegativeWhenInTheConfiguredSetIgnoringAsciiCase) {
  EXPECT_TRUE(classify(R"("no")").negative);
  EXPECT_TRUE(classify(R"("No")").negative);
  EXPECT_TRUE(classify(R"("THUMBS_DOWN")").negative);
  EXPECT_TRUE(classify(R"("Inaccurate")").negative);
  EXPECT_EQ(classify(R"("Inaccurate")").label, "Inaccurate");
  EXPECT_FALSE(classify(R"("yes")").negative);
  EXPECT_FALSE(classify(R"("Partially Accurate")").negative);
  EXPECT_FALSE(classify(R"("not bad")").negative);  // whole-value match, not substring

  FeedbackValueRules custom;
  custom.negative_strings = {"meh"};
  EXPECT_TRUE(classify(R"("MEH")", custom).negative);
  EXPECT_FALSE(classify(R"("no")", custom).negative);
}

TEST(FeedbackValue, EscapedStringsAreUnescapedFirst) {
  auto c = classify(R"("n\u006f")");
  EXPECT_EQ(c.label, "no");
  EXPECT_TRUE(c.negative);
  EXPECT_EQ(classify(R"("say \"hi\"")").label, "say \"hi\"");
}

TEST(FeedbackValue, NonScalarsAreOther) {
  for (std::string_view v : {"null", "[1,2]", R"({"a":1})", "", R"("unterminated)"}) {
    auto c = classify(v);
    EXPECT_EQ(c.label, "other") << v;
    EXPECT_FALSE(c.negative) << v;
  }
}

TEST(FeedbackValue, LongLabelsAreCutOnAUtf8Boundary) {
  std::string e40;
  for (int i = 0; i < 40; ++i) e40 += "\xC3\xA9";  // é, 2 bytes each
  FeedbackValueRules rules;
  rules.max_label_bytes = 9;
  EXPECT_EQ(classify("\"" + e40 + "\"", rules).label, e40.substr(0, 8));
  EXPECT_EQ(truncate_utf8("abc", 9), "abc");
  EXPECT_EQ(truncate_utf8("\xE2\x82\xAC\xE2\x82\xAC", 4), "\xE2\x82\xAC");  // € is 3 bytes
  EXPECT_EQ(truncate_utf8("\xE2\x82\xAC", 2), "");
}

}  // namespace
}  // namespace tracefeed::quality
