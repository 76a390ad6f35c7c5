// The LLM judge against a local OpenAI-compatible test server: the request it sends, strict
// parsing of the answers, retries, the cache, the concurrency bound and timeouts.
#include "processors/evaluate/judge.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

#include "processors/evaluate/scorers.h"
#include "processors/evaluate/tests/fake_servers.h"

namespace tracefeed::evaluate {
namespace {

using namespace std::chrono_literals;
using testing::FakeOpenAi;
using testing::Gate;
using testing::verdict_json;

constexpr const char* kKeyEnv = "TRACEFEED_EVALUATE_TEST_JUDGE_KEY";

JudgeOptions options_for(const FakeOpenAi& server) {
  ::setenv(kKeyEnv, "sk-test-123", 1);
  JudgeOptions o;
  o.base_url = server.base_url();
  o.model = "judge-model-7";
  o.api_key_env = kKeyEnv;
  o.timeout = 5s;
  o.max_retries = 2;
  o.backoff_initial = 1ms;  // retries are tested for their count, not their pacing
  o.backoff_max = 5ms;
  return o;
}

std::unique_ptr<ChatCompletionsJudge> make_judge(const JudgeOptions& o) {
  auto j = ChatCompletionsJudge::create(o);
  EXPECT_TRUE(j.is_ok()) << j.status().to_string();
  return j.is_ok() ? std::move(j).value() : nullptr;
}

TEST(Judge, SendsAChatCompletionWithTheKeyAndParsesTheVerdict) {
  FakeOpenAi server([](const std::string& prompt, http::Response&) {
    return verdict_json(prompt.find("open-source") != std::string::npos, "Let's think step by step. Matches.");
  });
  auto judge = make_judge(options_for(server));
  ASSERT_TRUE(judge);

  PromptLibrary prompts = std::move(PromptLibrary::load()).value();
  ScorerContext ctx;
  ctx.judge = judge.get();
  ctx.prompts = &prompts;
  auto scorer = std::move(make_scorer({"correctness", "correctness", {}, ""}, ctx)).value();
  EvalRecord r;
  r.record_id = r.trace_id = "tr-0123456789abcdef0123456789abcdef";
  r.inputs = R"({"user_question":"What is MLflow?"})";
  r.outputs = "\"MLflow is an open-source platform for the ML lifecycle.\"";
  r.expectations = {{"expected_response", "\"MLflow is an open-source MLOps platform.\""}};
  Score s = scorer->score(r);
  ASSERT_FALSE(s.is_error()) << s.feedback.error->error_message;
  EXPECT_EQ(s.feedback.value, "\"yes\"");
  EXPECT_EQ(s.rationale, "Let's think step by step. Matches.");
  EXPECT_EQ(s.source.source_type, SourceType::llm_judge);
  EXPECT_EQ(s.source.source_id, "judge-model-7");

  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].authorization, "Bearer sk-test-123");
  auto body = parse_json(requests[0].body);
  ASSERT_TRUE(body.is_ok()) << requests[0].body;
  EXPECT_EQ(body->find("model")->as_string(), "judge-model-7");
  EXPECT_EQ(body->find("temperature")->as_number(), 0);
  const auto& messages = body->find("messages")->as_array();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].find("role")->as_string(), "user");
  const std::string& prompt = messages[0].find("content")->as_string();
  EXPECT_NE(prompt.find("<question>What is MLflow?</question>"), std::string::npos) << prompt;
  EXPECT_NE(prompt.find("<reference_answer>MLflow is an open-source MLOps platform.</reference_answer>"), std::string::npos);
  EXPECT_NE(prompt.find("<app_answer>MLflow is an open-source platform for the ML lifecycle.</app_answer>"), std::string::npos);
}

TEST(Judge, BadAnswersBecomeParseErrorsNeverVerdicts) {
  const std::vector<std::string> answers = {
      "Yes, it is correct.",                          // prose
      R"({"rationale": "fine", "result": "mostly"})", // not yes/no
      R"({"result": "yes"})",                         // no rationale
      R"({"rationale": "fine", "result": "yes"} Hope this helps!)",
  };
  for (const auto& answer : answers) {
    FakeOpenAi server([&](const std::string&, http::Response&) { return answer; });
    auto judge = make_judge(options_for(server));
    auto v = judge->ask("prompt");
    ASSERT_FALSE(v.is_ok()) << answer;
    EXPECT_EQ(v.status().code(), ErrorCode::invalid_argument) << answer;
    EXPECT_EQ(server.request_count(), 1u) << "a bad answer is not retried: " << answer;
    EXPECT_EQ(judge->stats().parse_errors, 1u);
  }
  // Not a chat completion at all.
  FakeOpenAi odd([](const std::string&, http::Response& res) {
    res.json(200, R"({"object":"error","message":"model overloaded"})");
    return std::string();
  });
  auto judge = make_judge(options_for(odd));
  auto v = judge->ask("prompt");
  ASSERT_FALSE(v.is_ok());
  EXPECT_EQ(v.status().code(), ErrorCode::invalid_argument);
  EXPECT_NE(v.status().message().find("choices"), std::string::npos);
}

