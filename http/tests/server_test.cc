#include "http/server.h"

#include <gtest/gtest.h>
#include <httplib.h>

namespace tracefeed::http {
namespace {

ServerOptions test_options() {
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.body_limit_bytes = 1024;
  o.threads = 2;
  return o;
}

TEST(HttpServer, RoutesWithPathParamsAndQuery) {
  Server server(test_options());
  server.route("GET", R"(/api/v1/rules/([^/]+))", [](const Request& req, Response& res) {
    res.json(200, R"({"name":")" + req.path_params.at(0) + R"(","q":")" + std::string(req.query_param("x")) + R"("})");
  });
  ASSERT_TRUE(server.start().is_ok());
  ASSERT_GT(server.port(), 0);
  httplib::Client client("127.0.0.1", server.port());
  auto r = client.Get("/api/v1/rules/thumbs_down?x=1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"name":"thumbs_down","q":"1"})");
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
}

TEST(HttpServer, BrowsersGetGzipNotBrotli) {
  // Brotli at httplib's fixed quality 11 costs ~70 ms per 30 KB: the server withdraws `br`.
  Server server(test_options());
  const std::string big(32 * 1024, 'a');
  server.route("GET", "/big", [&](const Request&, Response& res) { res.json(200, "\"" + big + "\""); });
  ASSERT_TRUE(server.start().is_ok());
  httplib::Client client("127.0.0.1", server.port());
  client.set_decompress(false);
  auto r = client.Get("/big", httplib::Headers{{"Accept-Encoding", "gzip, deflate, br, zstd"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Encoding"), "gzip");
  auto only_br = client.Get("/big", httplib::Headers{{"Accept-Encoding", "br"}});
  ASSERT_TRUE(only_br);
  EXPECT_EQ(only_br->get_header_value("Content-Encoding"), "") << "identity when brotli was the only offer";
}

TEST(HttpServer, UnknownRouteIsAJson404) {
  Server server(test_options());
  ASSERT_TRUE(server.start().is_ok());
  httplib::Client client("127.0.0.1", server.port());
  auto r = client.Get("/nope");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, R"({"error_code":"RESOURCE_DOES_NOT_EXIST","message":"no route for GET /nope"})");
}

TEST(HttpServer, OversizeBodyIs413) {
  Server server(test_options());
  server.route("POST", "/echo", [](const Request& req, Response& res) { res.json(200, req.body); });
  ASSERT_TRUE(server.start().is_ok());
  httplib::Client client("127.0.0.1", server.port());
  auto small = client.Post("/echo", "{}", "application/json");
  ASSERT_TRUE(small);
  EXPECT_EQ(small->status, 200);
  auto big = client.Post("/echo", std::string(4096, 'x'), "application/json");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  EXPECT_NE(big->body.find("http.body_limit"), std::string::npos) << big->body;
}

TEST(HttpServer, GzipBodyIsLimitedAfterDecompression) {
  // 64 KiB of zeros compress to well under the 1 KiB limit; inflated they are far over it.
  Server server(test_options());
  server.route("POST", "/echo", [](const Request& req, Response& res) { res.json(200, std::to_string(req.body.size())); });
  ASSERT_TRUE(server.start().is_ok());
  std::string zeros(64 * 1024, '0');
  std::string gz;
  {
    httplib::detail::gzip_compressor c;
    ASSERT_TRUE(c.compress(zeros.data(), zeros.size(), true, [&](const char* d, size_t n) {
      gz.append(d, n);
      return true;
    }));
  }
  ASSERT_LT(gz.size(), 1024u);
  httplib::Client client("127.0.0.1", server.port());
  httplib::Headers headers{{"Content-Encoding", "gzip"}};
  auto r = client.Post("/echo", headers, gz, "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_NE(r->body.find("after decompression"), std::string::npos) << r->body;
  // A small compressed body still arrives inflated.
  std::string small_gz;
  {
    httplib::detail::gzip_compressor c;
    ASSERT_TRUE(c.compress("{\"a\":1}", 7, true, [&](const char* d, size_t n) {
      small_gz.append(d, n);
      return true;
    }));
  }
  auto ok = client.Post("/echo", headers, small_gz, "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body, "7");
}

TEST(HttpServer, ErrorsMapToStatusAndRetryAfter) {
  Response res;
  write_error(res, Status::unavailable("kafka: producer queue full"));
  EXPECT_EQ(res.status, 503);
  ASSERT_EQ(res.headers.size(), 1u);
  EXPECT_EQ(res.headers[0].first, "Retry-After");
  EXPECT_EQ(res.body, R"({"error_code":"TEMPORARILY_UNAVAILABLE","message":"kafka: producer queue full"})");
  EXPECT_EQ(http_status_for(ErrorCode::invalid_argument), 400);
  EXPECT_EQ(http_status_for(ErrorCode::conflict), 409);
}

TEST(HttpServer, BindConflictIsAnError) {
  Server first(test_options());
  ASSERT_TRUE(first.start().is_ok());
  ServerOptions o = test_options();
  o.listen = "127.0.0.1:" + std::to_string(first.port());
  Server second(o);
  Status s = second.start();
  EXPECT_EQ(s.code(), ErrorCode::unavailable);
  EXPECT_NE(s.message().find(o.listen), std::string::npos);
}

TEST(HttpServer, StartStopIsQuick) {
  for (int i = 0; i < 20; ++i) {
    Server s(test_options());
    ASSERT_TRUE(s.start().is_ok());
    s.stop();
  }
}

TEST(ListenAddress, Parses) {
  auto a = parse_listen_address("127.0.0.1:8080");
  ASSERT_TRUE(a.is_ok());
  EXPECT_EQ(a->first, "127.0.0.1");
  EXPECT_EQ(a->second, 8080);
  EXPECT_FALSE(parse_listen_address("localhost").is_ok());
  EXPECT_FALSE(parse_listen_address("localhost:99999").is_ok());
  auto v6 = parse_listen_address("[::1]:9");
  ASSERT_TRUE(v6.is_ok());
  EXPECT_EQ(v6->first, "::1");
}

}  // namespace
}  // namespace tracefeed::http
