// MLflow's label-schema REST API (mlflow/protos/label_schemas.proto) over the labeling service:
// the JSON the mlflow 3.17 client sends and parses, over a real HTTP server.
#include "sinks/labeling/mlflow_label_schema_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include "http/server.h"
#include "sinks/labeling/labeling_api.h"
#include "sinks/labeling/tests/test_support.h"

namespace tracefeed::labeling {
namespace {

using namespace testing;
using ::testing::HasSubstr;

constexpr const char* kV3 = "/api/3.0/mlflow/label-schemas/";

class MlflowLabelSchemaApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config::LabelSchema from_config = text_expectation("config_schema");
    config::LabelSchema list;
    list.name = "facts";
    list.title = "Facts";
    list.type = config::LabelSchemaType::expectation;
    list.input = config::TextListInput{100, 5};
    _service = std::make_unique<LabelingService>(*_store, _sink, _clock, LabelingOptions{});
    ASSERT_TRUE(_service->load({from_config, list}, {}).is_ok());
    http::ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.threads = 2;
    _server = std::make_unique<http::Server>(o);
    register_labeling_routes(*_server, *_service);
    register_mlflow_label_schema_routes(*_server, *_service);
    ASSERT_TRUE(_server->start().is_ok());
    _client = std::make_unique<httplib::Client>("127.0.0.1", _server->port());
  }
  void TearDown() override {
    _client.reset();
    _server.reset();
  }

  static std::pair<int, JsonTree> parsed(const httplib::Result& r) {
    EXPECT_TRUE(r);
    if (!r) return {0, JsonTree()};
    auto v = parse_json(r->body);
    EXPECT_TRUE(v.is_ok()) << r->body;
    return {r->status, v.is_ok() ? std::move(v).value() : JsonTree()};
  }
  std::pair<int, JsonTree> post(const std::string& rpc, const std::string& body) {
    return parsed(_client->Post(kV3 + rpc, body, "application/json"));
  }
  std::pair<int, JsonTree> patch(const std::string& rpc, const std::string& body) {
    return parsed(_client->Patch(kV3 + rpc, body, "application/json"));
  }
  std::pair<int, JsonTree> get(const std::string& rpc_and_query) {
    return parsed(_client->Get(kV3 + rpc_and_query));
  }
  std::pair<int, JsonTree> del(const std::string& body) {
    return parsed(_client->Delete(std::string(kV3) + "delete", body, "application/json"));
  }
  static std::string message(const JsonTree& v) {
    const JsonTree* m = v.find("message");
    return m && m->is_string() ? m->as_string() : v.to_json();
  }
  static std::string str(const JsonTree& v, std::string_view key) {
    const JsonTree* m = v.find(key);
    return m && m->is_string() ? m->as_string() : "<" + std::string(key) + " missing>";
  }

  ManualClock _clock;
  TempStore _store{_clock};
  FakeSink _sink;
  std::unique_ptr<LabelingService> _service;
  std::unique_ptr<http::Server> _server;
  std::unique_ptr<httplib::Client> _client;
};

