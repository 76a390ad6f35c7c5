// The evaluator end to end in one process: joined traces in a temp RocksDB, the evaluations API
// on an http::Server, an EventSink whose assessments go back through the join (as Kafka + the
// join processor would), a local OpenAI-compatible judge, a local app for predict_url and a
// local HTTP scorer.
#include "processors/evaluate/evaluator.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>

#include "core/event_json.h"
#include "core/ids.h"
#include "core/time_format.h"
#include "http/server.h"
#include "processors/evaluate/sources.h"
#include "processors/evaluate/tests/fake_servers.h"
#include "processors/evaluate/tests/test_state.h"
#include "processors/join/joiner.h"
#include "processors/join/trace_reader.h"
#include "state/store.h"
#include "state/write_batch.h"

namespace tracefeed::evaluate {
namespace {

using namespace std::chrono_literals;
using testing::FakeHttp;
using testing::FakeOpenAi;
using testing::Gate;
using testing::verdict_json;
using testing::wait_until;
using namespace testing;

class EvaluatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The quickstart: two traces in the session, an expert's expected_response on each; the bad
    // one also has an older expected_response that was overridden (it must not count).
    _state.apply(trace_event(kGood, "What is MLflow?", "MLflow is an open-source platform for the ML lifecycle.", 100));
    _state.apply(trace_event(kBad, "What is MLflow?", "MLflow is a cloud database.", 200));
    _state.apply(trace_event(kOther, "Unrelated?", "Something else.", 300));
    _state.apply(feedback_event("f-1", kBad, false));
    _state.apply(expectation_event("x-1", "a-e1", kGood, "expected_response", std::string("\"") + kExpected + "\""));
    _state.apply(expectation_event("x-2", "a-e2", kBad, "expected_response", "\"an outdated reference\""));
    _state.apply(expectation_event("x-3", "a-e3", kBad, "expected_response", std::string("\"") + kExpected + "\"",
                                   R"(,"overrides":"a-e2")"));
    _sources.get_trace = reader_trace_getter(_state.reader());
    _sources.search = reader_searcher(_state.reader(), 1000);
    _sources.session_traces = [](const std::string& session) -> Result<std::vector<std::string>> {
      if (session == "quickstart_review") return std::vector<std::string>{kGood, kBad};
      return Status::not_found("labeling session " + session + " not found");
    };
    _hooks.on_score = [this](std::string_view scorer, double v) {
      std::lock_guard lock(_scores_mu);
      _scores.emplace_back(std::string(scorer), v);
    };
  }
  void TearDown() override {
    for (auto& g : _gates) g->open();
    stop_all();
  }

  // Closes every client connection before the servers go (an httplib server waits out its
  // clients' keep-alive connections when it stops).
  void stop_all() {
    _client.reset();
    if (_http) _http->stop();
    _http.reset();
    _evaluator.reset();
  }
  FakeOpenAi& make_judge(FakeOpenAi::Answer answer) {
    _judges.push_back(std::make_unique<FakeOpenAi>(std::move(answer)));
    return *_judges.back();
  }
  FakeHttp& make_app(std::string path, FakeHttp::Handler handler) {
    _apps.push_back(std::make_unique<FakeHttp>(std::move(path), std::move(handler)));
    return *_apps.back();
  }
  Gate& make_gate() {
    _gates.push_back(std::make_unique<Gate>());
    return *_gates.back();
  }

  EvaluatorOptions options(const FakeOpenAi* judge) {
    EvaluatorOptions o;
    if (judge) {
      o.judge.base_url = judge->base_url();
      o.judge.api_key_env = "";
      o.judge.max_retries = 0;
      o.judge.timeout = 10s;
    } else {
      o.judge.base_url = "";
    }
    o.record_concurrency = 4;
    o.predict.backoff_initial = 1ms;  // retries are counted, not paced, here
    o.predict.backoff_max = 5ms;
    o.publish_retry_timeout = 10s;
    o.label_wait = 10s;
    return o;
  }

