#include "sinks/eval/dataset_record.h"

#include "sinks/eval/eval_sink.h"

#include <gtest/gtest.h>

#include "core/ids.h"
#include "core/json_tree.h"

namespace tracefeed::eval {
namespace {

constexpr const char* kTrace = "tr-0123456789abcdef0123456789abcdef";

Span root(JsonText inputs, JsonText outputs) {
  Span s;
  s.span_id = "00000000000000a1";
  s.name = "my_chatbot";
  s.inputs = std::move(inputs);
  s.outputs = std::move(outputs);
  return s;
}

Assessment expectation(std::string id, std::string name, JsonText value, UnixNanos updated, bool valid = true) {
  Assessment a;
  a.assessment_id = std::move(id);
  a.assessment_name = std::move(name);
  a.trace_id = kTrace;
  a.source = {SourceType::human, "expert_1"};
  a.create_time = updated;
  a.last_update_time = updated;
  a.value = Expectation{std::move(value)};
  a.valid = valid;
  return a;
}

Assessment feedback(std::string id, std::string name, JsonText value) {
  Assessment a;
  a.assessment_id = std::move(id);
  a.assessment_name = std::move(name);
  a.trace_id = kTrace;
  a.value = Feedback{std::move(value), std::nullopt};
  return a;
}

// The quickstart's trace after review: a thumbs-down, an expert's accuracy label and
// expected_response, and an overridden (invalid) older expected_response.
Trace reviewed_trace() {
  Trace t;
  t.trace_info.trace_id = kTrace;
  Span child;
  child.span_id = "00000000000000a2";
  child.parent_span_id = "00000000000000a1";
  child.inputs = R"({"query":"What is MLflow?"})";
  t.spans.push_back(child);
  t.spans.push_back(root(R"({"user_question":"What is MLflow?"})", R"("MLflow is a platform.")"));
  t.trace_info.assessments.push_back(feedback("a-01", "user_feedback", "false"));
  t.trace_info.assessments.push_back(feedback("a-02", "response_accuracy", R"("Partially Accurate")"));
  Assessment expected = expectation("a-04", "expected_response", R"("MLflow manages the ML lifecycle.")", 200);
  expected.metadata.push_back({"tracefeed.labeling_session_id", "ls-quickstart"});
  t.trace_info.assessments.push_back(expectation("a-03", "expected_response", R"("old")", 100, /*valid=*/false));
  t.trace_info.assessments.push_back(expected);
  return t;
}

TEST(DatasetRecord, BuiltFromTheRootSpanAndValidExpectations) {
  RecordContent c = build_record_content(reviewed_trace());
  EXPECT_EQ(c.trace_id, kTrace);
  EXPECT_EQ(c.inputs, R"({"user_question":"What is MLflow?"})");
  EXPECT_EQ(c.outputs, R"("MLflow is a platform.")");
  ASSERT_EQ(c.expectations.size(), 1u);
  EXPECT_EQ(c.expectations[0].first, "expected_response");
  EXPECT_EQ(c.expectations[0].second, R"("MLflow manages the ML lifecycle.")");
  EXPECT_EQ(c.assessment_ids, std::vector<std::string>{"a-04"});
  EXPECT_EQ(c.labeling_session_ids, std::vector<std::string>{"ls-quickstart"});
}

TEST(DatasetRecord, TheMostRecentlyUpdatedExpectationOfANameWins) {
  Trace t = reviewed_trace();
  t.trace_info.assessments.push_back(expectation("a-05", "expected_response", R"("newest")", 300));
  t.trace_info.assessments.push_back(expectation("a-06", "expected_facts", R"(["open source","lifecycle"])", 50));
  RecordContent c = build_record_content(t);
  ASSERT_EQ(c.expectations.size(), 2u);
  // Sorted by name.
  EXPECT_EQ(c.expectations[0].first, "expected_facts");
  EXPECT_EQ(c.expectations[1].first, "expected_response");
  EXPECT_EQ(c.expectations[1].second, R"("newest")");
  EXPECT_EQ(c.assessment_ids, (std::vector<std::string>{"a-06", "a-05"}));
  EXPECT_TRUE(c.labeling_session_ids.empty());
}

TEST(DatasetRecord, InputsThatAreNotAnObjectAreWrappedAndAMissingRootIsNull) {
  Trace t;
  t.trace_info.trace_id = kTrace;
  t.spans.push_back(root(R"("What is MLflow?")", ""));
  RecordContent c = build_record_content(t);
  EXPECT_EQ(c.inputs, R"({"request":"What is MLflow?"})");
  EXPECT_EQ(c.outputs, "");

  Trace no_root;
  no_root.trace_info.trace_id = kTrace;
  RecordContent empty = build_record_content(no_root);
  EXPECT_TRUE(empty.inputs.empty());
  std::string line;
  JsonWriter w(line);
  write_record_json(w, empty, RecordEnvelope{"ds", 1, 0, 0, {}});
  auto v = parse_json(line);
  ASSERT_TRUE(v.is_ok()) << line;
  ASSERT_NE(v->find("expectations"), nullptr);
  EXPECT_EQ(v->find("inputs"), nullptr);  // find() treats null as absent
  EXPECT_NE(line.find(R"("inputs":null,"outputs":null)"), std::string::npos) << line;
}

TEST(DatasetRecord, HashFollowsContentNotAssessmentOrder) {
  Trace a = reviewed_trace();
  Trace b = reviewed_trace();
  std::reverse(b.trace_info.assessments.begin(), b.trace_info.assessments.end());
  EXPECT_EQ(content_hash(build_record_content(a)), content_hash(build_record_content(b)));

  Trace c = reviewed_trace();
  std::get<Expectation>(c.trace_info.assessments.back().value).value = R"("changed")";
  EXPECT_NE(content_hash(build_record_content(a)), content_hash(build_record_content(c)));

  // A feedback change is not part of the record.
  Trace d = reviewed_trace();
  std::get<Feedback>(d.trace_info.assessments[1].value).value = R"("Accurate")";
  EXPECT_EQ(content_hash(build_record_content(a)), content_hash(build_record_content(d)));

  // Field boundaries count: moving bytes from inputs to outputs changes the hash.
  RecordContent x, y;
  x.inputs = "{\"a\":1}";
  x.outputs = "2";
  y.inputs = "{\"a\":1}2";
  EXPECT_NE(content_hash(x), content_hash(y));
}

TEST(DatasetRecord, LineCarriesMlflowFieldsAndLineage) {
  RecordContent c = build_record_content(reviewed_trace());
  RecordEnvelope e;
  e.dataset_name = "quickstart_eval";
  e.version = 3;
  e.create_time = 1'748'779'200'000'000'000;
  e.last_update_time = 1'748'779'260'500'000'000;
  e.origin = {RecordOrigin::Via::eval_topic, "tracefeed.eval", 2, 17, "thumbs_down_to_eval"};
  std::string line;
  JsonWriter w(line);
  write_record_json(w, c, e);
  auto v = parse_json(line);
  ASSERT_TRUE(v.is_ok()) << line;
  EXPECT_EQ(v->find("dataset_record_id")->as_string(), record_id_for("quickstart_eval", kTrace));
  EXPECT_EQ(v->find("dataset_id")->as_string(), dataset_id_for("quickstart_eval"));
  EXPECT_EQ(v->find("version")->as_number(), 3);
  EXPECT_EQ(v->find("inputs")->find("user_question")->as_string(), "What is MLflow?");
  EXPECT_EQ(v->find("outputs")->as_string(), "MLflow is a platform.");
  EXPECT_EQ(v->find("expectations")->find("expected_response")->as_string(), "MLflow manages the ML lifecycle.");
  EXPECT_EQ(v->find("source")->find("source_type")->as_string(), "TRACE");
  EXPECT_EQ(v->find("source")->find("source_data")->find("trace_id")->as_string(), kTrace);
  EXPECT_EQ(v->find("create_time")->as_string(), "2025-06-01T12:00:00Z");
  EXPECT_EQ(v->find("last_update_time")->as_string(), "2025-06-01T12:01:00.500Z");
  const JsonTree* lineage = v->find("lineage");
  ASSERT_NE(lineage, nullptr);
  EXPECT_EQ(lineage->find("via")->as_string(), "eval_topic");
  EXPECT_EQ(lineage->find("topic")->as_string(), "tracefeed.eval");
  EXPECT_EQ(lineage->find("partition")->as_number(), 2);
  EXPECT_EQ(lineage->find("offset")->as_number(), 17);
  EXPECT_EQ(lineage->find("rule")->as_string(), "thumbs_down_to_eval");
  ASSERT_EQ(lineage->find("assessment_ids")->as_array().size(), 1u);
  EXPECT_EQ(lineage->find("assessment_ids")->as_array()[0].as_string(), "a-04");
  EXPECT_EQ(lineage->find("labeling_session_ids")->as_array()[0].as_string(), "ls-quickstart");

  // Via the API there is no topic position to report.
  e.origin = {};
  line.clear();
  JsonWriter w2(line);
  write_record_json(w2, c, e);
  EXPECT_NE(line.find(R"("lineage":{"via":"api","assessment_ids")"), std::string::npos) << line;
}

TEST(DatasetRecord, IdsAreDerivedAndStable) {
  const std::string id = record_id_for("quickstart_eval", kTrace);
  EXPECT_EQ(id.size(), 3u + 32u);
  EXPECT_EQ(id.rfind("dr-", 0), 0u);
  EXPECT_TRUE(is_lower_hex(std::string_view(id).substr(3)));
  EXPECT_EQ(id, record_id_for("quickstart_eval", kTrace));
  EXPECT_NE(id, record_id_for("other", kTrace));
  // The separator keeps ("ab", "c") and ("a", "bc") apart.
  EXPECT_NE(record_id_for("ab", "c"), record_id_for("a", "bc"));
  EXPECT_EQ(dataset_id_for("quickstart_eval").rfind("d-", 0), 0u);
  EXPECT_EQ(dataset_id_for("quickstart_eval").size(), 2u + 32u);
}

TEST(DatasetRecord, NamesAreValidated) {
  EXPECT_TRUE(validate_dataset_name("quickstart_eval").is_ok());
  EXPECT_TRUE(validate_dataset_name("catalog.schema.golden set").is_ok());
  EXPECT_TRUE(validate_dataset_name("données").is_ok());
  EXPECT_EQ(validate_dataset_name("").message(), "name: required, 1 to 256 bytes");
  EXPECT_EQ(validate_dataset_name("a/b", "dataset").message(),
            "dataset: '/' is not allowed (the name is a URL path segment)");
  EXPECT_FALSE(validate_dataset_name("..").is_ok());
  EXPECT_FALSE(validate_dataset_name(std::string("a\0b", 3)).is_ok());
  EXPECT_FALSE(validate_dataset_name("tab\there").is_ok());
  EXPECT_FALSE(validate_dataset_name("\xff\xfe").is_ok());
  EXPECT_FALSE(validate_dataset_name(std::string(257, 'x')).is_ok());
  EXPECT_TRUE(validate_dataset_name(std::string(256, 'x')).is_ok());
}

// What processors/route/router.cc produces to the eval topic for an `eval: DATASET` action.
std::string eval_record(const std::string& dataset, const std::string& trace) {
  return R"({"type":"eval_record","dataset":")" + dataset + R"(","trace_id":")" + trace +
         R"(","rule":"thumbs_down","priority":0,"time":"2025-06-01T12:00:05Z"})";
}

