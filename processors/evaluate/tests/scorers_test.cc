// Deterministic scorers, the correctness fallback, records from traces, scorer specs, and the
// judge scorers' prompts (through a fake Judge; the HTTP judge is in judge_test.cc).
#include "processors/evaluate/scorers.h"

#include <gtest/gtest.h>

#include <mutex>

#include "core/event_json.h"

namespace tracefeed::evaluate {
namespace {

EvalRecord record(const std::string& outputs, std::vector<std::pair<std::string, JsonText>> expectations = {}) {
  EvalRecord r;
  r.record_id = "tr-0123456789abcdef0123456789abcdef";
  r.trace_id = r.record_id;
  r.inputs = R"({"user_question":"What is MLflow?"})";
  r.outputs = outputs;
  r.expectations = std::move(expectations);
  return r;
}

ScorerSpec spec(const std::string& json) {
  auto tree = parse_json(json);
  EXPECT_TRUE(tree.is_ok()) << json;
  auto s = parse_scorer_spec(*tree, "scorers[0]");
  EXPECT_TRUE(s.is_ok()) << s.status().to_string();
  return s.is_ok() ? *s : ScorerSpec{};
}

std::unique_ptr<Scorer> make(const std::string& json, const ScorerContext& ctx = {}) {
  auto s = make_scorer(spec(json), ctx);
  EXPECT_TRUE(s.is_ok()) << s.status().to_string();
  return s.is_ok() ? std::move(s).value() : nullptr;
}

ScorerContext no_judge() {
  ScorerContext ctx;
  ctx.judge_unavailable = "no judge configured: environment variable OPENAI_API_KEY is not set";
  return ctx;
}

std::string error_code(const Score& s) { return s.feedback.error ? s.feedback.error->error_code : ""; }

// A judge that answers from a function and records the prompts it got.
class FakeJudge final : public Judge {
 public:
  explicit FakeJudge(std::function<Result<Verdict>(const std::string&)> answer) : _answer(std::move(answer)) {}
  const std::string& model() const noexcept override { return _model; }
  Result<Verdict> ask(const std::string& prompt) override {
    std::lock_guard lock(_mu);
    prompts.push_back(prompt);
    return _answer(prompt);
  }
  std::vector<std::string> prompts;

 private:
  std::mutex _mu;
  std::string _model = "fake-judge-1";
  std::function<Result<Verdict>(const std::string&)> _answer;
};

// ---- records ---------------------------------------------------------------------------------

Trace parse_trace(const std::string& json) {
  EventParser p;
  Trace t;
  Status s = p.parse_trace(json, t);
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  return t;
}

Assessment expectation(const std::string& id, const std::string& name, const std::string& value, int64_t updated, bool valid = true) {
  Assessment a;
  a.assessment_id = id;
  a.assessment_name = name;
  a.trace_id = "tr-0123456789abcdef0123456789abcdef";
  a.value = Expectation{value};
  a.last_update_time = updated;
  a.valid = valid;
  return a;
}

TEST(Record, FromTraceTakesRootSpanLatestValidExpectationsAndRetrievers) {
  Trace t = parse_trace(R"({"trace_info":{"trace_id":"tr-0123456789abcdef0123456789abcdef","execution_duration":"1.250s"},"spans":[
    {"span_id":"00000000000000a1","name":"my_chatbot","span_type":"CHAIN","inputs":{"user_question":"What is MLflow?"},"outputs":"MLflow is a platform."},
    {"span_id":"00000000000000a2","parent_span_id":"00000000000000a1","name":"retrieve_context","span_type":"RETRIEVER","outputs":"MLflow is open source."}]})");
  t.trace_info.assessments.push_back(expectation("a-1", "expected_response", "\"old\"", 1));
  t.trace_info.assessments.push_back(expectation("a-2", "expected_response", "\"newest\"", 3));
  t.trace_info.assessments.push_back(expectation("a-3", "expected_response", "\"overridden\"", 9, /*valid=*/false));
  Assessment fb;
  fb.assessment_name = "user_feedback";
  fb.value = Feedback{"false", std::nullopt};
  t.trace_info.assessments.push_back(fb);