  void start(EvaluatorOptions o) {
    _evaluator = std::make_unique<Evaluator>(std::move(o), _sources, _hooks, _state.store(), _sink, _clock);
    Status s = _evaluator->start();
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    http::ServerOptions ho;
    ho.listen = "127.0.0.1:0";
    ho.threads = 4;
    _http = std::make_unique<http::Server>(ho);
    _evaluator->register_routes(*_http);
    ASSERT_TRUE(_http->start().is_ok());
    _client = std::make_unique<httplib::Client>(_http->base_url());
    _client->set_read_timeout(30s);
  }

  // POST → (status, body)
  std::pair<int, std::string> post(const std::string& body) {
    auto res = _client->Post("/api/v1/evaluations", body, "application/json");
    EXPECT_TRUE(res) << httplib::to_string(res.error());
    return res ? std::make_pair(res->status, res->body) : std::make_pair(0, std::string());
  }
  std::string submit(const std::string& body) {
    auto [status, reply] = post(body);
    EXPECT_EQ(status, 202) << reply;
    auto tree = parse_json(reply);
    EXPECT_TRUE(tree.is_ok() && tree->find("evaluation_id"));
    return tree.is_ok() && tree->find("evaluation_id") ? tree->find("evaluation_id")->as_string() : "";
  }
  JsonTree get(const std::string& id, const std::string& query = "") {
    auto res = _client->Get("/api/v1/evaluations/" + id + query);
    EXPECT_TRUE(res && res->status == 200) << (res ? res->body : httplib::to_string(res.error()));
    auto tree = res ? parse_json(res->body) : Result<JsonTree>(Status::internal("no reply"));
    return tree.is_ok() ? std::move(tree).value() : JsonTree();
  }
  std::string status_of(const std::string& id) {
    JsonTree t = get(id, "?max_results=0");
    const JsonTree* s = t.find("status");
    return s && s->is_string() ? s->as_string() : "";
  }
  JsonTree wait_done(const std::string& id) {
    EXPECT_TRUE(wait_until([&] {
      const std::string s = status_of(id);
      return s == "done" || s == "failed";
    })) << "evaluation " << id << " did not finish";
    return get(id, "?max_results=1000");
  }
  static double number(const JsonTree& t, std::initializer_list<std::string_view> path) {
    const JsonTree* cur = &t;
    for (auto k : path) {
      cur = cur->find(k);
      if (!cur) return -1;
    }
    return cur->is_number() ? cur->as_number() : -1;
  }
  static const JsonTree* result_for(const JsonTree& run, const std::string& trace_id) {
    const JsonTree* results = run.find("results");
    if (!results) return nullptr;
    for (const auto& r : results->as_array()) {
      if (r.find("trace_id") && r.find("trace_id")->as_string() == trace_id) return &r;
    }
    return nullptr;
  }
  static std::string metadata(const Assessment& a, const std::string& key) {
    for (const auto& [k, v] : a.metadata) {
      if (k == key) return v;
    }
    return "";
  }

  ManualClock _clock;
  State _state{_clock};
  JoiningSink _sink{_state};
  EvaluatorSources _sources;
  EvaluatorHooks _hooks;
  std::mutex _scores_mu;
  std::vector<std::pair<std::string, double>> _scores;
  // Declared before the evaluator: destroyed after it, so no handler outlives its gate.
  std::vector<std::unique_ptr<Gate>> _gates;
  std::vector<std::unique_ptr<FakeOpenAi>> _judges;
  std::vector<std::unique_ptr<FakeHttp>> _apps;
  std::unique_ptr<Evaluator> _evaluator;
  std::unique_ptr<http::Server> _http;
  std::unique_ptr<httplib::Client> _client;
};

