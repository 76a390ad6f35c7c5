#pragma once
// The HTTP server every role serves through (health, gateway, read APIs, labeling API, UI,
// metrics). The only module that includes cpp-httplib; handlers see plain Request/Response.
//
// Threads: start() spawns one listener thread; requests run on a fixed pool of
// `ServerOptions::threads` workers (PLATFORM.md: more threads than cores thrash on 2 cores).
// Handlers must be thread-safe. stop() blocks until the listener has returned.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace tracefeed::http {

// A token accepted by the API and the user it authenticates (config: http.auth_tokens). Exactly
// one of `token` / `token_env` is set; `token_env` names an environment variable read by
// Server::start().
struct AuthToken {
  std::string user;
  std::string token;
  std::string token_env;
};

struct ServerOptions {
  // host:port to bind. Port 0 picks a free port (see Server::port()). Default: 127.0.0.1:8080.
  std::string listen = "127.0.0.1:8080";
  // Largest accepted request body; larger bodies get 413. Default: 16 MiB.
  size_t body_limit_bytes = 16u << 20;
  // Worker threads. Default: 4.
  int threads = 4;
  // Requests served on one keep-alive connection before it is closed. Default: 10000.
  int keep_alive_max_count = 10000;
  // When non-empty, every request under /api/ and /v1/ (OTLP) must authenticate with one of
  // these tokens: `Authorization: Bearer <token>` (what the MLflow client sends for
  // MLFLOW_TRACKING_TOKEN) or HTTP Basic with the token as password (MLFLOW_TRACKING_USERNAME /
  // MLFLOW_TRACKING_PASSWORD; the user name, if given, must be the token's user). Others get
  // 401 UNAUTHENTICATED with a WWW-Authenticate challenge. /healthz, /readyz, /metrics, /version
  // and static files stay open. Empty = no authentication (only sensible on loopback).
  // Default: none.
  std::vector<AuthToken> auth_tokens;
};

struct Request {
  std::string method;
  std::string path;
  std::string body;
  std::vector<std::string> path_params;  // regex captures of the route pattern, in order
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  // Set by the server to the authenticated user (owned by the server, valid while it lives);
  // null when authentication is off or the route is open. Read it through user().
  const std::string* authenticated_user = nullptr;

  // The user the request authenticated as (an AuthToken's `user`: the reviewer name for the
  // labeling API), or nullptr when the server has no auth tokens or the path is open.
  const std::string* user() const noexcept { return authenticated_user; }
  // First value of a query parameter or header (case-insensitive name), or "" when absent.
  std::string_view query_param(std::string_view name) const;
  bool has_query_param(std::string_view name) const;
  std::string_view header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;

  void json(int code, std::string b) {
    status = code;
    body = std::move(b);
    content_type = "application/json";
  }
};

// Writes `{"error_code": "...", "message": "..."}` with the HTTP status for s.code()
// (invalid_argument → 400, not_found → 404, conflict/already_exists → 409, unavailable → 503
// with Retry-After, ...).
void write_error(Response& res, const Status& s);
int http_status_for(ErrorCode code) noexcept;

using Handler = std::function<void(const Request&, Response&)>;

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();  // stops
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Routes by method and an ECMAScript regex over the whole path ("/api/v1/rules/([^/]+)").
  // Register routes before start().
  void route(std::string_view method, std::string pattern, Handler handler);
  // Serves files under `dir` at URL prefix `mount` (the web UI's built assets).
  [[nodiscard]] Status mount_static(std::string mount, std::string dir);

  // Resolves the auth tokens (an unset `token_env` variable is an error naming it), binds and
  // starts serving. Returns an error naming the address when it cannot bind.
  [[nodiscard]] Status start();
  // The bound port (after start()).
  int port() const noexcept;
  // "http://host:port"
  std::string base_url() const;
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> _impl;
};

// Whether `path` needs authentication when auth tokens are configured: /api/... and /v1/...
// (OTLP). Everything else (health, metrics, /version, the UI's static files) is open.
[[nodiscard]] bool path_requires_auth(std::string_view path) noexcept;

// Splits "host:port"; the port must be 0..65535.
[[nodiscard]] Result<std::pair<std::string, int>> parse_listen_address(std::string_view listen);

}  // namespace tracefeed::http