  EvalRecord r = record_from_trace(std::make_shared<const Trace>(t));
  EXPECT_FALSE(r.has_error());
  EXPECT_EQ(r.trace_id, "tr-0123456789abcdef0123456789abcdef");
  EXPECT_EQ(r.inputs, R"({"user_question":"What is MLflow?"})");
  EXPECT_EQ(r.outputs, "\"MLflow is a platform.\"");
  ASSERT_EQ(r.expectations.size(), 1u);  // feedback is not an expectation
  EXPECT_EQ(*r.expectation("expected_response"), "\"newest\"");
  ASSERT_EQ(r.retrievals.size(), 1u);
  EXPECT_EQ(r.retrievals[0].span_id, "00000000000000a2");
  ASSERT_TRUE(r.latency_ms.has_value());
  EXPECT_DOUBLE_EQ(*r.latency_ms, 1250.0);
}

TEST(Record, WithoutRootSpanIsAnError) {
  Trace t = parse_trace(R"({"trace_info":{"trace_id":"tr-0123456789abcdef0123456789abcdef"},"spans":[
    {"span_id":"00000000000000a2","parent_span_id":"00000000000000a1","name":"child"}]})");
  EvalRecord r = record_from_trace(std::make_shared<const Trace>(t));
  EXPECT_EQ(r.error_code, "NO_ROOT_SPAN");
}

TEST(Record, FromADatasetLine) {
  auto r = record_from_dataset_line(
      R"({"dataset_record_id":"dr-1","dataset_name":"golden","inputs":{"user_question":"q"},"outputs":"a",)"
      R"("expectations":{"expected_response":"a","expected_facts":["f"]},"source":{"source_type":"TRACE","source_data":{"trace_id":"tr-0123456789abcdef0123456789abcdef"}}})");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->record_id, "dr-1");
  EXPECT_EQ(r->trace_id, "tr-0123456789abcdef0123456789abcdef");
  EXPECT_EQ(r->inputs, R"({"user_question":"q"})");
  EXPECT_EQ(r->outputs, "\"a\"");
  EXPECT_EQ(*r->expectation("expected_facts"), R"(["f"])");
  EXPECT_FALSE(r->has_error());
  auto no_outputs = record_from_dataset_line(R"({"dataset_record_id":"dr-2","inputs":{"q":1},"outputs":null})");
  ASSERT_TRUE(no_outputs.is_ok());
  EXPECT_TRUE(no_outputs->outputs.empty());
  EXPECT_FALSE(no_outputs->has_error());
  EXPECT_EQ(no_outputs->trace_id, "");
  EXPECT_FALSE(record_from_dataset_line("[1]").is_ok());
  EXPECT_FALSE(record_from_dataset_line(R"({"expectations":[1]})").is_ok());
}

TEST(Record, TextOfCommonShapes) {
  EXPECT_EQ(text_of("\"plain\""), "plain");
  EXPECT_EQ(text_of("\"with \\\"escapes\\\"\""), "with \"escapes\"");
  EXPECT_EQ(text_of(R"({"user_question":"What is MLflow?"})"), "What is MLflow?");
  EXPECT_EQ(text_of(R"({"choices":[{"message":{"role":"assistant","content":"It is a platform."}}],"model":"m"})"),
            "It is a platform.");
  EXPECT_EQ(text_of(R"({"messages":[{"role":"system","content":"s"},{"role":"user","content":"hi"}]})"), "hi");
  EXPECT_EQ(text_of(R"(["a","b"])"), "a\nb");
  EXPECT_EQ(text_of(R"([{"page_content":"doc one","metadata":{}},{"page_content":"doc two"}])"), "doc one\ndoc two");
  EXPECT_EQ(text_of("42"), "42");
  EXPECT_EQ(text_of(R"({"a":1,"b":2})"), R"({"a":1,"b":2})");
  EXPECT_EQ(text_of(""), "");
  EXPECT_EQ(strings_of(R"(["f1","f2"])"), (std::vector<std::string>{"f1", "f2"}));
  EXPECT_EQ(strings_of("\"one\""), (std::vector<std::string>{"one"}));
}

