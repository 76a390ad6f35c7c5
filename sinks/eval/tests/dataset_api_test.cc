#include "sinks/eval/dataset_api.h"

#include <httplib.h>

#include <fstream>
#include <sstream>

#include "core/json_tree.h"
#include "http/server.h"
#include "sinks/eval/dataset_export.h"
#include "sinks/eval/tests/test_support.h"

namespace tracefeed::eval {
namespace {

using namespace testing;

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class DatasetApiTest : public ::testing::Test {
 protected:
  void SetUp() override { start_server(DatasetApiOptions{}); }

  void start_server(DatasetApiOptions options) {
    if (_server) _server->stop();
    http::ServerOptions o;
    o.listen = "127.0.0.1:0";
    _server = std::make_unique<http::Server>(o);
    options.session_traces = [this](std::string_view id) -> Result<std::vector<std::string>> {
      if (id != "ls-quickstart") return Status::not_found("labeling session " + std::string(id) + " not found");
      return _session_traces;
    };
    register_dataset_routes(*_server, _datasets, std::move(options));
    ASSERT_TRUE(_server->start().is_ok());
    _client = std::make_unique<httplib::Client>("127.0.0.1", _server->port());
  }

  // Three joined traces and a dataset "golden" holding the first two (version 1).
  void seed() {
    _join.apply({trace_event("e1", trace_id(1)), trace_event("e2", trace_id(2), "How do I log a trace?"),
                 trace_event("e3", trace_id(3))});
    auto created = _client->Post("/api/v1/datasets", R"({"name":"golden"})", "application/json");
    ASSERT_TRUE(created);
    ASSERT_EQ(created->status, 201) << created->body;
    auto added = _client->Post("/api/v1/datasets/golden/records",
                               R"({"trace_ids":[")" + trace_id(1) + R"(",")" + trace_id(2) + R"("]})",
                               "application/json");
    ASSERT_TRUE(added);
    ASSERT_EQ(added->status, 200) << added->body;
  }

  std::filesystem::path temp_path(const std::string& name) {
    return std::filesystem::temp_directory_path() /
           ("tracefeed-datasets-" + std::to_string(::getpid()) + "-" + name);
  }

  ManualClock _clock;
  TempStore _store{_clock};
  DatasetStore _datasets{*_store, _clock};
  JoinedState _join{*_store, &_datasets};
  std::vector<std::string> _session_traces;
  std::unique_ptr<http::Server> _server;
  std::unique_ptr<httplib::Client> _client;
};

TEST_F(DatasetApiTest, CreateAddListAndExport) {
  seed();
  auto again = _client->Post("/api/v1/datasets/golden/records", R"({"trace_ids":[")" + trace_id(1) + R"("]})",
                             "application/json");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
  EXPECT_EQ(again->body, R"({"dataset":"golden","version":1,"changed":false,"added":0,"updated":0,"unchanged":1,"removed":0})");

  auto list = _client->Get("/api/v1/datasets");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->status, 200);
  auto lv = parse_json(list->body);
  ASSERT_TRUE(lv.is_ok()) << list->body;
  const auto& datasets = lv->find("datasets")->as_array();
  ASSERT_EQ(datasets.size(), 1u);
  EXPECT_EQ(datasets[0].find("name")->as_string(), "golden");
  EXPECT_EQ(datasets[0].find("latest_version")->as_number(), 1);
  EXPECT_EQ(datasets[0].find("record_count")->as_number(), 2);
  EXPECT_EQ(datasets[0].find("created_time")->as_string(), "2023-11-14T22:13:20Z");
  EXPECT_EQ(datasets[0].find("last_update_time")->as_string(), "2023-11-14T22:13:20Z");

  auto one = _client->Get("/api/v1/datasets/golden");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->status, 200);
  EXPECT_NE(one->body.find(R"({"dataset":{"name":"golden","dataset_id":"d-)"), std::string::npos) << one->body;

  auto exported = _client->Get("/api/v1/datasets/golden/records");
  ASSERT_TRUE(exported);
  EXPECT_EQ(exported->status, 200) << exported->body;
  EXPECT_EQ(exported->get_header_value("Content-Type"), "application/x-ndjson");
  EXPECT_EQ(exported->get_header_value("X-Tracefeed-Dataset-Version"), "1");
  EXPECT_EQ(exported->get_header_value("X-Tracefeed-Record-Count"), "2");
  EXPECT_FALSE(exported->has_header("X-Tracefeed-Next-Page-Token"));
  const std::string& body = exported->body;
  ASSERT_EQ(std::count(body.begin(), body.end(), '\n'), 2);
  auto first = parse_json(body.substr(0, body.find('\n')));
  ASSERT_TRUE(first.is_ok());
  EXPECT_EQ(first->find("source")->find("source_data")->find("trace_id")->as_string(), trace_id(1));
  EXPECT_NE(body.find(R"("inputs":{"user_question":"How do I log a trace?"})"), std::string::npos) << body;

  // version 0 is the empty dataset as created; "latest" is the default.
  auto v0 = _client->Get("/api/v1/datasets/golden/records?version=0");
  ASSERT_TRUE(v0);
  EXPECT_EQ(v0->status, 200);
  EXPECT_EQ(v0->body, "");
  auto latest = _client->Get("/api/v1/datasets/golden/records?version=latest");
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->body, body);