TEST_F(EvaluatorTest, QuickstartStep6CorrectnessAgainstExpertLabels) {
  FakeOpenAi& judge = make_judge(judge_answer);
  start(options(&judge));
  const std::string id = submit(R"({"labeling_session_id":"quickstart_review","scorers":["correctness"]})");
  ASSERT_EQ(id.rfind("ev-", 0), 0u) << id;
  JsonTree run = wait_done(id);
  EXPECT_EQ(run.find("status")->as_string(), "done");
  EXPECT_EQ(number(run, {"progress", "total"}), 2);
  EXPECT_EQ(number(run, {"progress", "completed"}), 2);
  EXPECT_EQ(number(run, {"aggregates", "correctness/mean"}), 0.5);
  EXPECT_EQ(number(run, {"aggregates", "correctness/yes"}), 1);
  EXPECT_EQ(number(run, {"aggregates", "correctness/no"}), 1);
  EXPECT_EQ(number(run, {"aggregates", "correctness/errors"}), 0);
  EXPECT_EQ(number(run, {"assessments", "written"}), 2);

  const JsonTree* good = result_for(run, kGood);
  const JsonTree* bad = result_for(run, kBad);
  ASSERT_TRUE(good && bad) << run.to_json();
  EXPECT_EQ(good->find("scores")->find("correctness")->find("value")->as_string(), "yes");
  EXPECT_EQ(bad->find("scores")->find("correctness")->find("value")->as_string(), "no");
  EXPECT_EQ(bad->find("expectations")->find("expected_response")->as_string(), kExpected) << "the overridden label must not count";
  EXPECT_EQ(good->find("inputs")->find("user_question")->as_string(), "What is MLflow?");

  // The judge saw each trace's question, answer and the expert's reference.
  ASSERT_EQ(judge.request_count(), 2u);
  for (const auto& r : judge.requests()) {
    const std::string prompt = testing::prompt_of(r.body);
    EXPECT_NE(prompt.find(std::string("<reference_answer>") + kExpected), std::string::npos) << prompt;
  }

  // The scores are assessments on the traces, through the pipeline.
  auto a = _state.assessments(kGood, "correctness");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_TRUE(a[0].is_feedback());
  EXPECT_EQ(std::get<Feedback>(a[0].value).value, "\"yes\"");
  EXPECT_EQ(a[0].source.source_type, SourceType::llm_judge);
  EXPECT_EQ(a[0].source.source_id, "gpt-4o-mini");
  EXPECT_EQ(a[0].rationale, "The answer supports the reference.");
  EXPECT_EQ(metadata(a[0], "tracefeed.evaluation_id"), id);
  EXPECT_EQ(a[0].assessment_id, Evaluator::score_assessment_id(id, kGood, "correctness"));
  EXPECT_EQ(good->find("scores")->find("correctness")->find("assessment_id")->as_string(), a[0].assessment_id);
  EXPECT_EQ(_state.assessments(kBad, "correctness").size(), 1u);
  EXPECT_TRUE(_state.assessments(kOther, "correctness").empty());

  std::lock_guard lock(_scores_mu);
  EXPECT_EQ(_scores.size(), 2u);
}

TEST_F(EvaluatorTest, ProgressIsVisibleWhileItRuns) {
  Gate& gate = make_gate();
  FakeOpenAi& judge = make_judge([&](const std::string& p, http::Response& res) {
    gate.wait();
    return judge_answer(p, res);
  });
  EvaluatorOptions o = options(&judge);
  o.record_concurrency = 1;
  start(o);
  const std::string id = submit(R"({"labeling_session_id":"quickstart_review","scorers":["correctness","latency_ms"]})");
  ASSERT_TRUE(wait_until([&] { return status_of(id) == "running" && judge.request_count() == 1; }));
  JsonTree running = get(id, "?max_results=0");
  EXPECT_EQ(number(running, {"progress", "total"}), 2);
  EXPECT_EQ(number(running, {"progress", "completed"}), 0);
  gate.open();
  JsonTree done = wait_done(id);
  EXPECT_EQ(number(done, {"progress", "completed"}), 2);
  EXPECT_EQ(number(done, {"aggregates", "latency_ms/mean"}), 1250);

  // Paging through the results.
  JsonTree page1 = get(id, "?max_results=1");
  ASSERT_EQ(page1.find("results")->as_array().size(), 1u);
  ASSERT_TRUE(page1.find("next_page_token"));
  JsonTree page2 = get(id, "?max_results=1&page_token=" + page1.find("next_page_token")->as_string());
  ASSERT_EQ(page2.find("results")->as_array().size(), 1u);
  EXPECT_EQ(page2.find("results")->as_array()[0].find("index")->as_number(), 1);
  EXPECT_EQ(page2.find("next_page_token"), nullptr);
}

