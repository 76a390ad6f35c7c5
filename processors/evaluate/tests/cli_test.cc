// `tracefeed evaluate` (run_evaluate_cli) against an in-process evaluator serving the API.
#include "processors/evaluate/cli.h"

#include <gtest/gtest.h>

#include <fstream>

#include "http/server.h"
#include "processors/evaluate/evaluator.h"
#include "processors/evaluate/sources.h"
#include "processors/evaluate/tests/test_state.h"

namespace tracefeed::evaluate {
namespace {

using namespace std::chrono_literals;
using namespace testing;

// Reads what was written to a tmpfile().
std::string slurp(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  return out;
}

class EvaluateCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    _state.apply(trace_event(kGood, "What is MLflow?", "MLflow is an open-source platform for the ML lifecycle.", 100));
    _state.apply(trace_event(kBad, "What is MLflow?", "MLflow is a cloud database.", 200));
    _state.apply(expectation_event("x-1", "a-e1", kGood, "expected_response", std::string("\"") + kExpected + "\""));
    _state.apply(expectation_event("x-2", "a-e2", kBad, "expected_response", std::string("\"") + kExpected + "\""));
    EvaluatorSources sources;
    sources.get_trace = reader_trace_getter(_state.reader());
    sources.search = reader_searcher(_state.reader(), 1000);
    sources.session_traces = [](const std::string& session) -> Result<std::vector<std::string>> {
      if (session == "quickstart_review") return std::vector<std::string>{kGood, kBad};
      return Status::not_found("labeling session " + session + " not found");
    };
    EvaluatorOptions o;
    o.judge.base_url = _judge.base_url();
    o.judge.api_key_env = "";
    _evaluator = std::make_unique<Evaluator>(o, sources, EvaluatorHooks{}, _state.store(), _sink, _clock);
    ASSERT_TRUE(_evaluator->start().is_ok());
    http::ServerOptions ho;
    ho.listen = "127.0.0.1:0";
    ho.threads = 4;
    _http = std::make_unique<http::Server>(ho);
    _evaluator->register_routes(*_http);
    ASSERT_TRUE(_http->start().is_ok());
    _out = std::tmpfile();
    _err = std::tmpfile();
    _output = std::filesystem::temp_directory_path() / ("tracefeed-eval-cli-" + std::to_string(::getpid()) + ".jsonl");
  }
  void TearDown() override {
    _http->stop();
    _evaluator.reset();
    std::fclose(_out);
    std::fclose(_err);
    std::filesystem::remove(_output);
  }
  EvaluateCliOptions cli() {
    EvaluateCliOptions o;
    o.url = _http->base_url();
    o.poll_interval = 10ms;
    o.progress = false;
    return o;
  }

  ManualClock _clock;
  State _state{_clock};
  JoiningSink _sink{_state};
  FakeOpenAi _judge{judge_answer};
  std::unique_ptr<Evaluator> _evaluator;
  std::unique_ptr<http::Server> _http;
  std::FILE* _out = nullptr;
  std::FILE* _err = nullptr;
  std::filesystem::path _output;
};

TEST_F(EvaluateCliTest, QuickstartSessionCorrectnessTableAndJsonl) {
  EvaluateCliOptions o = cli();
  o.session = "quickstart_review";
  o.scorers = {"correctness"};
  o.output = _output.string();
  ASSERT_EQ(run_evaluate_cli(o, _out, _err), 0) << slurp(_err);
  const std::string out = slurp(_out);
  const std::string err = slurp(_err);
  EXPECT_NE(out.find("2 records, 0 record errors, 2 assessments written"), std::string::npos) << out;
  EXPECT_NE(out.find("correctness     0.500       2       1       1       0"), std::string::npos) << out;
  EXPECT_NE(out.find(kGood), std::string::npos) << out;
  EXPECT_NE(err.find("done: 2/2 records"), std::string::npos) << err;

  std::ifstream in(_output);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 2u);
  for (const auto& line : lines) {
    auto tree = parse_json(line);
    ASSERT_TRUE(tree.is_ok()) << line;
    EXPECT_TRUE(tree->find("scores")->find("correctness")->find("value"));
  }
}

TEST_F(EvaluateCliTest, ProgressBarOnRequest) {
  EvaluateCliOptions o = cli();
  o.session = "quickstart_review";
  o.scorers = {"exact_match"};
  o.progress = true;
  ASSERT_EQ(run_evaluate_cli(o, _out, _err), 0);
  EXPECT_NE(slurp(_err).find("[##############################] 2/2 records"), std::string::npos);
}

TEST_F(EvaluateCliTest, RefusalsExitWithTwo) {
  EvaluateCliOptions o = cli();
  o.session = "no_such_session";
  o.scorers = {"correctness"};
  EXPECT_EQ(run_evaluate_cli(o, _out, _err), 2);
  const std::string err = slurp(_err);
  EXPECT_NE(err.find("HTTP 404"), std::string::npos) << err;
  EXPECT_NE(err.find("labeling_session_id: labeling session no_such_session not found"), std::string::npos) << err;

  EvaluateCliOptions none = cli();
  none.scorers = {"correctness"};
  EXPECT_EQ(run_evaluate_cli(none, _out, _err), 2);
  EvaluateCliOptions bad_json = cli();
  bad_json.session = "quickstart_review";
  bad_json.scorers = {"{not json"};
  EXPECT_EQ(run_evaluate_cli(bad_json, _out, _err), 2);
  EvaluateCliOptions unreachable = cli();
  unreachable.url = "http://127.0.0.1:1";
  unreachable.session = "quickstart_review";
  unreachable.scorers = {"correctness"};
  EXPECT_EQ(run_evaluate_cli(unreachable, _out, _err), 2);
}

TEST_F(EvaluateCliTest, GuidelinesAndJsonScorers) {
  EvaluateCliOptions o = cli();
  o.filter = "";
  o.guidelines = {"Answer in English"};
  o.scorers = {R"({"name":"f1","type":"token_f1"})"};
  CliRequest r = build_cli_request(o);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.body, R"({"filter":"","scorers":[{"name":"f1","type":"token_f1"},{"name":"guidelines","guidelines":["Answer in English"]}]})");
  o.scorers = {"guidelines"};
  EXPECT_EQ(build_cli_request(o).body, R"({"filter":"","scorers":[{"name":"guidelines","guidelines":["Answer in English"]}]})");
  ASSERT_EQ(run_evaluate_cli(o, _out, _err), 0) << slurp(_err);
  EXPECT_NE(slurp(_out).find("guidelines"), std::string::npos);
}

}  // namespace
}  // namespace tracefeed::evaluate