  auto versions = _client->Get("/api/v1/datasets/golden/versions");
  ASSERT_TRUE(versions);
  EXPECT_EQ(versions->status, 200);
  EXPECT_NE(versions->body.find(R"({"version":1,"created_time":"2023-11-14T22:13:20Z","record_count":2,"added":2,"updated":0,"removed":0,"cause":"api"})"),
            std::string::npos)
      << versions->body;
}

TEST_F(DatasetApiTest, PagesArePinnedToTheirVersion) {
  seed();
  auto p1 = _client->Get("/api/v1/datasets/golden/records?max_results=1");
  ASSERT_TRUE(p1);
  EXPECT_EQ(p1->status, 200);
  EXPECT_EQ(std::count(p1->body.begin(), p1->body.end(), '\n'), 1);
  const std::string token = p1->get_header_value("X-Tracefeed-Next-Page-Token");
  EXPECT_EQ(token, "1.1");

  // A change between pages makes version 2; the token still reads version 1.
  auto added = _client->Post("/api/v1/datasets/golden/records", R"({"trace_ids":[")" + trace_id(3) + R"("]})",
                             "application/json");
  ASSERT_TRUE(added);
  EXPECT_NE(added->body.find(R"("version":2,"changed":true,"added":1)"), std::string::npos) << added->body;
  auto p2 = _client->Get("/api/v1/datasets/golden/records?max_results=1&page_token=" + token);
  ASSERT_TRUE(p2);
  EXPECT_EQ(p2->status, 200);
  EXPECT_EQ(p2->get_header_value("X-Tracefeed-Dataset-Version"), "1");
  EXPECT_NE(p2->body.find(trace_id(2)), std::string::npos);
  EXPECT_FALSE(p2->has_header("X-Tracefeed-Next-Page-Token"));

  auto mismatch = _client->Get("/api/v1/datasets/golden/records?version=2&page_token=" + token);
  ASSERT_TRUE(mismatch);
  EXPECT_EQ(mismatch->status, 400);
  EXPECT_NE(mismatch->body.find("page_token: it belongs to version 1, not 2"), std::string::npos) << mismatch->body;
}

