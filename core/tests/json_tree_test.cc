#include "core/json_tree.h"

#include <gtest/gtest.h>

namespace tracefeed {
namespace {

TEST(JsonTree, ParsesAndWritesBack) {
  auto v = parse_json(R"({"name":"r1","rate":0.5,"on":true,"tags":["a","b"],"none":null,"n":{"k":3}})");
  ASSERT_TRUE(v.is_ok()) << v.status().to_string();
  ASSERT_NE(v->find("name"), nullptr);
  EXPECT_EQ(v->find("name")->as_string(), "r1");
  EXPECT_EQ(v->find("rate")->as_number(), 0.5);
  EXPECT_TRUE(v->find("on")->as_bool());
  EXPECT_EQ(v->find("tags")->as_array().size(), 2u);
  EXPECT_EQ(v->find("none"), nullptr);  // null counts as absent
  EXPECT_EQ(v->find("missing"), nullptr);
  EXPECT_EQ(v->find("n")->find("k")->as_number(), 3);
  EXPECT_EQ(v->to_json(), R"({"name":"r1","rate":0.5,"on":true,"tags":["a","b"],"none":null,"n":{"k":3}})");
  EXPECT_EQ(v->find("tags")->type_name(), "an array");
}

TEST(JsonTree, MalformedInputIsAnError) {
  auto v = parse_json(R"({"name": )");
  ASSERT_FALSE(v.is_ok());
  EXPECT_EQ(v.status().code(), ErrorCode::invalid_argument);
  EXPECT_NE(v.status().message().find("malformed JSON"), std::string::npos);
}

}  // namespace
}  // namespace tracefeed