// What mlflow.genai.label_schemas.create_label_schema sends for the quickstart's schemas (without
// title/overwrite, which the OSS client refuses) — and what the native API then shows.
TEST_F(MlflowLabelSchemaApiTest, CreatesTheQuickstartSchemas) {
  auto [s1, b1] =
      post("create", R"({"experiment_id":"0","name":"response_accuracy","type":"FEEDBACK",
      "input":{"categorical":{"options":["Accurate","Partially Accurate","Inaccurate"],"multi_select":false}},
      "enable_comment":true})");
  ASSERT_EQ(s1, 200) << b1.to_json();
  const JsonTree& ls = *b1.find("label_schema");
  EXPECT_EQ(str(ls, "schema_id"), "response_accuracy");
  EXPECT_EQ(str(ls, "experiment_id"), "0");
  EXPECT_EQ(str(ls, "type"), "FEEDBACK");
  EXPECT_TRUE(ls.find("enable_comment")->as_bool());
  EXPECT_EQ(ls.find("input")->find("categorical")->find("options")->as_array().size(), 3u);
  EXPECT_FALSE(ls.find("input")->find("categorical")->find("multi_select")->as_bool());

  auto [s2, b2] =
      post("create", R"({"experiment_id":"0","name":"expected_response","type":"EXPECTATION",
      "input":{"text":{}},"instruction":"Write the ideal answer"})");
  ASSERT_EQ(s2, 200) << b2.to_json();
  EXPECT_EQ(str(*b2.find("label_schema"), "instruction"), "Write the ideal answer");

  // The same schema through tracefeed's own API: title = name, categorical.
  auto native = parsed(_client->Get("/api/v1/label-schemas/response_accuracy"));
  ASSERT_EQ(native.first, 200);
  EXPECT_EQ(str(native.second, "title"), "response_accuracy");
  EXPECT_EQ(str(native.second, "source"), "api");
  ASSERT_TRUE(native.second.find("input")->find("categorical"));

  // A session can use it right away.
  auto session = parsed(
      _client->Post("/api/v1/labeling-sessions",
                    R"({"name":"s","label_schemas":["response_accuracy","expected_response"]})",
                    "application/json"));
  EXPECT_EQ(session.first, 201) << session.second.to_json();

  // Creating it again is RESOURCE_ALREADY_EXISTS (MLflow's create never overwrites).
  auto [s3, b3] =
      post("create", R"({"name":"response_accuracy","type":"FEEDBACK","input":{"text":{}}})");
  EXPECT_EQ(s3, 409);
  EXPECT_EQ(str(b3, "error_code"), "RESOURCE_ALREADY_EXISTS");
}

TEST_F(MlflowLabelSchemaApiTest, EveryInputKindRoundTrips) {
  ASSERT_EQ(
      post(
          "create",
          R"({"name":"pf","type":1,"input":{"pass_fail":{"positive_label":"Correct","negative_label":"Incorrect"}}})")
          .first,
      200);
  ASSERT_EQ(
      post(
          "create",
          R"({"name":"tags","type":"FEEDBACK","input":{"categorical":{"options":["a","b"],"multi_select":true}}})")
          .first,
      200);
  ASSERT_EQ(
      post(
          "create",
          R"({"name":"score","type":"FEEDBACK","input":{"numeric":{"min_value":1.0,"max_value":5.0}}})")
          .first,
      200);
  ASSERT_EQ(post("create",
                 R"({"name":"short","type":"EXPECTATION","input":{"text":{"max_length":"140"}}})")
                .first,
            200);

  auto [s, b] = get("get?schema_id=pf");
  ASSERT_EQ(s, 200);
  EXPECT_EQ(str(*b.find("label_schema")->find("input")->find("pass_fail"), "positive_label"),
            "Correct");
  EXPECT_EQ(b.find("label_schema")->find("experiment_id"), nullptr) << "unknown when read by id";
  auto [s2, b2] = get("get-by-name?experiment_id=7&name=tags");
  ASSERT_EQ(s2, 200);
  EXPECT_TRUE(
      b2.find("label_schema")->find("input")->find("categorical")->find("multi_select")->as_bool());
  EXPECT_EQ(str(*b2.find("label_schema"), "experiment_id"), "7");
  // tracefeed stores a multi-select as categorical_list (answers are lists).
  auto native = parsed(_client->Get("/api/v1/label-schemas/tags"));
  EXPECT_TRUE(native.second.find("input")->find("categorical_list"));
  auto [s3, b3] = get("get?schema_id=score");
  EXPECT_EQ(b3.find("label_schema")->find("input")->find("numeric")->find("max_value")->as_number(),
            5.0);
  auto [s4, b4] = get("get?schema_id=short");
  EXPECT_EQ(b4.find("label_schema")->find("input")->find("text")->find("max_length")->as_number(),
            140);
}

