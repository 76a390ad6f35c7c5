#include "processors/evaluate/evaluation.h"

#include <gtest/gtest.h>

namespace tracefeed::evaluate {
namespace {

Result<EvaluationRequest> parse(const std::string& json, size_t limit = 1000) {
  auto tree = parse_json(json);
  EXPECT_TRUE(tree.is_ok()) << json;
  return parse_evaluation_request(*tree, limit);
}

std::string error_of(const std::string& json) {
  auto r = parse(json);
  EXPECT_FALSE(r.is_ok()) << json;
  return r.status().message();
}

TEST(EvaluationRequest, ParsesEachSource) {
  auto r = parse(R"({"labeling_session_id":"quickstart_review","scorers":["correctness"],"predict_url":"http://127.0.0.1:5000/predict"})");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->source.kind, RecordSource::Kind::labeling_session);
  EXPECT_EQ(r->source.value, "quickstart_review");
  EXPECT_EQ(r->predict_url, "http://127.0.0.1:5000/predict");
  ASSERT_EQ(r->scorers.size(), 1u);

  r = parse(R"({"dataset":{"name":"golden","version":3},"scorers":["token_f1"],"max_records":10})");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->source.kind, RecordSource::Kind::dataset);
  EXPECT_EQ(r->source.dataset_version, 3);
  EXPECT_EQ(r->max_records, 10u);

  r = parse(R"({"filter":"feedback.user_feedback = false","scorers":["exact_match"],"evaluation_id":"nightly-1"})");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->source.kind, RecordSource::Kind::filter);
  EXPECT_EQ(r->evaluation_id, "nightly-1");
}

TEST(EvaluationRequest, ErrorsNameTheField) {
  EXPECT_NE(error_of(R"({"scorers":["correctness"]})").find("one of labeling_session_id, dataset or filter"), std::string::npos);
  EXPECT_NE(error_of(R"({"filter":"","dataset":"d","scorers":["correctness"]})").find("only one of"), std::string::npos);
  EXPECT_NE(error_of(R"({"filter":"feedback.x == 1","scorers":["correctness"]})").find("filter: column"), std::string::npos);
  EXPECT_NE(error_of(R"({"labeling_session_id":"s"})").find("scorers: required"), std::string::npos);
  EXPECT_NE(error_of(R"({"labeling_session_id":"s","scorers":["nope"]})").find("scorers[0]"), std::string::npos);
  EXPECT_NE(error_of(R"({"labeling_session_id":"s","scorers":["correctness"],"predict_url":"localhost:5000"})").find("predict_url"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"labeling_session_id":"s","scorers":["correctness"],"max_records":0})").find("max_records"), std::string::npos);
  EXPECT_NE(error_of(R"({"labeling_session_id":"s","scorers":["correctness"],"max_records":5000})").find("1..1000"), std::string::npos);
  EXPECT_NE(error_of(R"({"labeling_session_id":"s","scorers":["correctness"],"evaluation_id":"a/b"})").find("evaluation_id"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"labeling_session_id":"s","scorers":["correctness"],"run_id":"x"})").find("run_id: unknown field"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"dataset":{"name":"d","version":1.5},"scorers":["correctness"]})").find("dataset.version"), std::string::npos);
  EXPECT_NE(error_of(R"([1])").find("body"), std::string::npos);
}

TEST(EvaluationRequest, RoundTripsThroughItsStoredForm) {
  auto r = parse(R"({"name":"n","dataset":{"name":"golden","version":2},"scorers":["Correctness",{"name":"english","type":"guidelines","guidelines":["g"]}],"predict_url":"https://app.example.com/predict","max_records":7})");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  std::string json;
  JsonWriter w(json);
  r->write(w);
  auto again = parse(json);
  ASSERT_TRUE(again.is_ok()) << again.status().to_string() << "\n" << json;
  EXPECT_EQ(*again, *r);
}

TEST(ScorerAggregate, YesNoAndNumbers) {
  AssessmentSource src{SourceType::code, "s"};
  ScorerAggregate yn;
  yn.add(Score::yes_no("c", true, "", src));
  yn.add(Score::yes_no("c", true, "", src));
  yn.add(Score::yes_no("c", false, "", src));
  yn.add(Score::error("c", "JUDGE_ERROR", "x", src));
  EXPECT_NEAR(*yn.mean(), 2.0 / 3.0, 1e-12);
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  yn.write_fields(w, "correctness");
  w.end_object();
  EXPECT_NE(out.find("\"correctness/count\":3"), std::string::npos) << out;
  EXPECT_NE(out.find("\"correctness/errors\":1"), std::string::npos) << out;
  EXPECT_NE(out.find("\"correctness/yes\":2"), std::string::npos) << out;
  EXPECT_NE(out.find("\"correctness/no\":1"), std::string::npos) << out;
  EXPECT_EQ(out.find("/min"), std::string::npos) << out;

  ScorerAggregate num;
  num.add(Score::number("f", 0.5, "", src));
  num.add(Score::number("f", 1.0, "", src));
  EXPECT_DOUBLE_EQ(*num.mean(), 0.75);
  out.clear();
  JsonWriter w2(out);
  w2.begin_object();
  num.write_fields(w2, "token_f1");
  w2.end_object();
  EXPECT_EQ(out, R"({"token_f1/mean":0.75,"token_f1/count":2,"token_f1/errors":0,"token_f1/min":0.5,"token_f1/max":1})");

  ScorerAggregate only_errors;
  only_errors.add(Score::error("x", "E", "m", src));
  EXPECT_FALSE(only_errors.mean().has_value());
}

TEST(RecordResult, CarriesScoresAndAssessmentIds) {
  EvalRecord r;
  r.record_id = r.trace_id = "tr-0123456789abcdef0123456789abcdef";
  r.inputs = R"({"q":"x"})";
  r.outputs = "\"y\"";
  r.expectations = {{"expected_response", "\"y\""}};
  r.latency_ms = 12.5;
  AssessmentSource src{SourceType::code, "exact_match"};
  std::vector<Score> scores = {Score::yes_no("exact_match", true, "same", src)};
  std::string out;
  JsonWriter w(out);
  write_record_result(w, 4, r, scores, {"a-00ff"});
  auto tree = parse_json(out);
  ASSERT_TRUE(tree.is_ok()) << out;
  EXPECT_EQ(tree->find("index")->as_number(), 4);
  const JsonTree* s = tree->find("scores")->find("exact_match");
  ASSERT_NE(s, nullptr) << out;
  EXPECT_EQ(s->find("value")->as_string(), "yes");
  EXPECT_EQ(s->find("assessment_id")->as_string(), "a-00ff");
  EXPECT_EQ(s->find("source")->find("source_type")->as_string(), "CODE");
  EXPECT_EQ(tree->find("latency_ms")->as_number(), 12.5);
}

}  // namespace
}  // namespace tracefeed::evaluate
