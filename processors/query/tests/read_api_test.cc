#include "processors/query/read_api.h"

#include <httplib.h>

#include <future>

#include "core/json_tree.h"
#include "http/server.h"
#include "processors/join/joiner.h"
#include "processors/join/tests/test_support.h"
#include "processors/join/trace_reader.h"
#include "state/write_batch.h"

namespace tracefeed::query {
namespace {

using namespace join::testing;

class ReadApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    http::ServerOptions o;
    o.listen = "127.0.0.1:0";
    _server = std::make_unique<http::Server>(o);
    register_read_routes(*_server, _reader, ReadApiOptions{std::chrono::milliseconds(300)});
    ASSERT_TRUE(_server->start().is_ok());
    _client = std::make_unique<httplib::Client>("127.0.0.1", _server->port());
  }
  void apply(const std::string& json) {
    state::WriteBatch batch(*_store);
    (void)_joiner.apply(parse(json), 1'700'000'000'000'000'000, batch);
    ASSERT_TRUE(_store->write(batch).is_ok());
  }

  ManualClock _clock;
  TempStore _store{_clock};
  join::Joiner _joiner;
  join::TraceReader _reader{*_store};
  std::unique_ptr<http::Server> _server;
  std::unique_ptr<httplib::Client> _client;
};