// ---- deterministic scorers -------------------------------------------------------------------

TEST(ExactMatch, ComparesNormalizedText) {
  auto s = make(R"("exact_match")");
  Score yes = s->score(record("\"The answer: MLflow!\"", {{"expected_response", "\"answer mlflow\""}}));
  EXPECT_EQ(yes.feedback.value, "\"yes\"");
  EXPECT_EQ(yes.source.source_type, SourceType::code);
  EXPECT_EQ(yes.source.source_id, "exact_match");
  Score no = s->score(record("\"MLflow is great\"", {{"expected_response", "\"MLflow is open source\""}}));
  EXPECT_EQ(no.feedback.value, "\"no\"");
  EXPECT_NE(no.rationale.find("token 3: \"great\" instead of \"open\""), std::string::npos) << no.rationale;
  EXPECT_EQ(error_code(s->score(record("\"x\""))), "MISSING_EXPECTATION");
  EXPECT_EQ(error_code(s->score(record("", {{"expected_response", "\"x\""}}))), "MISSING_OUTPUTS");
}

TEST(TokenF1, ScoresOverlap) {
  auto s = make(R"("token_f1")");
  Score sc = s->score(record("\"red red green blue yellow\"", {{"expected_response", "\"red green blue purple\""}}));
  ASSERT_FALSE(sc.is_error());
  ASSERT_TRUE(sc.numeric().has_value());
  EXPECT_NEAR(*sc.numeric(), 2 * 0.6 * 0.75 / 1.35, 1e-9);
  EXPECT_NE(sc.rationale.find("3 of 5 output tokens"), std::string::npos) << sc.rationale;
  EXPECT_FALSE(sc.is_yes_no());
  Score same = s->score(record("\"Same words\"", {{"expected_response", "\"same, words.\""}}));
  EXPECT_EQ(*same.numeric(), 1.0);
}

TEST(ExpectedFactsCoverage, ShareOfFactsStated) {
  auto s = make(R"("expected_facts_coverage")");
  Score sc = s->score(record("\"MLflow is an open-source platform for experiment tracking.\"",
                             {{"expected_facts", R"(["MLflow is open source","It tracks experiments","It has a model registry"])"}}));
  ASSERT_FALSE(sc.is_error()) << sc.feedback.error->error_message;
  // "It tracks experiments": "tracks" and "experiments" do not match "tracking"/"experiment":
  // token matching is literal, which is why correctness prefers a judge.
  EXPECT_NEAR(*sc.numeric(), 1.0 / 3.0, 1e-9);
  EXPECT_NE(sc.rationale.find("1 of 3 expected facts"), std::string::npos) << sc.rationale;
  EXPECT_NE(sc.rationale.find("\"It has a model registry\""), std::string::npos) << sc.rationale;
  EXPECT_EQ(error_code(s->score(record("\"x\"", {{"expected_facts", "[]"}}))), "MISSING_EXPECTATION");
  EXPECT_EQ(error_code(s->score(record("\"x\""))), "MISSING_EXPECTATION");
}

TEST(LatencyMs, FromTheRecord) {
  auto s = make(R"("latency_ms")");
  EvalRecord r = record("\"x\"");
  EXPECT_EQ(error_code(s->score(r)), "MISSING_LATENCY");
  r.latency_ms = 1250.4567;
  Score sc = s->score(r);
  EXPECT_DOUBLE_EQ(*sc.numeric(), 1250.457);
  EXPECT_NE(sc.rationale.find("The trace took 1250.5 ms"), std::string::npos) << sc.rationale;
  r.outputs_predicted = true;
  EXPECT_NE(s->score(r).rationale.find("predict call"), std::string::npos);
}

// ---- correctness without a judge -------------------------------------------------------------