TEST_F(EvaluatorTest, WithoutAJudgeCorrectnessFallsBackAndOthersSaySo) {
  start(options(nullptr));
  const std::string id = submit(
      R"({"labeling_session_id":"quickstart_review","scorers":["correctness","relevance_to_query","exact_match","token_f1"]})");
  JsonTree run = wait_done(id);
  EXPECT_EQ(run.find("status")->as_string(), "done");
  const std::string warnings = run.find("warnings")->to_json();
  EXPECT_NE(warnings.find("correctness: no judge configured"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("deterministic fallback"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("relevance_to_query: no judge configured"), std::string::npos) << warnings;
  EXPECT_EQ(number(run, {"aggregates", "relevance_to_query/errors"}), 2);
  EXPECT_EQ(number(run, {"aggregates", "exact_match/count"}), 2);

  auto a = _state.assessments(kBad, "correctness");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].source.source_type, SourceType::code);
  EXPECT_EQ(std::get<Feedback>(a[0].value).value, "\"no\"");
  EXPECT_EQ(a[0].rationale.rfind("Deterministic fallback", 0), 0u) << a[0].rationale;
  // A missing judge is not stamped on the traces.
  EXPECT_TRUE(_state.assessments(kBad, "relevance_to_query").empty());
  EXPECT_EQ(_state.assessments(kBad, "token_f1").size(), 1u);
  const JsonTree* bad = result_for(run, kBad);
  EXPECT_EQ(bad->find("scores")->find("relevance_to_query")->find("error")->find("error_code")->as_string(), "JUDGE_NOT_CONFIGURED");
}

TEST_F(EvaluatorTest, ARetriedRunRewritesTheSameAssessments) {
  FakeOpenAi& judge = make_judge(judge_answer);
  start(options(&judge));
  const std::string body = R"({"evaluation_id":"nightly-1","labeling_session_id":"quickstart_review","scorers":["correctness"]})";
  ASSERT_EQ(submit(body), "nightly-1");
  wait_done("nightly-1");
  ASSERT_EQ(_state.assessments(kGood, "correctness").size(), 1u);

  // The same request again is the same run; a different one may not take its id.
  auto [status, reply] = post(body);
  EXPECT_EQ(status, 200) << reply;
  EXPECT_NE(reply.find("\"status\":\"done\""), std::string::npos) << reply;
  auto [conflict, why] = post(R"({"evaluation_id":"nightly-1","labeling_session_id":"quickstart_review","scorers":["token_f1"]})");
  EXPECT_EQ(conflict, 409) << why;

  // A crash mid-run: the stored run still says "running". The next start resumes it.
  stop_all();
  auto stored = _state.store().get(state::Family::meta, "eval/run/nightly-1");
  ASSERT_TRUE(stored.is_ok() && stored->has_value());
  std::string json = **stored;
  const size_t at = json.find("\"status\":\"done\"");
  ASSERT_NE(at, std::string::npos);
  json.replace(at, 15, "\"status\":\"running\"");
  state::WriteBatch batch(_state.store());
  batch.put(state::Family::meta, "eval/run/nightly-1", json);
  ASSERT_TRUE(_state.store().write(batch).is_ok());

  start(options(&judge));
  JsonTree run = wait_done("nightly-1");
  EXPECT_EQ(run.find("status")->as_string(), "done");
  EXPECT_EQ(judge.request_count(), 4u) << "a restarted process starts with an empty judge cache";
  // Same ids, same content: still one correctness assessment per trace.
  EXPECT_EQ(_state.assessments(kGood, "correctness").size(), 1u);
  EXPECT_EQ(_state.assessments(kBad, "correctness").size(), 1u);
  EXPECT_EQ(run.find("results")->as_array().size(), 2u);
}