TEST_F(DatasetApiTest, ErrorsNameTheField) {
  seed();
  struct Case {
    std::string method, path, body;
    int status;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"GET", "/api/v1/datasets/nope/records", "", 404, "dataset nope not found"},
      {"GET", "/api/v1/datasets/nope", "", 404, "dataset nope not found"},
      {"GET", "/api/v1/datasets/golden/records?version=9", "", 404, "version: dataset golden has versions 0 to 1, not 9"},
      {"GET", "/api/v1/datasets/golden/records?version=-1", "", 400, "version: expected a version number or \\\"latest\\\""},
      {"GET", "/api/v1/datasets/golden/records?max_results=0", "", 400, "max_results: expected an integer from 1 to 10000"},
      {"GET", "/api/v1/datasets/golden/records?page_token=zz", "", 400, "page_token: not a token this server made"},
      {"POST", "/api/v1/datasets", R"({"name":""})", 400, "name: required, 1 to 256 bytes"},
      {"POST", "/api/v1/datasets", R"({"name":"golden"})", 409, "dataset golden exists"},
      {"POST", "/api/v1/datasets", R"({})", 400, "name: required string"},
      {"POST", "/api/v1/datasets/golden/records", R"({"trace_ids":"x"})", 400, "trace_ids: expected an array of trace ids, got a string"},
      {"POST", "/api/v1/datasets/golden/records", R"({"trace_ids":[1]})", 400, "trace_ids[0]: expected a string, got a number"},
      {"POST", "/api/v1/datasets/golden/records", R"({"trace_ids":["tr-1"]})", 400, "trace_ids[0]: expected \\\"tr-\\\" + 32 lowercase hex"},
      {"POST", "/api/v1/datasets/golden/records", R"({"trace_ids":[")" + trace_id(9) + R"("]})", 404,
       "trace_ids[0]: trace " + trace_id(9) + " not found"},
      {"POST", "/api/v1/datasets/golden/records", R"({})", 400, "body: expected exactly one of trace_ids or labeling_session_id"},
      {"POST", "/api/v1/datasets/golden/records", "{", 400, "malformed JSON"},
      {"POST", "/api/v1/datasets/nope/records", R"({"trace_ids":[")" + trace_id(1) + R"("]})", 404, "dataset nope not found"},
      {"POST", "/api/v1/datasets/golden/records", R"({"labeling_session_id":"ls-x"})", 404,
       "labeling_session_id: labeling session ls-x not found"},
      {"DELETE", "/api/v1/datasets/golden/records/" + trace_id(3), "", 404, "trace " + trace_id(3) + " is not in dataset golden"},
  };
  for (const auto& c : cases) {
    httplib::Result r = c.method == "GET"    ? _client->Get(c.path)
                        : c.method == "POST" ? _client->Post(c.path, c.body, "application/json")
                                             : _client->Delete(c.path);
    ASSERT_TRUE(r) << c.path;
    EXPECT_EQ(r->status, c.status) << c.method << " " << c.path << " " << c.body << ": " << r->body;
    EXPECT_NE(r->body.find(c.message), std::string::npos) << c.method << " " << c.path << ": " << r->body;
  }
  // None of it changed the dataset.
  EXPECT_EQ((*_datasets.info("golden"))->latest_version, 1);
}

TEST_F(DatasetApiTest, RecordsFromALabelingSessionAndRemoval) {
  seed();
  _session_traces = {trace_id(2), trace_id(3)};
  auto r = _client->Post("/api/v1/datasets/golden/records", R"({"labeling_session_id":"ls-quickstart"})",
                         "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->body, R"({"dataset":"golden","version":2,"changed":true,"added":1,"updated":0,"unchanged":1,"removed":0})");
  _session_traces.clear();
  auto none = _client->Post("/api/v1/datasets/golden/records", R"({"labeling_session_id":"ls-quickstart"})",
                            "application/json");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 200) << none->body;
  EXPECT_NE(none->body.find(R"("version":2,"changed":false)"), std::string::npos) << none->body;

  auto removed = _client->Delete("/api/v1/datasets/golden/records/" + trace_id(1));
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->status, 200) << removed->body;
  EXPECT_NE(removed->body.find(R"("version":3,"changed":true,"added":0,"updated":0,"unchanged":0,"removed":1)"),
            std::string::npos)
      << removed->body;
  auto v3 = _client->Get("/api/v1/datasets/golden/records");
  ASSERT_TRUE(v3);
  EXPECT_EQ(v3->get_header_value("X-Tracefeed-Record-Count"), "2");
  EXPECT_EQ(v3->body.find(trace_id(1)), std::string::npos);
  auto v2 = _client->Get("/api/v1/datasets/golden/records?version=2");
  ASSERT_TRUE(v2);
  EXPECT_NE(v2->body.find(trace_id(1)), std::string::npos);
}

TEST_F(DatasetApiTest, WithoutALabelingServiceTheSessionFieldIsRefused) {
  http::ServerOptions o;
  o.listen = "127.0.0.1:0";
  http::Server server(o);
  register_dataset_routes(server, _datasets, DatasetApiOptions{});
  ASSERT_TRUE(server.start().is_ok());
  httplib::Client client("127.0.0.1", server.port());
  ASSERT_TRUE(_datasets.create("golden").is_ok());
  auto r = client.Post("/api/v1/datasets/golden/records", R"({"labeling_session_id":"ls-1"})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("labeling_session_id: labeling sessions are not served by this process"), std::string::npos)
      << r->body;
  server.stop();
}

TEST_F(DatasetApiTest, AnUnpagedExportLargerThanTheLimitAsksForPages) {
  DatasetApiOptions small;
  small.max_unpaged_export_bytes = 100;
  start_server(small);
  seed();
  auto r = _client->Get("/api/v1/datasets/golden/records");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("max_results: version 1 of dataset golden (2 records) is larger than 100 bytes"),
            std::string::npos)
      << r->body;
  auto paged = _client->Get("/api/v1/datasets/golden/records?max_results=5");
  ASSERT_TRUE(paged);
  EXPECT_EQ(paged->status, 200);
}