TEST(Correctness, FallsBackToTokenRecallWithoutAJudge) {
  auto s = make(R"("correctness")", no_judge());
  const JsonText expected = "\"MLflow is an open-source platform for the machine learning lifecycle\"";
  // All 9 normalized reference tokens are in the (longer) answer.
  Score yes = s->score(record("\"MLflow is an open-source platform for the machine learning lifecycle, with tracking and a registry.\"",
                              {{"expected_response", expected}}));
  EXPECT_EQ(yes.feedback.value, "\"yes\"");
  EXPECT_EQ(yes.source.source_type, SourceType::code);
  EXPECT_EQ(yes.source.source_id, "correctness");
  EXPECT_EQ(yes.rationale.rfind("Deterministic fallback (no judge configured", 0), 0u) << yes.rationale;
  // 6 of 9 tokens: below 0.8.
  Score no = s->score(record("\"MLflow is a platform for machine learning\"", {{"expected_response", expected}}));
  EXPECT_EQ(no.feedback.value, "\"no\"");
  EXPECT_NE(no.rationale.find("recall 0.667 < 0.800"), std::string::npos) << no.rationale;
}

TEST(Correctness, FallbackWithFactsNeedsEveryFact) {
  auto s = make(R"("correctness")", no_judge());
  const JsonText facts = R"(["MLflow is open source","MLflow manages the ML lifecycle"])";
  Score yes = s->score(record("\"MLflow is open source and manages the ML lifecycle\"", {{"expected_facts", facts}}));
  EXPECT_EQ(yes.feedback.value, "\"yes\"") << yes.rationale;
  Score no = s->score(record("\"MLflow is open source\"", {{"expected_facts", facts}}));
  EXPECT_EQ(no.feedback.value, "\"no\"");
  EXPECT_NE(no.rationale.find("missing: \"MLflow manages the ML lifecycle\""), std::string::npos) << no.rationale;
  EXPECT_EQ(error_code(s->score(record("\"x\""))), "MISSING_EXPECTATION");
}

TEST(JudgeScorers, SayClearlyThatThereIsNoJudge) {
  for (const char* json : {R"("relevance_to_query")", R"("retrieval_groundedness")", R"("expectations_guidelines")",
                           R"({"name":"english","type":"guidelines","guidelines":["Answer in English"]})"}) {
    auto s = make(json, no_judge());
    Score sc = s->score(record("\"x\"", {{"expected_response", "\"x\""}}));
    EXPECT_EQ(error_code(sc), "JUDGE_NOT_CONFIGURED") << json;
    EXPECT_NE(sc.feedback.error->error_message.find("OPENAI_API_KEY"), std::string::npos);
    EXPECT_EQ(sc.source.source_type, SourceType::llm_judge);
  }
}

// ---- judge scorers through a fake judge --------------------------------------------------------

struct JudgeFixture {
  PromptLibrary prompts = std::move(PromptLibrary::load()).value();
  FakeJudge judge{[](const std::string& prompt) -> Result<Verdict> {
    if (prompt.find("BROKEN") != std::string::npos) return Status::invalid_argument("judge answer: \"result\" is missing");
    if (prompt.find("DOWN") != std::string::npos) return Status::unavailable("judge: HTTP 503");
    return Verdict{prompt.find("open-source") != std::string::npos, "Because."};
  }};
  ScorerContext ctx() {
    ScorerContext c;
    c.judge = &judge;
    c.prompts = &prompts;
    return c;
  }
};

TEST(JudgeScorers, CorrectnessPromptCarriesQuestionAnswerAndReference) {
  JudgeFixture f;
  auto s = make(R"("Correctness")", f.ctx());
  EXPECT_EQ(s->name(), "correctness");
  Score sc = s->score(record("\"MLflow is an open-source platform.\"", {{"expected_response", "\"An ML platform\""}}));
  EXPECT_EQ(sc.feedback.value, "\"yes\"");
  EXPECT_EQ(sc.rationale, "Because.");
  EXPECT_EQ(sc.source.source_type, SourceType::llm_judge);
  EXPECT_EQ(sc.source.source_id, "fake-judge-1");
  ASSERT_EQ(f.judge.prompts.size(), 1u);
  const std::string& p = f.judge.prompts[0];
  EXPECT_NE(p.find("<question>What is MLflow?</question>"), std::string::npos) << p;
  EXPECT_NE(p.find("<reference_answer>An ML platform</reference_answer>"), std::string::npos) << p;
  EXPECT_NE(p.find("<app_answer>MLflow is an open-source platform.</app_answer>"), std::string::npos) << p;
}

