#include "http/server.h"

#include <httplib.h>

#include <atomic>
#include <cstdlib>
#include <charconv>
#include <optional>
#include <thread>

#include "core/json_writer.h"

namespace tracefeed::http {
namespace {

// "gzip, deflate, br, zstd" → "gzip, deflate, zstd".
std::string without_brotli(std::string_view accept) {
  std::string out;
  for (size_t start = 0; start <= accept.size();) {
    size_t end = accept.find(',', start);
    if (end == std::string_view::npos) end = accept.size();
    std::string_view item = accept.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    if (!item.empty() && !item.starts_with("br")) {
      if (!out.empty()) out += ", ";
      out += item;
    }
    start = end + 1;
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Equality whose running time depends only on the length of `presented` (which the client
// already knows), never on how many leading bytes of the secret it guessed right, nor on where
// they differ. `secret` is non-empty (Server::start refuses empty tokens).
bool constant_time_equals(std::string_view secret, std::string_view presented) {
  size_t diff = secret.size() ^ presented.size();
  unsigned char acc = 0;
  for (size_t i = 0; i < presented.size(); ++i) {
    acc |= static_cast<unsigned char>(presented[i] ^ secret[i % secret.size()]);
  }
  return (diff | acc) == 0;
}

// RFC 4648 base64 (standard alphabet; padding optional). nullopt on any other character.
std::optional<std::string> base64_decode(std::string_view in) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t buf = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    else return std::nullopt;
    buf = (buf << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buf >> bits) & 0xff));
    }
  }
  if (bits >= 6) return std::nullopt;  // a single trailing character carries no whole byte
  return out;
}

struct ResolvedToken {
  std::string user;
  std::string token;
};

// The user `authorization` (the header's value) authenticates as, or nullptr with the reason in
// `why` (for the 401 body; it never echoes the credentials).
const std::string* authenticate(const std::vector<ResolvedToken>& tokens, std::string_view authorization, std::string& why,
                                bool& presented_credentials) {
  presented_credentials = false;
  authorization = trim(authorization);
  if (authorization.empty()) {
    why = "authentication required: send \"Authorization: Bearer <token>\" (MLFLOW_TRACKING_TOKEN), or HTTP Basic "
          "with the token as password";
    return nullptr;
  }
  const size_t space = authorization.find(' ');
  const std::string_view scheme = authorization.substr(0, space);
  const std::string_view credentials = space == std::string_view::npos ? std::string_view() : trim(authorization.substr(space));
  std::string decoded;
  std::string_view presented;
  std::string_view basic_user;
  bool basic = false;
  if (iequals(scheme, "Bearer")) {
    presented = credentials;
  } else if (iequals(scheme, "Basic")) {
    auto d = base64_decode(credentials);
    const size_t colon = d ? d->find(':') : std::string::npos;
    if (colon == std::string::npos) {
      why = "Authorization: malformed Basic credentials (expected base64 of user:token)";
      return nullptr;
    }
    decoded = std::move(*d);
    basic_user = std::string_view(decoded).substr(0, colon);
    presented = std::string_view(decoded).substr(colon + 1);
    basic = true;
  } else {
    // The scheme is not echoed: a client that sent a bare token would see it in the reply.
    why = "Authorization: unsupported scheme; use \"Bearer <token>\" or Basic";
    return nullptr;
  }
  presented_credentials = true;
  // Every token is compared (no early exit), so the time does not tell which one came close.
  const ResolvedToken* match = nullptr;
  for (const ResolvedToken& t : tokens) {
    const bool equal = constant_time_equals(t.token, presented);
    if (equal) match = &t;
  }
  if (!match) {
    why = "Authorization: invalid token";
    return nullptr;
  }
  if (basic && !basic_user.empty() && basic_user != match->user) {
    why = "Authorization: the Basic user name is not the user of this token";
    return nullptr;
  }
  return &match->user;
}

}  // namespace

