#include "processors/evaluate/verdict.h"

#include <gtest/gtest.h>

namespace tracefeed::evaluate {
namespace {

TEST(Verdict, ParsesTheAskedForObject) {
  auto v = parse_verdict(R"({"rationale": "Let's think step by step. It matches.", "result": "yes"})");
  ASSERT_TRUE(v.is_ok()) << v.status().to_string();
  EXPECT_TRUE(v->yes);
  EXPECT_EQ(v->rationale, "Let's think step by step. It matches.");

  v = parse_verdict("\n  {\"result\": \"No\", \"rationale\": \"Missing facts.\", \"confidence\": 0.9}\n");
  ASSERT_TRUE(v.is_ok()) << v.status().to_string();
  EXPECT_FALSE(v->yes);
}

TEST(Verdict, AcceptsOneCodeFence) {
  auto v = parse_verdict("```json\n{\"rationale\": \"ok\", \"result\": \"yes\"}\n```");
  ASSERT_TRUE(v.is_ok()) << v.status().to_string();
  EXPECT_TRUE(v->yes);
  v = parse_verdict("```\n{\"rationale\": \"ok\", \"result\": \"no\"}\n```\n");
  ASSERT_TRUE(v.is_ok()) << v.status().to_string();
  EXPECT_FALSE(v->yes);
  EXPECT_FALSE(parse_verdict("```json\n{\"rationale\": \"ok\", \"result\": \"yes\"}").is_ok());
}

TEST(Verdict, RejectsEverythingElse) {
  const char* bad[] = {
      "",
      "yes",
      "The answer is yes.",
      R"(Sure! {"rationale": "ok", "result": "yes"})",
      R"({"rationale": "ok", "result": "maybe"})",
      R"({"rationale": "ok", "result": true})",
      R"({"rationale": "ok"})",
      R"({"result": "yes"})",
      R"({"result": "yes", "rationale": ""})",
      R"({"result": "yes", "rationale": 3})",
      R"({"rationale": "ok", "result": "yes"} and more)",
      R"({"rationale": "ok", "result": "yes")",
      R"(["yes"])",
  };
  for (const char* answer : bad) {
    auto v = parse_verdict(answer);
    EXPECT_FALSE(v.is_ok()) << answer;
    if (!v.is_ok()) {
      EXPECT_EQ(v.status().code(), ErrorCode::invalid_argument);
      EXPECT_NE(v.status().message().find("judge answer"), std::string::npos) << v.status().message();
    }
  }
}

TEST(Verdict, ErrorsQuoteTheAnswer) {
  auto v = parse_verdict(R"({"rationale": "hmm", "result": "maybe"})");
  ASSERT_FALSE(v.is_ok());
  EXPECT_NE(v.status().message().find("\"maybe\""), std::string::npos) << v.status().message();
}

TEST(Verdict, ChatCompletionContent) {
  auto c = chat_completion_content(R"({"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"hi"}}]})");
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(*c, "hi");
  EXPECT_FALSE(chat_completion_content("not json").is_ok());
  EXPECT_FALSE(chat_completion_content(R"({"choices":[]})").is_ok());
  EXPECT_FALSE(chat_completion_content(R"({"choices":[{"message":{"content":null}}]})").is_ok());
  auto e = chat_completion_content(R"({"error":{"message":"quota"}})");
  ASSERT_FALSE(e.is_ok());
  EXPECT_NE(e.status().message().find("choices"), std::string::npos);
}

}  // namespace
}  // namespace tracefeed::evaluate
