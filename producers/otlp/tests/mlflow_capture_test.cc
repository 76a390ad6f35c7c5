// The exact requests MLflow 3.17's client sends to /v1/traces (captured by
// tests/data/capture_mlflow.py: a @mlflow.trace function calling a RETRIEVER child; MLflow
// sends each span as it ends, child first) decode into the trace MLflow itself would show.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "producers/otlp/export_decoder.h"

namespace tracefeed::otlp {
namespace {

std::string read_file(const std::string& name) {
  std::ifstream in(std::string(OTLP_TEST_DATA_DIR) + "/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

TEST(MlflowCaptureTest, RetrieverChildThenRoot) {
  const std::string trace_id = trim(read_file("mlflow_3_17_trace_id.txt"));
  ASSERT_EQ(trace_id.size(), 35u);
  DecodeOptions opt;
  opt.experiment_id = "0";  // the captured x-mlflow-experiment-id header

  auto child = decode_export_request(read_file("mlflow_3_17_export_0.pb"), Encoding::protobuf, opt);
  ASSERT_TRUE(child.is_ok()) << child.status().to_string();
  ASSERT_EQ(child->traces.size(), 1u);
  EXPECT_EQ(child->rejected_spans, 0);
  const Trace& ct = child->traces[0];
  EXPECT_EQ(ct.trace_info.trace_id, trace_id);
  EXPECT_EQ(ct.trace_info.trace_location, R"({"type":"MLFLOW_EXPERIMENT","mlflow_experiment":{"experiment_id":"0"}})");
  ASSERT_EQ(ct.spans.size(), 1u);
  const Span& retriever = ct.spans[0];
  EXPECT_EQ(retriever.name, "retrieve_context");
  EXPECT_EQ(retriever.span_type, "RETRIEVER");
  EXPECT_FALSE(retriever.is_root());
  EXPECT_EQ(retriever.status, SpanStatus::ok);
  EXPECT_EQ(retriever.inputs, R"({"question":"What is MLflow?"})");
  EXPECT_EQ(retriever.outputs,
            R"([{"page_content":"MLflow is an open source platform","metadata":{"doc_uri":"docs/mlflow.md"}}])");

  auto root = decode_export_request(read_file("mlflow_3_17_export_1.pb"), Encoding::protobuf, opt);
  ASSERT_TRUE(root.is_ok()) << root.status().to_string();
  ASSERT_EQ(root->traces.size(), 1u);
  const Trace& rt = root->traces[0];
  EXPECT_EQ(rt.trace_info.trace_id, trace_id);
  ASSERT_EQ(rt.spans.size(), 1u);
  const Span& chatbot = rt.spans[0];
  EXPECT_TRUE(chatbot.is_root());
  EXPECT_EQ(chatbot.span_id, retriever.parent_span_id);
  EXPECT_EQ(chatbot.name, "my_chatbot");
  EXPECT_EQ(chatbot.span_type, "UNKNOWN");
  EXPECT_EQ(chatbot.inputs, R"({"user_question":"What is MLflow?"})");
  EXPECT_EQ(chatbot.outputs, R"("MLflow is an open-source platform for the ML lifecycle.")");
  EXPECT_EQ(rt.trace_info.state, TraceState::ok);
  EXPECT_EQ(rt.trace_info.request_preview, "What is MLflow?");
  EXPECT_EQ(rt.trace_info.response_preview, "MLflow is an open-source platform for the ML lifecycle.");
  EXPECT_EQ(rt.trace_info.request_time, chatbot.start_time_unix_nano);
  EXPECT_EQ(rt.trace_info.execution_duration_ns, chatbot.end_time_unix_nano - chatbot.start_time_unix_nano);
}

}  // namespace
}  // namespace tracefeed::otlp
