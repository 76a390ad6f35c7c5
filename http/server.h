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

struct ServerOptions {
  // host:port to bind. Port 0 picks a free port (see Server::port()). Default: 127.0.0.1:8080.
  std::string listen = "127.0.0.1:8080";
  // Largest accepted request body; larger bodies get 413. Default: 16 MiB.
  size_t body_limit_bytes = 16u << 20;
  // Worker threads. Default: 4.
  int threads = 4;
  // Requests served on one keep-alive connection before it is closed. Default: 10000.
  int keep_alive_max_count = 10000;
};

struct Request {
  std::string method;
  std::string path;
  std::string body;
  std::vector<std::string> path_params;  // regex captures of the route pattern, in order
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased

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

  // Binds and starts serving. Returns an error naming the address when it cannot bind.
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

// Splits "host:port"; the port must be 0..65535.
[[nodiscard]] Result<std::pair<std::string, int>> parse_listen_address(std::string_view listen);

}  // namespace tracefeed::http