TEST_F(ReadApiTest, GetTraceInfoWithAssessments) {
  apply(trace_json("e1", root_span()));
  apply(feedback_json("e2", "a-01", "false"));
  auto r = _client->Get(std::string("/api/3.0/mlflow/traces/") + kTrace);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_NE(r->body.find(R"("trace":{"trace_info":{"trace_id":")" + std::string(kTrace)), std::string::npos) << r->body;
  EXPECT_NE(r->body.find(R"("assessments":[{"assessment_id":"a-01")"), std::string::npos) << r->body;
  EXPECT_EQ(r->body.find(R"("spans")"), std::string::npos) << r->body;
}

TEST_F(ReadApiTest, GetTraceWithSpans) {
  apply(trace_json("e1", root_span()));
  auto r = _client->Get(std::string("/api/3.0/mlflow/traces/get?trace_id=") + kTrace);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_NE(r->body.find(R"("spans":[{"span_id":"00000000000000a1")"), std::string::npos) << r->body;
}

TEST_F(ReadApiTest, GetTraceForMlflowsClientAnswersOpenTelemetrySpans) {
  apply(trace_json("e1", root_span() + "," + child_span()));
  apply(feedback_json("e2", "a-01", "false"));
  const std::string path = std::string("/api/3.0/mlflow/traces/get?trace_id=") + kTrace;
  auto r = _client->Get(path, httplib::Headers{{"X-MLflow-Client-Version", "3.17.2"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_NE(r->body.find(R"("assessments":[{"assessment_id":"a-01")"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find(R"("spans":[{"trace_id":"ASNFZ4mrze8BI0VniavN7w==","span_id":"AAAAAAAAAKE=","name":"my_chatbot",)"
                         R"("start_time_unix_nano":"1748779200250000000","end_time_unix_nano":"1748779201500000000",)"),
            std::string::npos)
      << r->body;
  EXPECT_NE(r->body.find(R"({"key":"mlflow.spanType","value":{"string_value":"RETRIEVER"}})"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find(R"({"key":"mlflow.spanInputs","value":{"kvlist_value":{"values":[{"key":"user_question",)"
                         R"("value":{"string_value":"What is MLflow?"}}]}}})"),
            std::string::npos)
      << r->body;
  EXPECT_NE(r->body.find(R"("parent_span_id":"AAAAAAAAAKE=")"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find(R"("status":{"code":"STATUS_CODE_OK"})"), std::string::npos) << r->body;
  EXPECT_EQ(r->body.find(R"("span_type")"), std::string::npos) << r->body;

  // Without the header (the web UI, tests, curl): tracefeed's shape, unchanged.
  auto plain = _client->Get(path);
  ASSERT_TRUE(plain);
  EXPECT_NE(plain->body.find(R"("spans":[{"span_id":"00000000000000a1")"), std::string::npos) << plain->body;
  EXPECT_NE(plain->body.find(R"("span_type":"RETRIEVER")"), std::string::npos) << plain->body;
}

TEST_F(ReadApiTest, BatchGetTracesInTheOrderAsked) {
  const std::string t2 = "tr-0123456789abcdef0123456789abcde2";
  const std::string missing = "tr-0123456789abcdef0123456789abcde9";
  apply(trace_json("e1", root_span()));
  apply(trace_json("e3", child_span(), t2));
  auto r = _client->Get("/api/3.0/mlflow/traces/batchGet?trace_ids=" + t2 + "&trace_ids=" + missing +
                        "&trace_ids=" + kTrace + "&trace_ids=" + t2);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto tree = parse_json(r->body);
  ASSERT_TRUE(tree.is_ok()) << r->body;
  std::vector<std::string> ids;
  for (const auto& t : tree->find("traces")->as_array()) {
    ids.push_back(t.find("trace_info")->find("trace_id")->as_string());
    ASSERT_EQ(t.find("spans")->as_array().size(), 1u) << r->body;
    EXPECT_TRUE(t.find("spans")->as_array()[0].find("span_id")->is_string());
  }
  EXPECT_EQ(ids, (std::vector<std::string>{t2, kTrace}));

  auto other_experiment = _client->Get(std::string("/api/3.0/mlflow/traces/batchGet?experiment_ids=7&trace_ids=") + kTrace);
  ASSERT_TRUE(other_experiment);
  EXPECT_EQ(other_experiment->body, R"({"traces":[]})");
  auto default_experiment = _client->Get(std::string("/api/3.0/mlflow/traces/batchGet?experiment_ids=0&trace_ids=") + kTrace);
  ASSERT_TRUE(default_experiment);
  EXPECT_NE(default_experiment->body.find(kTrace), std::string::npos) << default_experiment->body;
}

TEST_F(ReadApiTest, BatchGetTracesErrorsNameTheField) {
  auto none = _client->Get("/api/3.0/mlflow/traces/batchGet");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 400);
  EXPECT_NE(none->body.find("trace_ids: required"), std::string::npos) << none->body;
  auto bad = _client->Get("/api/3.0/mlflow/traces/batchGet?trace_ids=tr-12");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find(R"(trace_ids: expected \"tr-\" + 32 lowercase hex, got \"tr-12\")"), std::string::npos) << bad->body;
  std::string many = "/api/3.0/mlflow/traces/batchGet?";
  for (int i = 0; i < 101; ++i) {
    char id[40];
    std::snprintf(id, sizeof id, "tr-%032x", i);
    many += std::string(i ? "&" : "") + "trace_ids=" + id;
  }
  auto too_many = _client->Get(many);
  ASSERT_TRUE(too_many);
  EXPECT_EQ(too_many->status, 400);
  EXPECT_NE(too_many->body.find("trace_ids: at most 100 per request, got 101"), std::string::npos) << too_many->body;
}

TEST_F(ReadApiTest, GetAssessment) {
  apply(feedback_json("e2", "a-01", "false"));
  auto r = _client->Get(std::string("/api/3.0/mlflow/traces/") + kTrace + "/assessments/a-01");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_NE(r->body.find(R"({"assessment":{"assessment_id":"a-01","assessment_name":"user_feedback")"), std::string::npos)
      << r->body;
}

TEST_F(ReadApiTest, ErrorsNameTheProblem) {
  auto missing = _client->Get(std::string("/api/3.0/mlflow/traces/") + kTrace);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_NE(missing->body.find("not found"), std::string::npos);
  auto bad = _client->Get("/api/3.0/mlflow/traces/get?trace_id=nope");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("trace_id: expected"), std::string::npos) << bad->body;
  auto no_param = _client->Get("/api/3.0/mlflow/traces/get");
  ASSERT_TRUE(no_param);
  EXPECT_EQ(no_param->status, 400);
}

TEST_F(ReadApiTest, SearchFiltersSortsAndPages) {
  const std::string t2 = "tr-0123456789abcdef0123456789abcde2";
  const std::string t3 = "tr-0123456789abcdef0123456789abcde3";
  apply(trace_json("e1", root_span()));
  apply(feedback_json("e2", "a-01", "false"));
  apply(trace_json("e3", root_span(), t2));
  apply(feedback_json("e4", "a-02", "true", "", t2));
  apply(trace_json("e5", root_span(), t3));
  apply(feedback_json("e6", "a-03", "false", "", t3));
  auto r = _client->Post("/api/3.0/mlflow/traces/search",
                         R"({"filter":"feedback.user_feedback = false","max_results":1,"order_by":["trace_id ASC"]})",
                         "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  // "...de3" sorts before "...def"; the thumbs-up trace "...de2" is filtered out.
  EXPECT_NE(r->body.find(R"({"traces":[{"trace_id":")" + t3), std::string::npos) << r->body;
  EXPECT_NE(r->body.find(R"("next_page_token":"1")"), std::string::npos) << r->body;
  auto page2 = _client->Post("/api/3.0/mlflow/traces/search",
                             R"({"filter":"feedback.user_feedback = false","max_results":1,"order_by":["trace_id ASC"],"page_token":"1"})",
                             "application/json");
  ASSERT_TRUE(page2);
  EXPECT_NE(page2->body.find(std::string(R"({"traces":[{"trace_id":")") + kTrace), std::string::npos) << page2->body;
  EXPECT_EQ(page2->body.find("next_page_token"), std::string::npos) << page2->body;

  auto all = _client->Post("/api/3.0/mlflow/traces/search", R"({"locations":[{"type":"MLFLOW_EXPERIMENT","mlflow_experiment":{"experiment_id":"0"}}]})", "application/json");
  ASSERT_TRUE(all);
  EXPECT_EQ(all->status, 200);
  size_t n = 0;
  for (size_t pos = 0; (pos = all->body.find("\"trace_id\":\"tr-", pos)) != std::string::npos; ++pos) ++n;
  EXPECT_GE(n, 3u);

  auto bad = _client->Post("/api/3.0/mlflow/traces/search", R"({"filter":"feedback.user_feedback == false"})", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("column 24"), std::string::npos) << bad->body;
}

TEST_F(ReadApiTest, ReadWaitsForTheProcessorToCatchUp) {
  // The read starts before the event is applied and is answered once it is.
  auto pending = std::async(std::launch::async, [&] {
    httplib::Client c("127.0.0.1", _server->port());
    return c.Get(std::string("/api/3.0/mlflow/traces/") + kTrace + "/assessments/a-01");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the read begin first
  apply(feedback_json("e2", "a-01", "false"));
  auto r = pending.get();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
}

}  // namespace
}  // namespace tracefeed::query