TEST_F(EvaluatorTest, PredictUrlReRunsTheApp) {
  FakeOpenAi& judge = make_judge(judge_answer);
  const std::string new_trace = "tr-0000000000000000000000000000beef";
  FakeHttp& app = make_app("/predict", [&](const http::Request& req, http::Response& res) {
    if (req.header("tracefeed-source-trace-id") == kBad) {
      res.json(500, R"({"detail":"model crashed"})");
      return;
    }
    res.json(200, R"({"answer":"MLflow is an open-source MLOps platform."})");
    res.headers.emplace_back("tracefeed-trace-id", new_trace);
  });
  start(options(&judge));
  const std::string id = submit(R"({"labeling_session_id":"quickstart_review","scorers":["correctness","latency_ms"],"predict_url":")" +
                                app.url() + R"(/predict"})");
  JsonTree run = wait_done(id);
  EXPECT_EQ(number(run, {"progress", "record_errors"}), 1);
  const JsonTree* bad = result_for(run, kBad);
  ASSERT_NE(bad, nullptr) << run.to_json();
  EXPECT_EQ(bad->find("error")->find("error_code")->as_string(), "PREDICT_ERROR");
  EXPECT_NE(bad->find("error")->find("message")->as_string().find("HTTP 500"), std::string::npos);

  // The app got the inputs as keyword arguments; the new outputs were scored and the scores went
  // to the trace the app recorded for the call.
  bool saw_inputs = false;
  for (const auto& r : app.requests()) saw_inputs |= r.body == R"({"user_question":"What is MLflow?"})";
  EXPECT_TRUE(saw_inputs);
  const JsonTree* good = result_for(run, new_trace);
  ASSERT_NE(good, nullptr) << run.to_json();
  EXPECT_EQ(good->find("record_id")->as_string(), kGood);
  EXPECT_TRUE(good->find("outputs_predicted")->as_bool());
  EXPECT_EQ(good->find("outputs")->find("answer")->as_string(), "MLflow is an open-source MLOps platform.");
  EXPECT_EQ(good->find("scores")->find("correctness")->find("value")->as_string(), "yes");
  EXPECT_TRUE(good->find("latency_ms"));
  bool to_new_trace = false;
  for (const auto& e : _sink.published()) {
    if (e.assessment().trace_id == new_trace && e.assessment().assessment_name == "correctness") {
      to_new_trace = true;
      EXPECT_EQ(metadata(e.assessment(), "tracefeed.evaluation.outputs"), "predicted");
    }
    EXPECT_NE(e.assessment().trace_id, kGood) << "scores of new outputs do not belong on the old trace";
  }
  EXPECT_TRUE(to_new_trace);
}

TEST_F(EvaluatorTest, HttpScorerBringsYourOwnCode) {
  FakeHttp& scorer = make_app("/score", [](const http::Request& req, http::Response& res) {
    auto body = parse_json(req.body);
    if (!body.is_ok() || !body->find("trace") || !body->find("expectations")) {
      res.json(400, R"({"error":"bad request"})");
      return;
    }
    const std::string outputs = body->find("outputs")->as_string();
    if (outputs.find("cloud") != std::string::npos) {
      res.json(200, R"({"error":{"error_code":"UNSUPPORTED","error_message":"cannot judge databases"}})");
      return;
    }
    res.json(200, R"({"value":0.75,"rationale":"three quarters"})");
  });
  start(options(nullptr));
  const std::string id = submit(R"({"labeling_session_id":"quickstart_review","scorers":[{"name":"my_metric","type":"http","url":")" +
                                scorer.url() + R"(/score"}]})");
  JsonTree run = wait_done(id);
  EXPECT_EQ(number(run, {"aggregates", "my_metric/mean"}), 0.75);
  EXPECT_EQ(number(run, {"aggregates", "my_metric/errors"}), 1);
  auto a = _state.assessments(kGood, "my_metric");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(std::get<Feedback>(a[0].value).value, "0.75");
  EXPECT_EQ(a[0].source.source_type, SourceType::code);
  EXPECT_EQ(a[0].source.source_id, "my_metric");
  auto b = _state.assessments(kBad, "my_metric");
  ASSERT_EQ(b.size(), 1u);
  ASSERT_TRUE(std::get<Feedback>(b[0].value).error.has_value());
  EXPECT_EQ(std::get<Feedback>(b[0].value).error->error_code, "UNSUPPORTED");
  // The scorer got {inputs, outputs, expectations, trace}.
  auto body = parse_json(scorer.requests().front().body);
  ASSERT_TRUE(body.is_ok());
  EXPECT_TRUE(body->find("inputs")->find("user_question"));
  EXPECT_TRUE(body->find("expectations")->find("expected_response"));
  EXPECT_EQ(body->find("trace")->find("spans")->as_array().size(), 2u);
}

