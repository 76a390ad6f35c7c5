// search_traces over the time index: the same answers as the full scan, page by page.
#include <httplib.h>

#include "core/json_tree.h"
#include "http/server.h"
#include "processors/join/trace_reader.h"
#include "processors/query/read_api.h"
#include "processors/route/tests/route_fixture.h"
#include "processors/route/time_index.h"
#include "state/store.h"

namespace tracefeed::query {
namespace {

using namespace route::testing;

constexpr int64_t kBaseNs = 1'748'779'200'000'000'000;

std::string trace_at(const std::string& event_id, const std::string& trace, int64_t start_ns, const std::string& name) {
  return R"({"event_id":")" + event_id + R"(","type":"trace","trace":{"trace_info":{"trace_id":")" + trace +
         R"("},"spans":[{"span_id":"00000000000000a1","name":")" + name + R"(","start_time_unix_nano":)" +
         std::to_string(start_ns) + R"(,"end_time_unix_nano":)" + std::to_string(start_ns + 1'000'000'000) +
         R"(,"status":"OK","span_type":"CHAIN"}]}})";
}

class SearchIndexTest : public RouteFixture {
 protected:
  void SetUp() override {
    for (auto* s : {&_scan_server, &_index_server}) {
      http::ServerOptions o;
      o.listen = "127.0.0.1:0";
      *s = std::make_unique<http::Server>(o);
    }
    register_read_routes(*_scan_server, _reader, ReadApiOptions{std::chrono::milliseconds(0)});
    register_read_routes(*_index_server, _reader, *_store, ReadApiOptions{std::chrono::milliseconds(0)});
    ASSERT_TRUE(_scan_server->start().is_ok());
    ASSERT_TRUE(_index_server->start().is_ok());
  }

  // 40 traces over 12 distinct milliseconds (ties broken by trace id), every third one with a
  // thumbs-down, routed as the join does (which writes their index entries).
  void store_traces(route::Router& router) {
    for (int i = 1; i <= 40; ++i) {
      const std::string t = trace_id(i * 7919 % 1000);
      apply(router, trace_at("t" + std::to_string(i), t, kBaseNs + (i % 12) * 1'000'000 + (i % 3) * 1000,
                             i % 2 ? "chat" : "agent"));
      apply(router, feedback_json("f" + std::to_string(i), "a-01", i % 3 == 0 ? "false" : "true", "", t));
    }
  }

  void complete_index(route::Router& router) { drain_backfill(router); }

  // Follows next_page_token to the end; returns the trace ids in order.
  std::vector<std::string> all_pages(http::Server& server, const std::string& request_fields, int page_size,
                                     int* pages = nullptr) {
    httplib::Client c("127.0.0.1", server.port());
    std::vector<std::string> ids;
    std::string token;
    int n = 0;
    for (; n < 1000; ++n) {
      std::string body = "{" + request_fields + (request_fields.empty() ? "" : ",") +
                         R"("max_results":)" + std::to_string(page_size) +
                         (token.empty() ? "" : R"(,"page_token":")" + token + "\"") + "}";
      auto r = c.Post("/api/3.0/mlflow/traces/search", body, "application/json");
      EXPECT_TRUE(r);
      if (!r) break;
      EXPECT_EQ(r->status, 200) << r->body;
      auto v = parse_json(r->body);
      EXPECT_TRUE(v.is_ok());
      if (!v.is_ok()) break;
      for (const auto& t : v->find("traces")->as_array()) ids.push_back(t.find("trace_id")->as_string());
      const JsonTree* next = v->find("next_page_token");
      if (!next) break;
      token = next->as_string();
    }
    if (pages) *pages = n + 1;
    return ids;
  }

  httplib::Result search(http::Server& server, const std::string& body) {
    httplib::Client c("127.0.0.1", server.port());
    return c.Post("/api/3.0/mlflow/traces/search", body, "application/json");
  }

  join::TraceReader _reader{*_store};
  std::unique_ptr<http::Server> _scan_server, _index_server;
};

TEST_F(SearchIndexTest, PagesInTheDefaultOrderMatchTheFullScan) {
  route::Router router(_topics, _rules);
  store_traces(router);
  complete_index(router);
  const int64_t lo = kBaseNs / 1'000'000 + 3, hi = kBaseNs / 1'000'000 + 8;
  const std::vector<std::string> requests = {
      "",
      R"("filter":"feedback.user_feedback = false")",
      R"("order_by":["timestamp_ms DESC"])",
      R"("filter":"trace.timestamp_ms >= )" + std::to_string(lo) + " AND trace.timestamp_ms < " + std::to_string(hi) + "\"",
      R"("filter":"trace.timestamp_ms = )" + std::to_string(lo) + "\"",
      R"("filter":"trace.timestamp_ms > )" + std::to_string(hi) + R"( AND trace.name = 'chat'")",
      R"("filter":"trace.timestamp_ms <= )" + std::to_string(hi) + R"(","order_by":["trace_id ASC"])",
      R"("filter":"trace.timestamp_ms > )" + std::to_string(lo) + R"(","order_by":["timestamp_ms ASC"])",
      R"("locations":[{"type":"MLFLOW_EXPERIMENT","mlflow_experiment":{"experiment_id":"0"}}])",
      R"("experiment_ids":["7"])",
  };
  for (const auto& r : requests) {
    SCOPED_TRACE(r);
    const auto expected = all_pages(*_scan_server, r, 1000);
    for (int page : {1, 3, 7, 100}) {
      EXPECT_EQ(all_pages(*_index_server, r, page), expected) << "page size " << page;
    }
  }
  EXPECT_EQ(all_pages(*_scan_server, "", 1000).size(), 40u);
  int pages = 0;
  EXPECT_EQ(all_pages(*_index_server, "", 7, &pages).size(), 40u);
  EXPECT_EQ(pages, 6);
}

