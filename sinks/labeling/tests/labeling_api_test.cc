#include "sinks/labeling/labeling_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include "http/server.h"
#include "sinks/labeling/tests/test_support.h"

namespace tracefeed::labeling {
namespace {

using namespace testing;
using ::testing::HasSubstr;

class LabelingApiTest : public ::testing::Test {
 protected:
  void SetUp() override { start({}); }

  void start(std::vector<http::AuthToken> tokens) {
    _server.reset();
    _service = std::make_unique<LabelingService>(*_store, _sink, _clock, LabelingOptions{});
    ASSERT_TRUE(_service->load({}, {}).is_ok());
    http::ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.threads = 2;
    o.auth_tokens = std::move(tokens);
    _server = std::make_unique<http::Server>(o);
    register_labeling_routes(*_server, *_service);
    ASSERT_TRUE(_server->start().is_ok());
    _client = std::make_unique<httplib::Client>("127.0.0.1", _server->port());
  }

  void TearDown() override {
    _client.reset();
    _server.reset();
  }

  // (status, parsed body or null)
  std::pair<int, JsonTree> post(const std::string& path, const std::string& body,
                                const httplib::Headers& h = {}) {
    auto r = _client->Post(path, h, body, "application/json");
    EXPECT_TRUE(r) << path;
    if (!r) return {0, JsonTree()};
    auto v = r->body.empty() ? Result<JsonTree>(JsonTree()) : parse_json(r->body);
    EXPECT_TRUE(v.is_ok()) << r->body;
    return {r->status, v.is_ok() ? std::move(v).value() : JsonTree()};
  }
  std::pair<int, JsonTree> get(const std::string& path) {
    auto r = _client->Get(path);
    EXPECT_TRUE(r) << path;
    if (!r) return {0, JsonTree()};
    auto v = parse_json(r->body);
    EXPECT_TRUE(v.is_ok()) << r->body;
    return {r->status, v.is_ok() ? std::move(v).value() : JsonTree()};
  }
  static std::string message(const JsonTree& v) {
    const JsonTree* m = v.find("message");
    return m && m->is_string() ? m->as_string() : v.to_json();
  }

  void create_quickstart() {
    auto [s1, b1] = post("/api/v1/label-schemas", R"({"name":"response_accuracy","type":"feedback",
      "title":"Is the response factually accurate?","enable_comment":true,
      "input":{"categorical":{"options":["Accurate","Partially Accurate","Inaccurate"]}},"overwrite":true})");
    ASSERT_EQ(s1, 201) << b1.to_json();
    auto [s2, b2] =
        post("/api/v1/label-schemas", R"({"name":"expected_response","type":"expectation",
      "title":"What would be the ideal response?","input":{"text":{}}})");
    ASSERT_EQ(s2, 201) << b2.to_json();
    auto [s3, b3] = post("/api/v1/labeling-sessions", R"({"name":"quickstart_review",
      "label_schemas":["response_accuracy","expected_response"],"lease_duration":"5m"})");
    ASSERT_EQ(s3, 201) << b3.to_json();
    _session_id = b3.find("labeling_session_id")->as_string();
  }

  ManualClock _clock;
  TempStore _store{_clock};
  FakeSink _sink;
  std::unique_ptr<LabelingService> _service;
  std::unique_ptr<http::Server> _server;
  std::unique_ptr<httplib::Client> _client;
  std::string _session_id;
};