bool path_requires_auth(std::string_view path) noexcept {
  return path == "/api" || path.starts_with("/api/") || path == "/v1" || path.starts_with("/v1/");
}

std::string_view Request::query_param(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return v;
  }
  return {};
}

bool Request::has_query_param(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return true;
  }
  return false;
}

std::string_view Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return v;
  }
  return {};
}

int http_status_for(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::ok: return 200;
    case ErrorCode::invalid_argument: return 400;
    case ErrorCode::permission_denied: return 403;
    case ErrorCode::not_found: return 404;
    case ErrorCode::already_exists:
    case ErrorCode::conflict: return 409;
    case ErrorCode::payload_too_large: return 413;
    case ErrorCode::unavailable: return 503;
    case ErrorCode::timeout: return 504;
    case ErrorCode::io_error:
    case ErrorCode::corruption:
    case ErrorCode::internal: return 500;
  }
  return 500;
}

void write_error(Response& res, const Status& s) {
  res.status = http_status_for(s.code());
  res.content_type = "application/json";
  res.body.clear();
  JsonWriter w(res.body);
  w.begin_object();
  w.field("error_code", error_code_name(s.code()));
  w.field("message", s.message());
  w.end_object();
  if (s.code() == ErrorCode::unavailable) res.headers.emplace_back("Retry-After", "1");
}

Result<std::pair<std::string, int>> parse_listen_address(std::string_view listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Status::invalid_argument("listen address: expected host:port, got \"" + std::string(listen) + "\"");
  }
  std::string host(listen.substr(0, colon));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string_view port_text = listen.substr(colon + 1);
  int port = -1;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port < 0 || port > 65535) {
    return Status::invalid_argument("listen address: port must be 0..65535, got \"" + std::string(port_text) + "\"");
  }
  return std::pair{std::move(host), port};
}

struct Server::Impl {
  ServerOptions options;
  // options.auth_tokens with token_env resolved; filled by start() before the listener runs,
  // read-only afterwards (so handlers read it without a lock).
  std::vector<ResolvedToken> tokens;
  httplib::Server server;
  std::thread listener;
  std::atomic<bool> listener_done{false};
  int port = 0;
  std::string host;

  void adapt(const httplib::Request& in, httplib::Response& out, const Handler& handler,
             const httplib::ContentReader* body_reader = nullptr) {
    Request req;
    req.method = in.method;
    req.path = in.path;
    if (body_reader) {
      // httplib inflates gzip/deflate bodies before its own size check sees them, so a small
      // compressed body could expand without bound. Read the (inflated) body here and stop at
      // the limit: a zip bomb costs at most body_limit_bytes.
      const size_t limit = options.body_limit_bytes;
      bool too_large = false;
      const bool read = (*body_reader)([&](const char* data, size_t n) {
        if (req.body.size() + n > limit) {
          too_large = true;
          return false;
        }
        req.body.append(data, n);
        return true;
      });
      // httplib's own check (on the bytes as sent) fails the read before our receiver runs.
      if (!read && !too_large) {
        const std::string length = in.get_header_value("Content-Length");
        too_large = !length.empty() && std::strtoull(length.c_str(), nullptr, 10) > limit;
      }
      if (!read && !too_large) {
        Response r;
        write_error(r, Status::invalid_argument("could not read the request body (malformed encoding or connection closed)"));
        out.status = r.status;
        out.set_content(r.body, "application/json");
        return;
      }
      if (too_large) {
        Response r;
        write_error(r, Status{ErrorCode::payload_too_large,
                              "request body larger than the limit of " + std::to_string(limit) +
                                  " bytes after decompression (http.body_limit)"});
        out.status = r.status;
        out.set_content(r.body, "application/json");
        return;
      }
    } else {
      req.body = in.body;
    }
    for (size_t i = 1; i < in.matches.size(); ++i) req.path_params.push_back(in.matches[i].str());
    for (const auto& [k, v] : in.params) req.query.emplace_back(k, v);
    for (const auto& [k, v] : in.headers) req.headers.emplace_back(lower(k), v);
    if (!tokens.empty() && path_requires_auth(req.path)) {
      // The pre-routing check let this request through, so this finds its user.
      std::string why;
      bool presented = false;
      req.authenticated_user = authenticate(tokens, in.get_header_value("Authorization"), why, presented);
    }
    Response res;
    handler(req, res);
    out.status = res.status;
    for (auto& [k, v] : res.headers) out.set_header(k, v);
    out.set_content(std::move(res.body), res.content_type.c_str());
  }
};

