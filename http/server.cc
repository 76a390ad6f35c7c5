#include "http/server.h"

#include <httplib.h>

#include <atomic>
#include <cstdlib>
#include <charconv>
#include <thread>

#include "core/json_writer.h"

namespace tracefeed::http {
namespace {

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

}  // namespace

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