TEST_F(EvaluatorTest, FilterAndDatasetSources) {
  _sources.dataset_records = [](const std::string& name, std::optional<int64_t> version) -> Result<std::vector<EvalRecord>> {
    if (name != "golden") return Status::not_found("dataset " + name + " not found");
    EXPECT_EQ(version, 2);
    EvalRecord r;
    r.record_id = "golden-1";
    r.inputs = R"({"user_question":"What is MLflow?"})";
    r.outputs = "\"MLflow is open source\"";
    r.expectations = {{"expected_response", "\"MLflow is open source\""}};
    EvalRecord traced = r;  // a record whose source trace this process knows
    traced.record_id = "golden-2";
    traced.trace_id = kOther;
    return std::vector<EvalRecord>{r, traced};
  };
  start(options(nullptr));
  JsonTree by_filter = wait_done(submit(R"({"filter":"feedback.user_feedback = false","scorers":["token_f1"]})"));
  EXPECT_EQ(number(by_filter, {"progress", "total"}), 1);
  EXPECT_NE(result_for(by_filter, kBad), nullptr);

  JsonTree by_dataset = wait_done(submit(R"({"dataset":{"name":"golden","version":2},"scorers":["exact_match","latency_ms"]})"));
  EXPECT_EQ(number(by_dataset, {"aggregates", "exact_match/yes"}), 2);
  // A record without a trace keeps its scores in the run; one with a source trace also gets
  // them as assessments there, and the trace's duration.
  EXPECT_EQ(number(by_dataset, {"assessments", "written"}), 2);
  EXPECT_EQ(number(by_dataset, {"aggregates", "latency_ms/count"}), 1);
  EXPECT_EQ(by_dataset.find("results")->as_array()[0].find("record_id")->as_string(), "golden-1");
  EXPECT_EQ(_state.assessments(kOther, "exact_match").size(), 1u);

  JsonTree capped = wait_done(submit(R"({"filter":"","scorers":["latency_ms"],"max_records":2})"));
  EXPECT_EQ(number(capped, {"progress", "total"}), 2);
  EXPECT_NE(capped.find("warnings")->to_json().find("found 3 records"), std::string::npos);
}

TEST_F(EvaluatorTest, AFailedRunReportsWhyAndRunsAgainUnderItsId) {
  std::atomic<bool> broken{true};
  auto search = _sources.search;
  _sources.search = [&, search](const std::string& f) -> Result<std::vector<std::string>> {
    if (broken) return Status::io_error("disk on fire");
    return search(f);
  };
  start(options(nullptr));
  const std::string body = R"({"evaluation_id":"retry-me","filter":"feedback.user_feedback = false","scorers":["exact_match"]})";
  ASSERT_EQ(submit(body), "retry-me");
  JsonTree failed = wait_done("retry-me");
  EXPECT_EQ(failed.find("status")->as_string(), "failed");
  EXPECT_EQ(failed.find("error")->find("error_code")->as_string(), "IO_ERROR");
  EXPECT_NE(failed.find("error")->find("message")->as_string().find("disk on fire"), std::string::npos);

  broken = false;
  ASSERT_EQ(submit(body), "retry-me");  // 202: runs again
  JsonTree done = wait_done("retry-me");
  EXPECT_EQ(done.find("status")->as_string(), "done");
  EXPECT_FALSE(done.find("error"));
  EXPECT_EQ(_state.assessments(kBad, "exact_match").size(), 1u);
}

TEST_F(EvaluatorTest, ApiErrorsNameTheField) {
  start(options(nullptr));
  auto [s1, b1] = post(R"({"labeling_session_id":"nope","scorers":["correctness"]})");
  EXPECT_EQ(s1, 404) << b1;
  EXPECT_NE(b1.find("labeling session nope"), std::string::npos) << b1;
  auto [s2, b2] = post(R"({"filter":"feedback.user_feedback ==","scorers":["correctness"]})");
  EXPECT_EQ(s2, 400) << b2;
  EXPECT_NE(b2.find("column"), std::string::npos) << b2;
  auto [s3, b3] = post(R"({"dataset":"golden","scorers":["correctness"]})");
  EXPECT_EQ(s3, 400) << b3;  // no dataset source wired in this process
  EXPECT_NE(b3.find("dataset:"), std::string::npos) << b3;
  auto [s4, b4] = post("{not json");
  EXPECT_EQ(s4, 400) << b4;
  auto res = _client->Get("/api/v1/evaluations/ev-missing");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  res = _client->Get("/api/v1/evaluations/x?max_results=-1");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
}

