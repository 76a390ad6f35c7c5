#include "producers/sdk/json_value.h"

#include <gtest/gtest.h>

namespace tracefeed {
namespace {

TEST(JsonValue, ScalarsAndStrings) {
  EXPECT_EQ(JsonValue().text(), "null");
  EXPECT_TRUE(JsonValue().is_null());
  EXPECT_EQ(JsonValue(nullptr).text(), "null");
  EXPECT_EQ(JsonValue(true).text(), "true");
  EXPECT_EQ(JsonValue(false).text(), "false");
  EXPECT_EQ(JsonValue(-7).text(), "-7");
  EXPECT_EQ(JsonValue(uint64_t{18446744073709551615ULL}).text(), "18446744073709551615");
  EXPECT_EQ(JsonValue(2.5).text(), "2.5");
  EXPECT_EQ(JsonValue("a\"b\n").text(), R"("a\"b\n")");
  EXPECT_EQ(JsonValue(std::string("x")).text(), R"("x")");
}

TEST(JsonValue, InvalidUtf8IsReplacedNotEmitted) {
  EXPECT_EQ(JsonValue(std::string_view("ok\xff!")).text(), "\"ok\xEF\xBF\xBD!\"");
  EXPECT_EQ(JsonValue("h\xC3\xA9").text(), "\"h\xC3\xA9\"");
}

TEST(JsonValue, ObjectsAndArrays) {
  auto v = JsonValue::object({{"q", "What is MLflow?"}, {"n", 3}, {"list", JsonValue::array({true, nullptr})}});
  EXPECT_EQ(v.text(), R"({"q":"What is MLflow?","n":3,"list":[true,null]})");
  EXPECT_EQ(JsonValue::array({}).text(), "[]");
  EXPECT_EQ(JsonValue::object({}).text(), "{}");
}

TEST(JsonValue, ParseCanonicalisesAndRejects) {
  auto v = JsonValue::parse(R"( { "a" : [1, 2.50, "x"], "b": {"c": null} } )");
  ASSERT_TRUE(v.is_ok()) << v.status().to_string();
  EXPECT_EQ(v->text(), R"({"a":[1,2.5,"x"],"b":{"c":null}})");
  EXPECT_EQ(JsonValue::parse("{").status().code(), ErrorCode::invalid_argument);
  EXPECT_EQ(JsonValue::parse(R"(1} , {"x": 2)").status().code(), ErrorCode::invalid_argument);
  EXPECT_EQ(JsonValue::parse("\"\xff\"").status().code(), ErrorCode::invalid_argument);
  std::string deep(100, '[');
  deep += std::string(100, ']');
  EXPECT_EQ(JsonValue::parse(deep).status().code(), ErrorCode::invalid_argument);
}

}  // namespace
}  // namespace tracefeed