Server::Server(ServerOptions options) : _impl(std::make_unique<Impl>()) {
  _impl->options = std::move(options);
  auto& s = _impl->server;
  s.set_tcp_nodelay(true);
  // httplib's default also sets SO_REUSEPORT, which lets a second process bind the same port
  // and silently take half the traffic. Only SO_REUSEADDR (quick restarts) is wanted.
  s.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<const void*>(&yes), sizeof(yes));
  });
  s.set_keep_alive_max_count(static_cast<size_t>(_impl->options.keep_alive_max_count));
  s.set_payload_max_length(_impl->options.body_limit_bytes);
  const int threads = std::max(1, _impl->options.threads);
  s.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unexpected error";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    Response r;
    write_error(r, Status::internal(what));
    res.status = r.status;
    res.set_content(r.body, "application/json");
  });
  // Authentication runs before routing, so an unauthenticated client learns nothing about which
  // routes exist and no body of theirs is read.
  s.set_pre_routing_handler([impl = _impl.get()](const httplib::Request& req, httplib::Response& res) {
    // cpp-httplib 0.11 compresses with brotli at fixed quality 11 whenever `br` is offered (every
    // browser does): ~70 ms per 30 KB response on 2 cores vs < 1 ms for gzip (docs/benchmarks.md,
    // Web UI). Withdraw the offer so httplib picks gzip. httplib owns `req` non-const
    // (Server::process_request); the handler signature is const only by declaration.
    auto& headers = const_cast<httplib::Request&>(req).headers;
    if (auto it = headers.find("Accept-Encoding"); it != headers.end()) it->second = without_brotli(it->second);
    if (impl->tokens.empty() || req.method == "OPTIONS" || !path_requires_auth(req.path)) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    std::string why;
    bool presented = false;
    if (authenticate(impl->tokens, req.get_header_value("Authorization"), why, presented)) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    std::string body;
    JsonWriter w(body);
    w.begin_object();
    w.field("error_code", "UNAUTHENTICATED");
    w.field("message", why);
    w.end_object();
    res.status = 401;
    res.set_header("WWW-Authenticate", presented ? R"(Bearer realm="tracefeed", error="invalid_token")" : R"(Bearer realm="tracefeed")");
    // The request body was not read: close the connection so its bytes are not parsed as the
    // next request on this keep-alive connection.
    if (req.has_header("Transfer-Encoding") || (req.has_header("Content-Length") && req.get_header_value("Content-Length") != "0")) {
      res.set_header("Connection", "close");
    }
    res.set_content(std::move(body), "application/json");
    return httplib::Server::HandlerResponse::Handled;
  });
  s.set_error_handler([limit = _impl->options.body_limit_bytes](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;  // a handler already wrote an error body
    Response r;
    if (res.status == 404) {
      write_error(r, Status::not_found("no route for " + req.method + " " + req.path));
    } else if (res.status == 413) {
      write_error(r, Status{ErrorCode::payload_too_large,
                            "request body larger than the limit of " + std::to_string(limit) + " bytes (http.body_limit)"});
    } else {
      r.body = R"({"error_code":"BAD_REQUEST","message":"HTTP )" + std::to_string(res.status) + R"("})";
    }
    res.set_content(r.body, "application/json");
  });
}