TEST_F(EvaluatorTest, QueueIsBoundedAndRunsAreListedAndDeleted) {
  Gate& gate = make_gate();
  FakeOpenAi& judge = make_judge([&](const std::string& p, http::Response& res) {
    gate.wait();
    return judge_answer(p, res);
  });
  EvaluatorOptions o = options(&judge);
  o.max_concurrent_runs = 1;
  o.max_queued_runs = 1;
  start(o);
  const std::string body = R"({"labeling_session_id":"quickstart_review","scorers":["correctness"]})";
  const std::string first = submit(body);
  ASSERT_TRUE(wait_until([&] { return status_of(first) == "running"; }));
  const std::string second = submit(body);  // waits in the queue
  auto [status, reply] = post(body);
  EXPECT_EQ(status, 503) << reply;
  EXPECT_NE(reply.find("queue is full"), std::string::npos) << reply;
  auto del = _client->Delete("/api/v1/evaluations/" + first);
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 409);
  gate.open();
  wait_done(first);
  wait_done(second);
  auto list = _client->Get("/api/v1/evaluations");
  ASSERT_TRUE(list && list->status == 200);
  auto tree = parse_json(list->body);
  ASSERT_TRUE(tree.is_ok());
  EXPECT_EQ(tree->find("evaluations")->as_array().size(), 2u);
  del = _client->Delete("/api/v1/evaluations/" + first);
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 200);
  auto gone = _client->Get("/api/v1/evaluations/" + first);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 404);
}

TEST_F(EvaluatorTest, StopLeavesARunResumable) {
  Gate& gate = make_gate();
  FakeOpenAi& blocked = make_judge([&](const std::string& p, http::Response& res) {
    gate.wait();
    return judge_answer(p, res);
  });
  start(options(&blocked));
  const std::string id = submit(R"({"evaluation_id":"interrupted","labeling_session_id":"quickstart_review","scorers":["correctness"]})");
  ASSERT_TRUE(wait_until([&] { return blocked.request_count() >= 1; }));
  stop_all();  // interrupts the judge call instead of waiting for it
  gate.open();
  auto stored = _state.store().get(state::Family::meta, "eval/run/interrupted");
  ASSERT_TRUE(stored.is_ok() && stored->has_value());
  EXPECT_NE((*stored)->find("\"status\":\"running\""), std::string::npos) << **stored;

  FakeOpenAi& judge = make_judge(judge_answer);
  start(options(&judge));
  JsonTree run = wait_done(id);
  EXPECT_EQ(run.find("status")->as_string(), "done");
  EXPECT_EQ(number(run, {"aggregates", "correctness/count"}), 2);
  EXPECT_EQ(_state.assessments(kGood, "correctness").size(), 1u);
}

TEST_F(EvaluatorTest, ScoresWaitOutAnUnavailableSink) {
  _sink.busy = 3;
  start(options(nullptr));
  JsonTree run = wait_done(submit(R"({"labeling_session_id":"quickstart_review","scorers":["exact_match"]})"));
  EXPECT_EQ(number(run, {"assessments", "written"}), 2);
  EXPECT_EQ(number(run, {"assessments", "failed"}), 0);
  EXPECT_EQ(_state.assessments(kGood, "exact_match").size(), 1u);
}

