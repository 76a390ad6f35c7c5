// http.auth_tokens enforced by http::Server: Bearer and Basic credentials, 401 with a challenge,
// open paths, token_env resolution at start, and keep-alive after a refused request with a body.

#include <gtest/gtest.h>
#include <httplib.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "http/server.h"

namespace tracefeed::http {
namespace {

constexpr const char* kAliceToken = "tok-alice-0123456789";
constexpr const char* kBobToken = "tok-bob-abcdefghijklmnop";

ServerOptions options_with_tokens() {
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.threads = 2;
  o.auth_tokens = {{.user = "alice", .token = kAliceToken, .token_env = ""},
                   {.user = "bob", .token = kBobToken, .token_env = ""}};
  return o;
}

// Routes that answer with the authenticated user ("-" when none).
void add_whoami_routes(Server& server) {
  auto whoami = [](const Request& req, Response& res) {
    res.json(200, R"({"user":")" + (req.user() ? *req.user() : std::string("-")) + R"("})");
  };
  server.route("GET", "/api/v1/whoami", whoami);
  server.route("POST", "/api/v1/whoami", whoami);
  server.route("POST", "/v1/traces", whoami);
  server.route("GET", "/healthz", whoami);
  server.route("GET", "/readyz", whoami);
  server.route("GET", "/metrics", whoami);
  server.route("GET", "/version", whoami);
}

// "Basic " + base64(text), written out here so the test does not trust the server's decoder.
std::string basic(std::string_view text) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out = "Basic ";
  size_t i = 0;
  for (; i + 2 < text.size(); i += 3) {
    const uint32_t v = (uint8_t(text[i]) << 16) | (uint8_t(text[i + 1]) << 8) | uint8_t(text[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  if (i + 1 == text.size()) {
    const uint32_t v = uint8_t(text[i]) << 16;
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == text.size()) {
    const uint32_t v = (uint8_t(text[i]) << 16) | (uint8_t(text[i + 1]) << 8);
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], '='};
  }
  return out;
}

httplib::Result get(Server& server, const std::string& path, const std::string& authorization = "") {
  httplib::Client client("127.0.0.1", server.port());
  httplib::Headers headers;
  if (!authorization.empty()) headers.emplace("Authorization", authorization);
  return client.Get(path, headers);
}

TEST(HttpAuth, WithoutTokensEveryRouteIsOpenAndThereIsNoUser) {
  ServerOptions o = options_with_tokens();
  o.auth_tokens.clear();
  Server server(o);
  add_whoami_routes(server);
  ASSERT_TRUE(server.start().is_ok());
  auto r = get(server, "/api/v1/whoami");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"user":"-"})");
  // A credential sent anyway is ignored, not an error.
  auto with = get(server, "/api/v1/whoami", std::string("Bearer ") + kAliceToken);
  ASSERT_TRUE(with);
  EXPECT_EQ(with->body, R"({"user":"-"})");
}

TEST(HttpAuth, BearerTokenAuthenticatesItsUser) {
  Server server(options_with_tokens());
  add_whoami_routes(server);
  ASSERT_TRUE(server.start().is_ok());
  auto alice = get(server, "/api/v1/whoami", std::string("Bearer ") + kAliceToken);
  ASSERT_TRUE(alice);
  EXPECT_EQ(alice->status, 200);
  EXPECT_EQ(alice->body, R"({"user":"alice"})");
  auto bob = get(server, "/api/v1/whoami", std::string("bearer  ") + kBobToken + " ");  // scheme is case-insensitive
  ASSERT_TRUE(bob);
  EXPECT_EQ(bob->status, 200);
  EXPECT_EQ(bob->body, R"({"user":"bob"})");

  httplib::Client client("127.0.0.1", server.port());
  auto otlp = client.Post("/v1/traces", httplib::Headers{{"Authorization", std::string("Bearer ") + kBobToken}}, "x",
                          "application/x-protobuf");
  ASSERT_TRUE(otlp);
  EXPECT_EQ(otlp->status, 200);
  EXPECT_EQ(otlp->body, R"({"user":"bob"})");
}

