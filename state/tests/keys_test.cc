#include "state/keys.h"

#include <gtest/gtest.h>

namespace tracefeed::state {
namespace {

TEST(Keys, ChildKeyLayout) {
  const std::string key = child_key("tr-1", "span-7");
  EXPECT_EQ(key, std::string("tr-1\0span-7", 11));
  EXPECT_EQ(parent_of(key), "tr-1");
  EXPECT_EQ(child_of(key), "span-7");
  EXPECT_EQ(child_prefix("tr-1"), std::string("tr-1\0", 5));
  EXPECT_TRUE(key.starts_with(child_prefix("tr-1")));
  EXPECT_EQ(parent_of("plain"), "plain");
  EXPECT_EQ(child_of("plain"), "");
}

TEST(Keys, PrefixOfOneTraceNeverMatchesALongerTraceId) {
  EXPECT_FALSE(child_key("tr-12", "a").starts_with(child_prefix("tr-1")));
  // Children of "tr-1" sort before every key of "tr-12".
  EXPECT_LT(child_key("tr-1", "\xff\xff"), child_key("tr-12", ""));
}

TEST(Keys, AssignReusesBuffer) {
  std::string out = "something long enough to keep its capacity around";
  const auto capacity = out.capacity();
  assign_child_key(out, "t", "c");
  EXPECT_EQ(out, std::string("t\0c", 3));
  EXPECT_EQ(out.capacity(), capacity);
}

TEST(Keys, PrefixSuccessor) {
  EXPECT_EQ(prefix_successor("abc"), "abd");
  EXPECT_EQ(prefix_successor(std::string("a\0", 2)), std::string("a\1", 2));
  EXPECT_EQ(prefix_successor("a\xff\xff"), "b");
  EXPECT_EQ(prefix_successor("\xff"), "");
  EXPECT_EQ(prefix_successor(""), "");
}

}  // namespace
}  // namespace tracefeed::state