TEST(JudgeScorers, CorrectnessWithFactsListsThem) {
  JudgeFixture f;
  auto s = make(R"("correctness")", f.ctx());
  Score sc = s->score(record("\"x\"", {{"expected_facts", R"(["fact one","fact two"])"}}));
  EXPECT_EQ(sc.feedback.value, "\"no\"");
  ASSERT_EQ(f.judge.prompts.size(), 1u);
  EXPECT_NE(f.judge.prompts[0].find("<expected_facts>\n- fact one\n- fact two</expected_facts>"), std::string::npos)
      << f.judge.prompts[0];
}

TEST(JudgeScorers, JudgeFailuresBecomeErrorScores) {
  JudgeFixture f;
  auto s = make(R"("relevance_to_query")", f.ctx());
  EvalRecord r = record("\"BROKEN\"");
  EXPECT_EQ(error_code(s->score(r)), "JUDGE_PARSE_ERROR");
  r.outputs = "\"DOWN\"";
  EXPECT_EQ(error_code(s->score(r)), "JUDGE_ERROR");
  r.inputs.clear();
  EXPECT_EQ(error_code(s->score(r)), "MISSING_INPUTS");
}

TEST(JudgeScorers, GroundednessNeedsARetrieverSpanAndNamesIt) {
  JudgeFixture f;
  auto s = make(R"("retrieval_groundedness")", f.ctx());
  EvalRecord r = record("\"MLflow is open-source.\"");
  EXPECT_EQ(error_code(s->score(r)), "MISSING_RETRIEVER_SPAN");
  r.retrievals.push_back({"00000000000000a2", R"([{"page_content":"MLflow is an open-source platform."}])"});
  Score sc = s->score(r);
  EXPECT_EQ(sc.feedback.value, "\"yes\"");
  EXPECT_EQ(sc.span_id, "00000000000000a2");
  EXPECT_NE(f.judge.prompts.back().find("<retrieved_documents>MLflow is an open-source platform.</retrieved_documents>"),
            std::string::npos)
      << f.judge.prompts.back();
}

TEST(JudgeScorers, GuidelinesFromSpecAndFromExpectations) {
  JudgeFixture f;
  auto g = make(R"({"name":"english","type":"guidelines","guidelines":["Answer in English","Be brief"]})", f.ctx());
  EXPECT_EQ(g->name(), "english");
  (void)g->score(record("\"x\""));
  EXPECT_NE(f.judge.prompts.back().find("<guidelines>\n- Answer in English\n- Be brief\n</guidelines>"), std::string::npos)
      << f.judge.prompts.back();
  auto eg = make(R"("expectations_guidelines")", f.ctx());
  EXPECT_EQ(error_code(eg->score(record("\"x\""))), "MISSING_EXPECTATION");
  (void)eg->score(record("\"x\"", {{"guidelines", R"(["Cite the docs"])"}}));
  EXPECT_NE(f.judge.prompts.back().find("- Cite the docs"), std::string::npos);
}

TEST(JudgeScorers, LongFieldsAreClipped) {
  JudgeFixture f;
  ScorerContext ctx = f.ctx();
  ctx.scoring.max_prompt_field_bytes = 300;
  auto s = make(R"("relevance_to_query")", ctx);
  (void)s->score(record("\"" + std::string(5000, 'x') + "\""));
  EXPECT_LT(f.judge.prompts.back().size(), 3000u);
  EXPECT_NE(f.judge.prompts.back().find("[truncated]"), std::string::npos);
}

// ---- specs -------------------------------------------------------------------------------------