TEST_F(EvaluatorTest, ContinuousRuleScoresCompletedItems) {
  EvaluatorOptions o = options(nullptr);
  o.rules.push_back({"quality", "quickstart_review", {{"correctness", "correctness", {}, ""}, {"token_f1", "token_f1", {}, ""}}});
  start(o);
  const std::string trace = "tr-00000000000000000000000000000009";
  _state.apply(trace_event(trace, "What is MLflow?", kExpected, 400));
  // The item completes before its label reaches the joined state (it travels through Kafka):
  // the rule waits for it.
  ASSERT_TRUE(_evaluator->item_completed({"ls-123", "quickstart_review", trace, {"a-1a7e"}}).is_ok());
  _state.apply(expectation_event("x-9", "a-1a7e", trace, "expected_response", std::string("\"") + kExpected + "\""));
  ASSERT_TRUE(wait_until([&] { return _evaluator->stats().continuous_scored == 1; }));
  EXPECT_EQ(_state.assessments(trace, "token_f1").size(), 1u);
  auto c = _state.assessments(trace, "correctness");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(std::get<Feedback>(c[0].value).value, "\"yes\"");
  EXPECT_EQ(metadata(c[0], "tracefeed.evaluation_id"), "rule:quality");
  EXPECT_EQ(metadata(c[0], "tracefeed.evaluation_rule"), "quality");
  {
    std::lock_guard lock(_scores_mu);
    EXPECT_EQ(_scores.size(), 2u);
  }
  // The gauge behind tracefeed_eval_score{scorer}.
  auto gauges = _evaluator->score_gauges();
  ASSERT_EQ(gauges.size(), 2u);
  EXPECT_EQ(gauges[0].scorer, "correctness");
  EXPECT_EQ(gauges[0].mean, 1.0);
  EXPECT_EQ(gauges[0].count, 1u);
  EXPECT_EQ(gauges[1].scorer, "token_f1");
  // Items of other sessions are not this rule's business.
  EXPECT_TRUE(_evaluator->item_completed({"ls-other", "other_session", kGood, {}}).is_ok());
}

TEST_F(EvaluatorTest, ScoreGaugeAveragesTheMostRecentScores) {
  // Dataset records whose exact_match is known: "same" matches, "other" does not.
  _sources.dataset_records = [](const std::string& name, std::optional<int64_t>) -> Result<std::vector<EvalRecord>> {
    std::vector<EvalRecord> out;
    for (char c : name) {
      EvalRecord r;
      r.record_id = "r" + std::to_string(out.size());
      r.outputs = c == 'y' ? "\"same\"" : "\"other\"";
      r.expectations = {{"expected_response", "\"same\""}};
      out.push_back(r);
    }
    return out;
  };
  EvaluatorOptions o = options(nullptr);
  o.score_window = 2;
  o.record_concurrency = 1;  // records in order
  start(o);
  wait_done(submit(R"({"dataset":"yynn","scorers":["exact_match"]})"));
  auto g = _evaluator->score_gauges();
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].scorer, "exact_match");
  EXPECT_EQ(g[0].count, 2u);
  EXPECT_EQ(g[0].mean, 0.0) << "only the last two (no, no) count";
  wait_done(submit(R"({"dataset":"nyy","scorers":["exact_match"]})"));
  EXPECT_EQ(_evaluator->score_gauges()[0].mean, 1.0);
}

TEST_F(EvaluatorTest, ContinuousQueueIsBounded) {
  Gate& gate = make_gate();
  FakeOpenAi& judge = make_judge([&](const std::string& p, http::Response& res) {
    gate.wait();
    return judge_answer(p, res);
  });
  EvaluatorOptions o = options(&judge);
  o.rules.push_back({"quality", "quickstart_review", {{"correctness", "correctness", {}, ""}}});
  o.continuous_workers = 1;
  o.continuous_queue = 2;
  start(o);
  ASSERT_TRUE(_evaluator->item_completed({"", "quickstart_review", kGood, {}}).is_ok());
  ASSERT_TRUE(wait_until([&] { return judge.request_count() == 1; }));  // the worker is busy
  EXPECT_TRUE(_evaluator->item_completed({"", "quickstart_review", kBad, {}}).is_ok());
  EXPECT_TRUE(_evaluator->item_completed({"", "quickstart_review", kOther, {}}).is_ok());
  Status full = _evaluator->item_completed({"", "quickstart_review", kGood, {}});
  EXPECT_EQ(full.code(), ErrorCode::unavailable);
  EXPECT_EQ(_evaluator->stats().continuous_rejected, 1u);
  gate.open();
  ASSERT_TRUE(wait_until([&] { return _evaluator->stats().continuous_scored == 3; }));
}

TEST_F(EvaluatorTest, BadRulesFailAtStart) {
  EvaluatorOptions o = options(nullptr);
  o.rules.push_back({"r", "", {}});
  Evaluator e(o, _sources, _hooks, _state.store(), _sink, _clock);
  Status s = e.start();
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("evaluation.rules[0].labeling_session: required"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("evaluation.rules[0].scorers"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace tracefeed::evaluate