TEST(ParseEvalRecord, NamesTheFieldAtFault) {
  auto ok = parse_eval_record(eval_record("quickstart_eval", std::string(kTrace)));
  ASSERT_TRUE(ok.is_ok()) << ok.status().to_string();
  EXPECT_EQ(ok->dataset, "quickstart_eval");
  EXPECT_EQ(ok->trace_id, std::string(kTrace));
  EXPECT_EQ(ok->origin.rule, "thumbs_down");
  EXPECT_EQ(ok->origin.via, RecordOrigin::Via::eval_topic);

  EXPECT_EQ(parse_eval_record(R"({"type":"review_item"})").status().message(), R"(type: expected "eval_record")");
  EXPECT_EQ(parse_eval_record(R"({"type":"eval_record","trace_id":"x"})").status().message(), "dataset: required string");
  EXPECT_EQ(parse_eval_record(R"({"type":"eval_record","dataset":"a/b"})").status().message(),
            "dataset: '/' is not allowed (the name is a URL path segment)");
  EXPECT_EQ(parse_eval_record(R"({"type":"eval_record","dataset":"d","trace_id":"tr-1"})").status().message(),
            R"(trace_id: expected "tr-" + 32 lowercase hex)");
  EXPECT_EQ(parse_eval_record("[1]").status().message(), "eval record: expected a JSON object");
  EXPECT_FALSE(parse_eval_record("{not json").is_ok());
}

}  // namespace
}  // namespace tracefeed::eval