TEST(ScorerSpec, Forms) {
  EXPECT_EQ(spec(R"("correctness")"), (ScorerSpec{"correctness", "correctness", {}, ""}));
  EXPECT_EQ(spec(R"("RelevanceToQuery")"), (ScorerSpec{"relevance_to_query", "relevance_to_query", {}, ""}));
  EXPECT_EQ(spec(R"({"name":"Correctness"})"), (ScorerSpec{"correctness", "correctness", {}, ""}));
  EXPECT_EQ(spec(R"({"name":"my_correctness","type":"correctness"})"), (ScorerSpec{"my_correctness", "correctness", {}, ""}));
  EXPECT_EQ(spec(R"({"name":"english","type":"guidelines","guidelines":"Answer in English"})"),
            (ScorerSpec{"english", "guidelines", {"Answer in English"}, ""}));
  EXPECT_EQ(spec(R"({"name":"mine","type":"http","url":"http://127.0.0.1:9/score"})"),
            (ScorerSpec{"mine", "http", {}, "http://127.0.0.1:9/score"}));
}

TEST(ScorerSpec, ErrorsNameTheField) {
  auto err = [](const std::string& json) {
    auto tree = parse_json(json);
    EXPECT_TRUE(tree.is_ok());
    auto s = parse_scorer_specs(*tree, "scorers");
    EXPECT_FALSE(s.is_ok()) << json;
    return s.status().message();
  };
  EXPECT_NE(err(R"(["nope"])").find("scorers[0]: unknown scorer \"nope\""), std::string::npos);
  EXPECT_NE(err(R"([{"name":"english","guidelines":["x"]}])").find("give its \"type\" too"), std::string::npos);
  EXPECT_NE(err(R"([{"name":"g","type":"guidelines"}])").find("scorers[0].guidelines: required"), std::string::npos);
  EXPECT_NE(err(R"([{"name":"a.b","type":"token_f1"}])").find("scorers[0].name"), std::string::npos);
  EXPECT_NE(err(R"([{"name":"x","type":"http"}])").find("scorers[0].url: required"), std::string::npos);
  EXPECT_NE(err(R"([{"name":"x","type":"http","url":"ftp://x"}])").find("scorers[0].url"), std::string::npos);
  EXPECT_NE(err(R"([{"name":"x","type":"token_f1","colour":1}])").find("scorers[0].colour: unknown field"), std::string::npos);
  EXPECT_NE(err(R"(["token_f1","token_f1"])").find("scorers[1]: scorer name \"token_f1\" is used twice"), std::string::npos);
  EXPECT_NE(err(R"([])").find("at least one scorer"), std::string::npos);
  EXPECT_NE(err(R"([3])").find("scorers[0]: expected a scorer name"), std::string::npos);
}

TEST(ScorerSpec, NormalizedFromCode) {
  auto s = normalize_scorer_spec({"Correctness", "", {}, ""}, "rules[0].scorers[0]");
  ASSERT_TRUE(s.is_ok()) << s.status().to_string();
  EXPECT_EQ(*s, (ScorerSpec{"correctness", "correctness", {}, ""}));
  s = normalize_scorer_spec({"", "token_f1", {}, ""}, "p");
  ASSERT_TRUE(s.is_ok());
  EXPECT_EQ(s->name, "token_f1");
  s = normalize_scorer_spec({"english", "guidelines", {}, ""}, "rules[0].scorers[1]");
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.status().message().find("rules[0].scorers[1].guidelines: required"), std::string::npos) << s.status().message();
  EXPECT_FALSE(normalize_scorer_spec({"", "", {}, ""}, "p").is_ok());
  EXPECT_FALSE(normalize_scorer_spec({"x", "nope", {}, ""}, "p").is_ok());
}

TEST(Score, NumericValues) {
  AssessmentSource src{SourceType::code, "x"};
  EXPECT_EQ(Score::yes_no("a", true, "", src).numeric(), 1.0);
  EXPECT_EQ(Score::yes_no("a", false, "", src).numeric(), 0.0);
  EXPECT_EQ(Score::number("a", 0.25, "", src).numeric(), 0.25);
  EXPECT_FALSE(Score::error("a", "E", "m", src).numeric().has_value());
  Score s;
  s.feedback.value = "true";
  EXPECT_EQ(s.numeric(), 1.0);
  s.feedback.value = "\"Accurate\"";
  EXPECT_FALSE(s.numeric().has_value());
}

}  // namespace
}  // namespace tracefeed::evaluate