TEST_F(LabelingApiTest, TheQuickstartReviewOverHttp) {
  create_quickstart();
  auto [added_status, added] =
      post("/api/v1/labeling-sessions/quickstart_review/items",
           R"({"trace_ids":[")" + trace(1) + R"(",")" + trace(2) + R"("]})");
  ASSERT_EQ(added_status, 200) << added.to_json();
  EXPECT_EQ(added.find("added")->as_number(), 2);
  auto [again_status, again] = post("/api/v1/labeling-sessions/" + _session_id + "/items",
                                    R"({"trace_ids":[")" + trace(1) + R"("]})");
  EXPECT_EQ(again.find("already_present")->as_number(), 1) << "idempotent, by id or by name";

  auto [claim_status, claimed] =
      post("/api/v1/labeling-sessions/quickstart_review/claim", R"({"reviewer":"alice"})");
  ASSERT_EQ(claim_status, 200) << claimed.to_json();
  const std::string trace_id = claimed.find("trace_id")->as_string();
  const std::string token = claimed.find("lease")->find("token")->as_string();
  EXPECT_EQ(trace_id, trace(1));
  EXPECT_EQ(claimed.find("lease")->find("expires_at")->as_string(), "2023-11-14T22:18:20Z")
      << "ManualClock + 5m";

  auto [submit_status, submitted] = post(
      "/api/v1/labeling-sessions/quickstart_review/items/" + trace_id + "/submit",
      R"({"reviewer":"alice","lease_token":")" + token +
          R"(","labels":{"response_accuracy":"Inaccurate","expected_response":"MLflow has Projects and a Model Registry."},
               "comments":{"response_accuracy":"misses key features"}})");
  ASSERT_EQ(submit_status, 200) << submitted.to_json();
  EXPECT_EQ(submitted.find("status")->as_string(), "completed");
  EXPECT_EQ(submitted.find("assessments")->as_array().size(), 2u);
  EXPECT_EQ(_sink.size(), 2u);

  auto [c2, claimed2] =
      post("/api/v1/labeling-sessions/quickstart_review/claim", R"({"reviewer":"bob"})");
  ASSERT_EQ(c2, 200);
  auto [skip_status, skipped] =
      post("/api/v1/labeling-sessions/quickstart_review/items/" + trace(2) + "/skip",
           R"({"reviewer":"bob","lease_token":")" +
               claimed2.find("lease")->find("token")->as_string() + "\"}");
  ASSERT_EQ(skip_status, 200) << skipped.to_json();
  EXPECT_EQ(skipped.find("status")->as_string(), "skipped");
  auto [none_status, none] =
      post("/api/v1/labeling-sessions/quickstart_review/claim", R"({"reviewer":"carol"})");
  EXPECT_EQ(none_status, 204);

  auto [view_status, view] = get("/api/v1/labeling-sessions/quickstart_review");
  ASSERT_EQ(view_status, 200);
  EXPECT_EQ(view.find("labeling_session_id")->as_string(), _session_id);
  EXPECT_EQ(view.find("mlflow_run_id")->as_string().size(), 32u);
  EXPECT_EQ(view.find("url")->as_string(), "/#/review/" + _session_id);
  EXPECT_EQ(view.find("lease_duration")->as_string(), "5m");
  EXPECT_EQ(view.find("progress")->find("completed")->as_number(), 1);
  EXPECT_EQ(view.find("progress")->find("skipped")->as_number(), 1);
  EXPECT_EQ(view.find("reviewers")->find("alice")->find("completed")->as_number(), 1);
  EXPECT_EQ(view.find("reviewers")->find("bob")->find("skipped")->as_number(), 1);

  auto [items_status, items] =
      get("/api/v1/labeling-sessions/quickstart_review/items?status=completed");
  ASSERT_EQ(items_status, 200);
  ASSERT_EQ(items.find("items")->as_array().size(), 1u);
  const JsonTree& item = items.find("items")->as_array()[0];
  EXPECT_EQ(item.find("trace_id")->as_string(), trace(1));
  const JsonTree& review = item.find("reviews")->as_array()[0];
  EXPECT_EQ(review.find("labels")->find("response_accuracy")->as_string(), "Inaccurate");
  EXPECT_EQ(review.find("comments")->find("response_accuracy")->as_string(), "misses key features");
  EXPECT_EQ(item.find("lease"), nullptr);

  auto [list_status, list] = get("/api/v1/labeling-sessions");
  ASSERT_EQ(list_status, 200);
  EXPECT_EQ(list.find("labeling_sessions")->as_array().size(), 1u);
  auto [schemas_status, schemas] = get("/api/v1/label-schemas");
  ASSERT_EQ(schemas.find("label_schemas")->as_array().size(), 2u);
  EXPECT_EQ(schemas.find("label_schemas")->as_array()[0].find("source")->as_string(), "api");
  auto [one_status, one] = get("/api/v1/label-schemas/response_accuracy");
  EXPECT_EQ(one.find("input")->find("categorical")->find("options")->as_array().size(), 3u);
}