TEST(HttpAuth, MissingOrWrongCredentialsAre401WithAChallenge) {
  Server server(options_with_tokens());
  add_whoami_routes(server);
  ASSERT_TRUE(server.start().is_ok());

  auto none = get(server, "/api/v1/whoami");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(none->get_header_value("Content-Type"), "application/json");
  EXPECT_NE(none->body.find(R"("error_code":"UNAUTHENTICATED")"), std::string::npos) << none->body;
  EXPECT_NE(none->body.find("Bearer"), std::string::npos) << "the message says how to authenticate: " << none->body;
  EXPECT_EQ(none->get_header_value("WWW-Authenticate"), R"(Bearer realm="tracefeed")");

  const std::string alice = kAliceToken;
  for (const std::string& wrong : {std::string("Bearer nope"), "Bearer " + alice.substr(0, alice.size() - 1), "Bearer " + alice + "x",
                                   "Bearer " + alice.substr(0, alice.size() - 1) + "X", std::string("Bearer "),
                                   "Token " + alice, alice}) {
    auto r = get(server, "/api/v1/whoami", wrong);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401) << wrong;
    EXPECT_NE(r->body.find("UNAUTHENTICATED"), std::string::npos) << wrong;
    EXPECT_EQ(r->body.find(alice), std::string::npos) << "never echoes credentials: " << r->body;
  }
  auto invalid = get(server, "/api/v1/whoami", "Bearer nope");
  ASSERT_TRUE(invalid);
  EXPECT_EQ(invalid->get_header_value("WWW-Authenticate"), R"(Bearer realm="tracefeed", error="invalid_token")");

  // Unknown API paths are 401 too: route existence is not revealed before authentication.
  auto unknown = get(server, "/api/v1/no-such-thing");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 401);
  auto unknown_authed = get(server, "/api/v1/no-such-thing", std::string("Bearer ") + kAliceToken);
  ASSERT_TRUE(unknown_authed);
  EXPECT_EQ(unknown_authed->status, 404);

  httplib::Client client("127.0.0.1", server.port());
  auto otlp = client.Post("/v1/traces", "x", "application/x-protobuf");
  ASSERT_TRUE(otlp);
  EXPECT_EQ(otlp->status, 401);
}

TEST(HttpAuth, BasicAuthTakesTheTokenAsPassword) {
  Server server(options_with_tokens());
  add_whoami_routes(server);
  ASSERT_TRUE(server.start().is_ok());
  auto named = get(server, "/api/v1/whoami", basic(std::string("alice:") + kAliceToken));
  ASSERT_TRUE(named);
  EXPECT_EQ(named->status, 200);
  EXPECT_EQ(named->body, R"({"user":"alice"})");
  auto anonymous = get(server, "/api/v1/whoami", basic(std::string(":") + kBobToken));
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 200);
  EXPECT_EQ(anonymous->body, R"({"user":"bob"})");

  auto other_user = get(server, "/api/v1/whoami", basic(std::string("bob:") + kAliceToken));
  ASSERT_TRUE(other_user);
  EXPECT_EQ(other_user->status, 401) << "a token authenticates only its own user";
  auto wrong = get(server, "/api/v1/whoami", basic("alice:secret"));
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  auto no_colon = get(server, "/api/v1/whoami", basic(kAliceToken));
  ASSERT_TRUE(no_colon);
  EXPECT_EQ(no_colon->status, 401);
  EXPECT_NE(no_colon->body.find("malformed Basic"), std::string::npos) << no_colon->body;
  auto not_base64 = get(server, "/api/v1/whoami", "Basic !!!!");
  ASSERT_TRUE(not_base64);
  EXPECT_EQ(not_base64->status, 401);
}