TEST_F(MlflowLabelSchemaApiTest, ListsInPagesByNameWithoutTextLists) {
  for (const char* n : {"b", "a", "d", "c"})
    ASSERT_EQ(post("create",
                   std::string(R"({"name":")") + n + R"(","type":"FEEDBACK","input":{"text":{}}})")
                  .first,
              200);
  // a b c config_schema d (+ "facts", a text_list: left out)
  std::vector<std::string> names;
  std::string token;
  int pages = 0;
  do {
    auto [s, b] =
        get("list?experiment_id=0&max_results=2" + (token.empty() ? "" : "&page_token=" + token));
    ASSERT_EQ(s, 200) << b.to_json();
    for (const auto& ls : b.find("label_schemas")->as_array()) names.push_back(str(ls, "name"));
    const JsonTree* next = b.find("next_page_token");
    token = next ? next->as_string() : "";
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_THAT(names, ::testing::ElementsAre("a", "b", "c", "config_schema", "d"));
  EXPECT_EQ(pages, 3);

  auto [s, b] = get("get?schema_id=facts");
  EXPECT_EQ(s, 400);
  EXPECT_THAT(message(b), HasSubstr("/api/v1/label-schemas/facts"));
  auto [s2, b2] = get("list?max_results=0");
  EXPECT_EQ(s2, 400);
  EXPECT_THAT(message(b2), HasSubstr("max_results"));
}

TEST_F(MlflowLabelSchemaApiTest, BadSchemasAre400sNamingTheField) {
  struct Case {
    const char* body;
    const char* field;
  };
  const Case cases[] = {
      {R"({"type":"FEEDBACK","input":{"text":{}}})", "name: required"},
      {R"({"name":"x","input":{"text":{}}})", "type: required"},
      {R"({"name":"x","type":"LABEL_SCHEMA_TYPE_UNSPECIFIED","input":{"text":{}}})",
       "type: expected FEEDBACK or EXPECTATION"},
      {R"({"name":"x","type":0,"input":{"text":{}}})", "type: expected FEEDBACK or EXPECTATION"},
      {R"({"name":"x","type":"FEEDBACK"})", "input: required"},
      {R"({"name":"x","type":"FEEDBACK","input":{}})", "input: expected exactly one of"},
      {R"({"name":"x","type":"FEEDBACK","input":{"text":{},"numeric":{}}})",
       "input: expected exactly one of"},
      {R"({"name":"x","type":"FEEDBACK","input":{"slider":{}}})", "input.slider: unknown key"},
      {R"({"name":"x","type":"FEEDBACK","input":{"text":{"max_lenght":5}}})",
       "input.text.max_lenght: unknown key"},
      {R"({"name":"x","type":"FEEDBACK","input":{"text":{"max_length":0}}})",
       "input.text.max_length"},
      {R"({"name":"x","type":"FEEDBACK","input":{"text":{"max_length":"ten"}}})",
       "input.text.max_length: expected an integer"},
      {R"({"name":"x","type":"FEEDBACK","input":{"categorical":{"options":["a","a"]}}})",
       "input.categorical.options[1]: duplicate option"},
      {R"({"name":"x","type":"FEEDBACK","input":{"categorical":{"options":["a","a"],"multi_select":true}}})",
       "input.categorical.options[1]: duplicate option"},
      {R"({"name":"x","type":"FEEDBACK","input":{"categorical":{"options":[]}}})",
       "input.categorical.options"},
      {R"({"name":"x","type":"FEEDBACK","input":{"categorical":{"options":[1]}}})",
       "input.categorical.options[0]: expected a string"},
      {R"({"name":"x","type":"FEEDBACK","input":{"numeric":{"min_value":5,"max_value":1}}})",
       "input.numeric.max_value"},
      {R"({"name":"x","type":"FEEDBACK","input":{"pass_fail":{"positive_label":"Y","negative_label":"Y"}}})",
       "input.pass_fail.negative_label"},
      {R"({"name":"a.b","type":"FEEDBACK","input":{"text":{}}})", "name:"},
      {R"({"name":"x","type":"FEEDBACK","input":{"text":{}},"title":"T"})", "title: unknown key"},
      {R"({"name":"x","type":"FEEDBACK","input":{"text":{}},"enable_comment":"yes"})",
       "enable_comment: expected true or false"},
      {R"(["x"])", "expected a JSON object"},
  };
  for (const auto& c : cases) {
    auto [s, b] = post("create", c.body);
    EXPECT_EQ(s, 400) << c.body;
    EXPECT_EQ(str(b, "error_code"), "INVALID_PARAMETER_VALUE") << c.body;
    EXPECT_THAT(message(b), HasSubstr(c.field)) << c.body;
  }
  EXPECT_EQ(_service->list_schemas().size(), 2u) << "nothing was created";
}

TEST_F(MlflowLabelSchemaApiTest, UpdatesAndDeletes) {
  ASSERT_EQ(
      post("create",
           R"({"name":"acc","type":"FEEDBACK","input":{"categorical":{"options":["a","b"]}}})")
          .first,
      200);
  auto [s1, b1] =
      patch("update", R"({"schema_id":"acc","instruction":"Pick one","enable_comment":true,
      "input":{"categorical":{"options":["a","b","c"]}}})");
  ASSERT_EQ(s1, 200) << b1.to_json();
  EXPECT_EQ(str(*b1.find("label_schema"), "instruction"), "Pick one");
  EXPECT_EQ(b1.find("label_schema")
                ->find("input")
                ->find("categorical")
                ->find("options")
                ->as_array()
                .size(),
            3u);
  auto e = _service->get_schema("acc");
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->schema.enable_comment);
  EXPECT_EQ(e->schema.title, "acc") << "title kept";

  auto [s2, b2] = patch("update", R"({"schema_id":"acc","input":{"text":{}}})");
  EXPECT_EQ(s2, 400);
  EXPECT_THAT(message(b2), HasSubstr("input: cannot change the input kind"));
  auto [s3, b3] =
      patch("update",
            R"({"schema_id":"acc","input":{"categorical":{"options":["a"],"multi_select":true}}})");
  EXPECT_EQ(s3, 400);
  EXPECT_THAT(message(b3), HasSubstr("input.categorical.multi_select"));
  auto [s4, b4] = patch("update", R"({"schema_id":"acc","name":"accuracy"})");
  EXPECT_EQ(s4, 400);
  EXPECT_THAT(message(b4), HasSubstr("name: renaming"));
  auto [s5, b5] = patch("update", R"({"schema_id":"nope","instruction":"x"})");
  EXPECT_EQ(s5, 404);
  EXPECT_EQ(str(b5, "error_code"), "RESOURCE_DOES_NOT_EXIST");
  auto [s6, b6] = patch("update", R"({"schema_id":"config_schema","instruction":"x"})");
  EXPECT_EQ(s6, 409) << "config schemas are read-only";

  // In use by a session: 409; afterwards deleted; deleting again is a no-op (MLflow semantics).
  ASSERT_EQ(parsed(_client->Post("/api/v1/labeling-sessions",
                                 R"({"name":"s","label_schemas":["acc"]})", "application/json"))
                .first,
            201);
  auto [d1, db1] = del(R"({"schema_id":"acc"})");
  EXPECT_EQ(d1, 409) << db1.to_json();
  EXPECT_EQ(str(db1, "error_code"), "RESOURCE_CONFLICT") << "a code the MLflow client knows";
  EXPECT_THAT(message(db1), HasSubstr("acc"));
  ASSERT_EQ(parsed(_client->Delete("/api/v1/labeling-sessions/s")).first, 200);
  EXPECT_EQ(del(R"({"schema_id":"acc"})").first, 200);
  EXPECT_FALSE(_service->get_schema("acc"));
  EXPECT_EQ(del(R"({"schema_id":"acc"})").first, 200);
  auto [d2, db2] = del(R"({})");
  EXPECT_EQ(d2, 400);
  EXPECT_THAT(message(db2), HasSubstr("schema_id: required"));
  EXPECT_EQ(del(R"({"schema_id":"config_schema"})").first, 409);
  auto [g, gb] = get("get?schema_id=acc");
  EXPECT_EQ(g, 404);
  // The v2 prefix serves the same API.
  EXPECT_EQ(parsed(_client->Get("/api/2.0/mlflow/label-schemas/get?schema_id=config_schema")).first,
            200);
}

}  // namespace
}  // namespace tracefeed::labeling
