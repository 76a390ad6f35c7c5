// LIKE / ILIKE: SQL semantics (% any run, _ one character, \ escapes), UTF-8 aware.
#include <gtest/gtest.h>

#include "processors/filter/filter.h"

namespace tracefeed::filter {
namespace {

struct Case {
  const char* pattern;
  const char* text;
  bool like;
  bool ilike;
};

class Like : public ::testing::TestWithParam<Case> {};

TEST_P(Like, Matches) {
  const Case& c = GetParam();
  EXPECT_EQ(LikePattern(c.pattern, false).matches(c.text), c.like)
      << c.pattern << " LIKE " << c.text;
  EXPECT_EQ(LikePattern(c.pattern, true).matches(c.text), c.ilike)
      << c.pattern << " ILIKE " << c.text;
}

INSTANTIATE_TEST_SUITE_P(
    Patterns, Like,
    ::testing::Values(
        Case{"", "", true, true}, Case{"", "a", false, false}, Case{"%", "", true, true},
        Case{"%", "anything", true, true}, Case{"%%", "", true, true}, Case{"_", "", false, false},
        Case{"_", "a", true, true}, Case{"_", "ab", false, false}, Case{"abc", "abc", true, true},
        Case{"abc", "ABC", false, true}, Case{"abc", "abcd", false, false},
        Case{"a%", "abc", true, true}, Case{"A%", "abc", false, true},
        Case{"%c", "abc", true, true}, Case{"%b%", "abc", true, true},
        Case{"%B%", "abc", false, true}, Case{"a_c", "abc", true, true},
        Case{"a_c", "ac", false, false}, Case{"a%c", "ac", true, true},
        Case{"a%c", "abbbc", true, true}, Case{"a%c", "abbbcd", false, false},
        Case{"%a%a%a%", "aaa", true, true}, Case{"%a%a%a%", "aa", false, false},
        Case{"%ab%ab", "xabyabab", true, true},  // needs backtracking
        Case{"a%b%c%d", "aXbYcZd", true, true}, Case{"a%b%c%d", "aXbYcZ", false, false},
        Case{"%_%_%", "x", false, false}, Case{"%_%_%", "xy", true, true},
        Case{"100\\%", "100%", true, true}, Case{"100\\%", "1000", false, false},
        Case{"a\\_b", "a_b", true, true}, Case{"a\\_b", "axb", false, false},
        Case{"a\\\\b", "a\\b", true, true},
        Case{"h_llo", "h\xC3\xA9llo", true, true},  // _ is one code point
        Case{"h__llo", "h\xC3\xA9llo", false, false},
        Case{"%\xC3\xA9%", "caf\xC3\xA9!", true, true},
        Case{"\xC3\x89%", "\xC3\xA9t\xC3\xA9", false, false},  // ILIKE folds ASCII only
        Case{"_%_", "\xF0\x9F\x98\x80\xF0\x9F\x98\x80", true, true},
        Case{"_", "\xF0\x9F\x98\x80", true, true},
        Case{"%Z", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", false, true}));

TEST(Like, PathologicalPatternStaysPolynomial) {
  std::string text(2000, 'a');
  LikePattern p("%a%a%a%a%a%a%a%a%b", false);
  EXPECT_FALSE(p.matches(text));
}

}  // namespace
}  // namespace tracefeed::filter