TEST(HttpAuth, HealthMetricsVersionAndStaticFilesStayOpen) {
  const auto dir = std::filesystem::temp_directory_path() / ("tracefeed-auth-static-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "index.html") << "<html>tracefeed</html>";
  Server server(options_with_tokens());
  add_whoami_routes(server);
  ASSERT_TRUE(server.mount_static("/ui", dir.string()).is_ok());
  ASSERT_TRUE(server.start().is_ok());
  for (const char* path : {"/healthz", "/readyz", "/metrics", "/version"}) {
    auto r = get(server, path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path;
    EXPECT_EQ(r->body, R"({"user":"-"})") << path;
  }
  auto page = get(server, "/ui/index.html");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->body, "<html>tracefeed</html>");
  std::filesystem::remove_all(dir);
}

TEST(HttpAuth, RefusedRequestWithABodyDoesNotPoisonTheKeepAliveConnection) {
  Server server(options_with_tokens());
  add_whoami_routes(server);
  ASSERT_TRUE(server.start().is_ok());
  httplib::Client client("127.0.0.1", server.port());
  client.set_keep_alive(true);
  // A body that would be a valid-looking request line if the server parsed it as the next one.
  const std::string body = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  for (int i = 0; i < 3; ++i) {
    auto refused = client.Post("/api/v1/whoami", body, "text/plain");
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 401);
    auto ok = client.Post("/api/v1/whoami", httplib::Headers{{"Authorization", std::string("Bearer ") + kAliceToken}}, body,
                          "text/plain");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200);
    EXPECT_EQ(ok->body, R"({"user":"alice"})");
  }
}

TEST(HttpAuth, TokenEnvIsReadAtStart) {
  ASSERT_EQ(::setenv("TRACEFEED_HTTP_AUTH_TEST_TOKEN", "env-token-42", 1), 0);
  ServerOptions o = options_with_tokens();
  o.auth_tokens.push_back({.user = "carol", .token = "", .token_env = "TRACEFEED_HTTP_AUTH_TEST_TOKEN"});
  Server server(o);
  add_whoami_routes(server);
  ASSERT_TRUE(server.start().is_ok());
  // Read once, at start: a later change of the variable does not change the accepted token.
  ASSERT_EQ(::setenv("TRACEFEED_HTTP_AUTH_TEST_TOKEN", "changed", 1), 0);
  auto carol = get(server, "/api/v1/whoami", "Bearer env-token-42");
  ASSERT_TRUE(carol);
  EXPECT_EQ(carol->status, 200);
  EXPECT_EQ(carol->body, R"({"user":"carol"})");
  ::unsetenv("TRACEFEED_HTTP_AUTH_TEST_TOKEN");
}

TEST(HttpAuth, BadTokenListsFailStartNamingTheEntry) {
  ::unsetenv("TRACEFEED_HTTP_AUTH_TEST_MISSING");
  {
    ServerOptions o = options_with_tokens();
    o.auth_tokens.push_back({.user = "dave", .token = "", .token_env = "TRACEFEED_HTTP_AUTH_TEST_MISSING"});
    Server server(o);
    Status s = server.start();
    EXPECT_EQ(s.code(), ErrorCode::invalid_argument);
    EXPECT_NE(s.message().find("http.auth_tokens[2].token_env"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("TRACEFEED_HTTP_AUTH_TEST_MISSING"), std::string::npos) << s.message();
  }
  {
    ServerOptions o = options_with_tokens();
    o.auth_tokens.push_back({.user = "mallory", .token = kAliceToken, .token_env = ""});
    Server server(o);
    Status s = server.start();
    EXPECT_EQ(s.code(), ErrorCode::invalid_argument);
    EXPECT_NE(s.message().find("http.auth_tokens[2]"), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find(kAliceToken), std::string::npos) << "never prints a token: " << s.message();
  }
  {
    ServerOptions o = options_with_tokens();
    o.auth_tokens[1].user.clear();
    Server server(o);
    EXPECT_NE(server.start().message().find("http.auth_tokens[1].user"), std::string::npos);
  }
  {
    ServerOptions o = options_with_tokens();
    o.auth_tokens[0].token.clear();
    Server server(o);
    EXPECT_NE(server.start().message().find("empty token"), std::string::npos);
  }
}

TEST(HttpAuth, ProtectedPaths) {
  EXPECT_TRUE(path_requires_auth("/api/3.0/mlflow/traces"));
  EXPECT_TRUE(path_requires_auth("/api/v1/events"));
  EXPECT_TRUE(path_requires_auth("/api"));
  EXPECT_TRUE(path_requires_auth("/v1/traces"));
  EXPECT_FALSE(path_requires_auth("/healthz"));
  EXPECT_FALSE(path_requires_auth("/metrics"));
  EXPECT_FALSE(path_requires_auth("/version"));
  EXPECT_FALSE(path_requires_auth("/"));
  EXPECT_FALSE(path_requires_auth("/apix"));
  EXPECT_FALSE(path_requires_auth("/assets/app.js"));
}

}  // namespace
}  // namespace tracefeed::http