TEST_F(LabelingApiTest, ErrorsNameTheField) {
  create_quickstart();
  post("/api/v1/labeling-sessions/quickstart_review/items",
       R"({"trace_ids":[")" + trace(1) + R"("]})");

  auto [s1, b1] = post("/api/v1/label-schemas", R"({"name":"n","type":"feedback","title":"t",
      "input":{"numeric":{"min_value":5,"max_value":1}}})");
  EXPECT_EQ(s1, 400);
  EXPECT_THAT(message(b1), HasSubstr("input.numeric.max_value"));
  EXPECT_EQ(b1.find("error_code")->as_string(), "INVALID_PARAMETER_VALUE");
  auto [s2, b2] =
      post("/api/v1/label-schemas", R"({"name":"response_accuracy","type":"feedback","title":"t",
      "input":{"text":{}}})");
  EXPECT_EQ(s2, 409) << "exists, no overwrite";
  auto [s3, b3] = post("/api/v1/labeling-sessions", R"({"name":"x","label_schemas":["nope"]})");
  EXPECT_EQ(s3, 400);
  EXPECT_THAT(message(b3), HasSubstr("label_schemas[0]"));
  auto [s4, b4] = post("/api/v1/labeling-sessions",
                       R"({"name":"x","label_schemas":["response_accuracy"],"agent":"a"})");
  EXPECT_EQ(s4, 400);
  EXPECT_THAT(message(b4), HasSubstr("agent: unknown key"));
  auto [s5, b5] =
      post("/api/v1/labeling-sessions",
           R"({"name":"x","label_schemas":["response_accuracy"],"lease_duration":"soon"})");
  EXPECT_THAT(message(b5), HasSubstr("lease_duration"));
  auto [s6, b6] =
      post("/api/v1/labeling-sessions/quickstart_review/items", R"({"trace_ids":["tr-1"]})");
  EXPECT_EQ(s6, 400);
  EXPECT_THAT(message(b6), HasSubstr("trace_ids[0]"));
  auto [s7, b7] =
      post("/api/v1/labeling-sessions/quickstart_review/items", R"({"trace_ids":[],"filter":"x"})");
  EXPECT_THAT(message(b7), HasSubstr("exactly one of trace_ids or filter"));
  auto [s8, b8] = post("/api/v1/labeling-sessions/quickstart_review/claim", R"({})");
  EXPECT_EQ(s8, 400);
  EXPECT_THAT(message(b8), HasSubstr("reviewer: required"));
  auto [s9, b9] = post("/api/v1/labeling-sessions/nope/claim", R"({"reviewer":"a"})");
  EXPECT_EQ(s9, 404);
  auto [s10, b10] = get("/api/v1/labeling-sessions/quickstart_review/items?status=done");
  EXPECT_EQ(s10, 400);
  EXPECT_THAT(message(b10), HasSubstr("status"));

  auto [c, claimed] =
      post("/api/v1/labeling-sessions/quickstart_review/claim", R"({"reviewer":"alice"})");
  const std::string token = claimed.find("lease")->find("token")->as_string();
  const std::string submit =
      "/api/v1/labeling-sessions/quickstart_review/items/" + trace(1) + "/submit";
  auto [s11, b11] = post(submit, R"({"reviewer":"alice","lease_token":")" + token +
                                     R"(","labels":{"response_accuracy":"Great"}})");
  EXPECT_EQ(s11, 400);
  EXPECT_THAT(message(b11), HasSubstr("labels.response_accuracy"));
  auto [s12, b12] = post(submit, R"({"reviewer":"bob","lease_token":")" + token +
                                     R"(","labels":{"response_accuracy":"Accurate"}})");
  EXPECT_EQ(s12, 409) << "foreign token";
  EXPECT_EQ(b12.find("error_code")->as_string(), "CONFLICT");
  auto [s13, b13] = post(
      submit,
      R"({"reviewer":"alice","lease_token":"1-0000000000000000","labels":{"response_accuracy":"Accurate"}})");
  EXPECT_EQ(s13, 409) << "made-up token";
  auto [s14, b14] =
      post(submit, R"({"reviewer":"alice","labels":{"response_accuracy":"Accurate"}})");
  EXPECT_EQ(s14, 400);
  EXPECT_THAT(message(b14), HasSubstr("lease_token: required"));
  auto [s15, b15] = post(submit, "{not json");
  EXPECT_EQ(s15, 400);

  auto [d1, db1] =
      post("/api/v1/labeling-sessions", R"({"name":"gone","label_schemas":["response_accuracy"]})");
  ASSERT_EQ(d1, 201);
  auto del = _client->Delete("/api/v1/labeling-sessions/gone");
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 200);
  auto del_schema = _client->Delete("/api/v1/label-schemas/response_accuracy");
  EXPECT_EQ(del_schema->status, 409) << "in use by quickstart_review";
}