Server::~Server() { stop(); }

void Server::route(std::string_view method, std::string pattern, Handler handler) {
  auto& s = _impl->server;
  if (method == "POST" || method == "PUT" || method == "PATCH") {
    // Bodies are read through a content reader so the size limit applies after decompression.
    httplib::Server::HandlerWithContentReader fn =
        [this, h = std::move(handler)](const httplib::Request& in, httplib::Response& out,
                                       const httplib::ContentReader& reader) { _impl->adapt(in, out, h, &reader); };
    if (method == "POST") s.Post(pattern, fn);
    else if (method == "PUT") s.Put(pattern, fn);
    else s.Patch(pattern, fn);
    return;
  }
  auto fn = [this, h = std::move(handler)](const httplib::Request& in, httplib::Response& out) { _impl->adapt(in, out, h); };
  if (method == "GET") s.Get(pattern, fn);
  else if (method == "DELETE") s.Delete(pattern, fn);
  else if (method == "OPTIONS") s.Options(pattern, fn);
}

Status Server::mount_static(std::string mount, std::string dir) {
  if (!_impl->server.set_mount_point(mount, dir)) {
    return Status::not_found("static assets directory \"" + dir + "\" does not exist");
  }
  return Status::ok();
}

Status Server::start() {
  _impl->tokens.clear();
  const auto& tokens = _impl->options.auth_tokens;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const AuthToken& t = tokens[i];
    const std::string where = "http.auth_tokens[" + std::to_string(i) + "]";
    if (t.user.empty()) return Status::invalid_argument(where + ".user: required");
    if (!t.token.empty() && !t.token_env.empty()) {
      return Status::invalid_argument(where + ": set either token or token_env, not both");
    }
    std::string value = t.token;
    if (!t.token_env.empty()) {
      const char* env = std::getenv(t.token_env.c_str());
      if (!env || !*env) {
        return Status::invalid_argument(where + ".token_env: environment variable " + t.token_env + " is not set or empty");
      }
      value = env;
    }
    if (value.empty()) return Status::invalid_argument(where + ": empty token (user " + t.user + ")");
    for (size_t j = 0; j < _impl->tokens.size(); ++j) {
      if (_impl->tokens[j].token == value) {
        return Status::invalid_argument(where + ": the same token as http.auth_tokens[" + std::to_string(j) +
                                        "]; each token must identify one user");
      }
    }
    _impl->tokens.push_back({t.user, std::move(value)});
  }
  TF_ASSIGN_OR_RETURN(auto addr, parse_listen_address(_impl->options.listen));
  auto& [host, port] = addr;
  _impl->host = host;
  if (port == 0) {
    _impl->port = _impl->server.bind_to_any_port(host);
    if (_impl->port <= 0) return Status::unavailable("cannot bind " + _impl->options.listen);
  } else {
    if (!_impl->server.bind_to_port(host, port)) {
      return Status::unavailable("cannot bind " + _impl->options.listen + " (is another process using the port?)");
    }
    _impl->port = port;
  }
  _impl->listener_done = false;
  _impl->listener = std::thread([this] {
    _impl->server.listen_after_bind();
    _impl->listener_done = true;
  });
  // The socket already listens (connections queue in the kernel backlog), but stop() is a
  // no-op until the accept loop runs: wait for it so a quick start/stop cannot hang the join.
  while (!_impl->server.is_running() && !_impl->listener_done) std::this_thread::yield();
  if (_impl->listener_done) return Status::unavailable("HTTP listener on " + _impl->options.listen + " stopped at start");
  return Status::ok();
}

int Server::port() const noexcept { return _impl->port; }

std::string Server::base_url() const { return "http://" + _impl->host + ":" + std::to_string(_impl->port); }

void Server::stop() {
  if (!_impl) return;
  _impl->server.stop();
  if (_impl->listener.joinable()) _impl->listener.join();
}

}  // namespace tracefeed::http