TEST(Judge, RetriesServerErrorsThenSucceeds) {
  std::atomic<int> calls{0};
  FakeOpenAi server([&](const std::string&, http::Response& res) {
    if (++calls <= 2) {
      res.json(503, R"({"error":{"message":"overloaded"}})");
      return std::string();
    }
    return verdict_json(false, "Not supported.");
  });
  auto judge = make_judge(options_for(server));
  auto v = judge->ask("prompt");
  ASSERT_TRUE(v.is_ok()) << v.status().to_string();
  EXPECT_FALSE(v->yes);
  EXPECT_EQ(server.request_count(), 3u);
}

TEST(Judge, GivesUpAfterMaxRetriesAndNamesTheStatus) {
  FakeOpenAi server([&](const std::string&, http::Response& res) {
    res.json(500, R"({"error":"boom"})");
    return std::string();
  });
  auto judge = make_judge(options_for(server));
  auto v = judge->ask("prompt");
  ASSERT_FALSE(v.is_ok());
  EXPECT_NE(v.status().code(), ErrorCode::invalid_argument);
  EXPECT_NE(v.status().message().find("HTTP 500"), std::string::npos) << v.status().message();
  EXPECT_EQ(server.request_count(), 3u);  // 1 + max_retries
}

TEST(Judge, UnauthorizedIsNotRetriedAndPointsAtTheKey) {
  FakeOpenAi server([&](const std::string&, http::Response& res) {
    res.json(401, R"({"error":{"message":"Incorrect API key provided"}})");
    return std::string();
  });
  auto judge = make_judge(options_for(server));
  auto v = judge->ask("prompt");
  ASSERT_FALSE(v.is_ok());
  EXPECT_NE(v.status().message().find(kKeyEnv), std::string::npos) << v.status().message();
  EXPECT_EQ(server.request_count(), 1u);
}

TEST(Judge, CachesVerdictsByPrompt) {
  FakeOpenAi server([](const std::string& prompt, http::Response&) { return verdict_json(prompt == "a", "r"); });
  auto judge = make_judge(options_for(server));
  EXPECT_TRUE(judge->ask("a")->yes);
  EXPECT_TRUE(judge->ask("a")->yes);
  EXPECT_FALSE(judge->ask("b")->yes);
  EXPECT_EQ(server.request_count(), 2u);
  EXPECT_EQ(judge->stats().cache_hits, 1u);

  JudgeOptions o = options_for(server);
  o.cache_entries = 1;  // "a" is evicted by "b"
  auto small = make_judge(o);
  (void)small->ask("a");
  (void)small->ask("b");
  (void)small->ask("a");
  EXPECT_EQ(server.request_count(), 5u);
}

TEST(Judge, NeverExceedsMaxConcurrency) {
  // Each request waits (bounded) until two are in flight, so the bound is reached, and the
  // server has threads for more: a third concurrent request would be seen.
  std::atomic<int> in_flight{0}, arrived{0};
  FakeOpenAi server(
      [&](const std::string&, http::Response&) {
        ++in_flight;
        ++arrived;
        testing::wait_until([&] { return in_flight.load() >= 2 || arrived.load() == 6; }, 2s);
        --in_flight;
        return verdict_json(true, "ok");
      },
      /*threads=*/8);
  JudgeOptions o = options_for(server);
  o.max_concurrency = 2;
  auto judge = make_judge(o);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] { ok += judge->ask("prompt " + std::to_string(i)).is_ok() ? 1 : 0; });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 6);
  EXPECT_EQ(server.max_in_flight(), 2);
}

TEST(Judge, TimesOutAndIsCancellable) {
  Gate gate;
  FakeOpenAi server([&](const std::string&, http::Response&) {
    gate.wait(10s);
    return verdict_json(true, "late");
  });
  JudgeOptions o = options_for(server);
  o.timeout = 200ms;
  o.max_retries = 0;
  auto judge = make_judge(o);
  auto v = judge->ask("prompt");
  ASSERT_FALSE(v.is_ok());
  EXPECT_EQ(v.status().code(), ErrorCode::timeout) << v.status().to_string();

  // cancel() interrupts a call that is waiting for its answer.
  o.timeout = 30s;
  auto slow = make_judge(o);
  std::thread caller([&] {
    auto r = slow->ask("prompt 2");
    EXPECT_FALSE(r.is_ok());
  });
  ASSERT_TRUE(testing::wait_until([&] { return server.request_count() == 2; }));
  slow->cancel();
  caller.join();  // returns long before the 30 s timeout
  EXPECT_FALSE(slow->ask("prompt 3").is_ok());
  gate.open();
}

TEST(Judge, UnavailableWithoutBaseUrlOrKey) {
  JudgeOptions o;
  o.base_url = "";
  EXPECT_NE(judge_unavailable_reason(o).find("evaluation.judge.enabled is false"), std::string::npos);
  o.base_url = "https://api.openai.com/v1";
  o.api_key_env = "TRACEFEED_EVALUATE_TEST_UNSET_VARIABLE";
  ::unsetenv(o.api_key_env.c_str());
  const std::string why = judge_unavailable_reason(o);
  EXPECT_NE(why.find("TRACEFEED_EVALUATE_TEST_UNSET_VARIABLE"), std::string::npos) << why;
  EXPECT_FALSE(ChatCompletionsJudge::create(o).is_ok());
  o.api_key_env = "";  // a local endpoint that needs no key
  EXPECT_EQ(judge_unavailable_reason(o), "");
  o.base_url = "ftp://nope";
  EXPECT_FALSE(ChatCompletionsJudge::create(o).is_ok());
}

}  // namespace
}  // namespace tracefeed::evaluate