TEST_F(SearchIndexTest, TheIndexIsUsedOnlyOnceComplete) {
  route::Router router(_topics, _rules);
  store_traces(router);
  // A trace written by a join without a router has no index entry.
  apply_unrouted(trace_at("x1", trace_id(999), kBaseNs + 50'000'000, "chat"));
  // Before the build finishes: a full scan, so the trace is found.
  EXPECT_EQ(all_pages(*_index_server, "", 1000).front(), trace_id(999));
  complete_index(router);
  // The build indexed it; a trace that bypasses the Router after the build is not listed by the
  // index (the join must route every trace it touches).
  EXPECT_EQ(all_pages(*_index_server, "", 1000).front(), trace_id(999));
  apply_unrouted(trace_at("x2", trace_id(998), kBaseNs + 60'000'000, "chat"));
  EXPECT_EQ(all_pages(*_scan_server, "", 1000).front(), trace_id(998));
  EXPECT_EQ(all_pages(*_index_server, "", 1000).front(), trace_id(999));
}

TEST_F(SearchIndexTest, ATraceWhoseTimestampChangedIsListedOnceAtItsNewPlace) {
  route::Router router(_topics, _rules);
  store_traces(router);
  complete_index(router);
  const std::string moved = trace_id(7919 % 1000);  // trace 1
  // A later part with another request_time: the trace moves to the front, its old entry is stale.
  apply(router, R"({"event_id":"t1-again","type":"trace","trace":{"trace_info":{"trace_id":")" + moved +
                    R"(","request_time":"2025-06-01T12:00:00.090Z"},"spans":[]}})");
  size_t entries = 0;
  ASSERT_TRUE(_store->scan_prefix(state::Family::meta, route::time_index::prefix, [&](std::string_view, std::string_view) {
    ++entries;
    return true;
  }).is_ok());
  EXPECT_EQ(entries, 41u);  // 40 traces + the stale entry
  const auto ids = all_pages(*_index_server, "", 5);
  EXPECT_EQ(ids.front(), moved);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), moved), 1);
  EXPECT_EQ(ids, all_pages(*_scan_server, "", 1000));
}

TEST_F(SearchIndexTest, TokensAreChecked) {
  route::Router router(_topics, _rules);
  store_traces(router);
  complete_index(router);
  auto first = search(*_index_server, R"({"max_results":2})");
  ASSERT_TRUE(first);
  auto v = parse_json(first->body);
  ASSERT_TRUE(v.is_ok());
  const std::string token = v->find("next_page_token")->as_string();
  EXPECT_EQ(token[0], 'i');
  auto other_order = search(*_index_server, R"({"max_results":2,"order_by":["trace_id ASC"],"page_token":")" + token + "\"}");
  ASSERT_TRUE(other_order);
  EXPECT_EQ(other_order->status, 400);
  EXPECT_NE(other_order->body.find("page_token: issued for another order_by"), std::string::npos) << other_order->body;
  auto junk = search(*_index_server, R"({"page_token":"izz"})");
  ASSERT_TRUE(junk);
  EXPECT_EQ(junk->status, 400);
  EXPECT_NE(junk->body.find("page_token: not a token this server issued"), std::string::npos);
}

}  // namespace
}  // namespace tracefeed::query