TEST_F(LabelingApiTest, TheAuthenticatedUserIsTheReviewer) {
  start({{.user = "alice", .token = "tok-alice-0123456789", .token_env = ""}});
  const httplib::Headers alice = {{"Authorization", "Bearer tok-alice-0123456789"}};
  ASSERT_EQ(post("/api/v1/label-schemas",
                 R"({"name":"ok","type":"feedback","title":"t","input":{"pass_fail":{}}})", alice)
                .first,
            201);
  ASSERT_EQ(
      post("/api/v1/labeling-sessions", R"({"name":"s","label_schemas":["ok"]})", alice).first,
      201);
  ASSERT_EQ(
      post("/api/v1/labeling-sessions/s/items", R"({"trace_ids":[")" + trace(1) + R"("]})", alice)
          .first,
      200);

  EXPECT_EQ(post("/api/v1/labeling-sessions/s/claim", R"({"reviewer":"alice"})").first, 401)
      << "no token";
  auto [impersonate, body] =
      post("/api/v1/labeling-sessions/s/claim", R"({"reviewer":"bob"})", alice);
  EXPECT_EQ(impersonate, 403);
  EXPECT_THAT(message(body), HasSubstr("authenticated as alice"));
  auto [ok, claimed] = post("/api/v1/labeling-sessions/s/claim", "", alice);  // no body needed
  ASSERT_EQ(ok, 200) << claimed.to_json();
  auto [done, result] =
      post("/api/v1/labeling-sessions/s/items/" + trace(1) + "/submit",
           R"({"lease_token":")" + claimed.find("lease")->find("token")->as_string() +
               R"(","labels":{"ok":"Pass"}})",
           alice);
  ASSERT_EQ(done, 200) << result.to_json();
  const auto events = _sink.snapshot();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].assessment().source.source_id, "alice");
  EXPECT_EQ(std::get<Feedback>(events[0].assessment().value).value, "true");
}

TEST(LabelingRunJson, AnswersGetRunForTheSessionsRun) {
  std::string out;
  JsonWriter w(out);
  write_mlflow_run_json(
      w, SessionRun{"0123456789abcdef0123456789abcdef", "0", "fedcba98765432100123456789abcdef",
                    "quickstart_review", 1'700'000'000'000});
  // What mlflow-skinny 3.17.2 parses into GetRun.Response (checked with its protos by hand).
  EXPECT_EQ(
      out,
      R"({"run":{"info":{"run_id":"0123456789abcdef0123456789abcdef","run_uuid":"0123456789abcdef0123456789abcdef",)"
      R"("run_name":"quickstart_review","experiment_id":"0","status":"RUNNING","start_time":1700000000000,)"
      R"("lifecycle_stage":"active","artifact_uri":""},"data":{"tags":[{"key":"mlflow.runName","value":"quickstart_review"},)"
      R"({"key":"tracefeed.labeling_session_id","value":"fedcba98765432100123456789abcdef"}]}}})");
}

}  // namespace
}  // namespace tracefeed::labeling