TEST_F(DatasetApiTest, ExportWritesTheWholeVersionPageByPage) {
  std::vector<std::string> events, ids;
  for (int i = 0; i < 25; ++i) {
    events.push_back(trace_event("t" + std::to_string(i), trace_id(i)));
    ids.push_back(trace_id(i));
  }
  _join.apply(events);
  ASSERT_TRUE(_datasets.create("golden set").is_ok());  // a name that needs URL encoding
  ASSERT_TRUE(_datasets.add_traces("golden set", ids).is_ok());
  auto whole = _datasets.add_traces("golden set", std::vector<std::string>{trace_id(0)});
  ASSERT_TRUE(whole.is_ok());

  const auto out = temp_path("export.jsonl");
  std::filesystem::remove(out);
  DatasetExportOptions o;
  o.url = _server->base_url();
  o.name = "golden set";
  o.output = out.string();
  o.page_size = 7;
  o.progress = true;
  std::FILE* err = std::tmpfile();
  ASSERT_NE(err, nullptr);
  auto summary = export_dataset(o, err);
  ASSERT_TRUE(summary.is_ok()) << summary.status().to_string();
  EXPECT_EQ(summary->records, 25u);
  EXPECT_EQ(summary->version, 1);
  EXPECT_EQ(summary->requests, 4u);
  std::string expected;
  ASSERT_TRUE(_datasets.read_records("golden set", 1, 0, 1000, 1u << 30, expected).is_ok());
  EXPECT_EQ(read_file(out), expected);
  EXPECT_EQ(summary->bytes, expected.size());
  EXPECT_FALSE(std::filesystem::exists(out.string() + ".part"));

  std::rewind(err);
  std::string progress(4096, '\0');
  progress.resize(std::fread(progress.data(), 1, progress.size(), err));
  std::fclose(err);
  EXPECT_NE(progress.find("[==============================] 100%  25/25 records"), std::string::npos) << progress;

  // Default file name: NAME-vVERSION.jsonl in the working directory; version 0 is empty.
  const auto cwd = std::filesystem::current_path();
  const auto dir = temp_path("cwd");
  std::filesystem::create_directories(dir);
  std::filesystem::current_path(dir);
  DatasetExportOptions v0 = o;
  v0.output.clear();
  v0.version = 0;
  v0.progress = false;
  auto empty = export_dataset(v0, stderr);
  std::filesystem::current_path(cwd);
  ASSERT_TRUE(empty.is_ok()) << empty.status().to_string();
  EXPECT_EQ(empty->output, "golden set-v0.jsonl");
  EXPECT_EQ(empty->records, 0u);
  EXPECT_TRUE(std::filesystem::exists(dir / "golden set-v0.jsonl"));
  std::filesystem::remove_all(dir);
  std::filesystem::remove(out);
}

TEST_F(DatasetApiTest, ExportFailuresLeaveNoFileAndSayWhy) {
  const auto out = temp_path("missing.jsonl");
  DatasetExportOptions o;
  o.url = _server->base_url();
  o.name = "nope";
  o.output = out.string();
  o.progress = false;
  auto missing = export_dataset(o, stderr);
  EXPECT_EQ(missing.status().code(), ErrorCode::not_found);
  EXPECT_NE(missing.status().message().find("dataset nope not found"), std::string::npos) << missing.status().message();
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_FALSE(std::filesystem::exists(out.string() + ".part"));
  EXPECT_EQ(run_dataset_export(o), 1);

  DatasetExportOptions bad = o;
  bad.name = "a/b";
  EXPECT_EQ(run_dataset_export(bad), 2);
  bad = o;
  bad.url = "ftp://x";
  EXPECT_EQ(run_dataset_export(bad), 2);

  // Nothing listens: retried until retry_timeout, then unavailable.
  http::ServerOptions so;
  so.listen = "127.0.0.1:0";
  int free_port = 0;
  {
    http::Server probe(so);
    ASSERT_TRUE(probe.start().is_ok());
    free_port = probe.port();
    probe.stop();
  }
  DatasetExportOptions down = o;
  down.url = "http://127.0.0.1:" + std::to_string(free_port);
  down.retry_timeout = std::chrono::milliseconds(300);
  auto unreachable = export_dataset(down, stderr);
  EXPECT_EQ(unreachable.status().code(), ErrorCode::unavailable) << unreachable.status().to_string();
  EXPECT_EQ(run_dataset_export(down), 2);
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace tracefeed::eval
