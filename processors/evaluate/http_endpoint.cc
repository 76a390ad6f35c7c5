#include "processors/evaluate/http_endpoint.h"

#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <random>

namespace tracefeed::evaluate {
namespace {

std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

bool retryable_status(int status) { return status == 408 || status == 429 || status >= 500; }

std::chrono::milliseconds jittered(std::chrono::milliseconds d) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> factor(0.8, 1.2);
  return std::chrono::milliseconds(static_cast<int64_t>(static_cast<double>(d.count()) * factor(rng)));
}

// Retry-After in seconds (the HTTP-date form is not worth parsing here: judges send seconds).
std::optional<std::chrono::milliseconds> retry_after(std::string_view v) {
  double seconds = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
  if (ec != std::errc() || end != v.data() + v.size() || seconds < 0) return std::nullopt;
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

}  // namespace

std::string_view HttpReply::header(std::string_view name) const {
  const std::string key = lower(std::string(name));
  for (const auto& [k, v] : headers) {
    if (k == key) return v;
  }
  return {};
}

Result<ParsedUrl> parse_http_url(std::string_view url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return Status::invalid_argument("\"" + std::string(url) + "\": expected an http:// or https:// URL");
  }
  const std::string scheme = lower(std::string(url.substr(0, scheme_end)));
  if (scheme != "http" && scheme != "https") {
    return Status::invalid_argument("\"" + std::string(url) + "\": expected an http:// or https:// URL");
  }
  std::string_view rest = url.substr(scheme_end + 3);
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (authority.empty() || authority.find('@') != std::string_view::npos || authority.find('?') != std::string_view::npos) {
    return Status::invalid_argument("\"" + std::string(url) + "\": expected http(s)://host[:port][/path]");
  }
  if (path.find('?') != std::string_view::npos || path.find('#') != std::string_view::npos) {
    return Status::invalid_argument("\"" + std::string(url) + "\": query strings and fragments are not supported");
  }
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (path == "/") path = {};
  return ParsedUrl{scheme + "://" + std::string(authority), std::string(path)};
}

Result<std::unique_ptr<HttpEndpoint>> HttpEndpoint::create(EndpointOptions options) {
  TF_ASSIGN_OR_RETURN(ParsedUrl url, parse_http_url(options.url));
  if (options.max_concurrency < 1) return Status::invalid_argument("max_concurrency: must be at least 1");
  if (options.max_retries < 0) return Status::invalid_argument("max_retries: must not be negative");
  if (options.timeout.count() <= 0) return Status::invalid_argument("timeout: must be positive");
  std::unique_ptr<HttpEndpoint> e(new HttpEndpoint(std::move(options), std::move(url)));
  // Fail at creation, not at the first call, when the client cannot be built (https without
  // TLS support, a bad host:port).
  auto probe = e->make_client();
  if (!probe->is_valid()) return Status::invalid_argument("\"" + e->_options.url + "\": cannot make an HTTP client for it");
  e->_idle.push_back(std::move(probe));
  return e;
}

HttpEndpoint::HttpEndpoint(EndpointOptions options, ParsedUrl url) : _options(std::move(options)), _url(std::move(url)) {}

HttpEndpoint::~HttpEndpoint() { cancel(); }

std::unique_ptr<httplib::Client> HttpEndpoint::make_client() const {
  auto c = std::make_unique<httplib::Client>(_url.scheme_host_port);
  c->set_connection_timeout(_options.timeout);
  c->set_read_timeout(_options.timeout);
  c->set_write_timeout(_options.timeout);
  c->set_keep_alive(true);
  c->set_tcp_nodelay(true);
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
  c->enable_server_certificate_verification(true);
  if (!_options.ca_cert_file.empty()) c->set_ca_cert_path(_options.ca_cert_file);
#endif
  return c;
}

std::unique_ptr<httplib::Client> HttpEndpoint::acquire() {
  std::unique_lock lock(_mu);
  _cv.wait(lock, [&] { return _cancelled || _in_flight < _options.max_concurrency; });
  if (_cancelled) return nullptr;
  ++_in_flight;
  std::unique_ptr<httplib::Client> c;
  if (!_idle.empty()) {
    c = std::move(_idle.back());
    _idle.pop_back();
  }
  lock.unlock();
  if (!c) c = make_client();
  lock.lock();
  _busy.push_back(c.get());
  return c;
}

void HttpEndpoint::release(std::unique_ptr<httplib::Client> client, bool reusable) {
  std::lock_guard lock(_mu);
  _busy.erase(std::find(_busy.begin(), _busy.end(), client.get()));
  --_in_flight;
  // A client whose request failed may hold a broken connection: start the next one fresh.
  if (reusable && !_cancelled) _idle.push_back(std::move(client));
  _cv.notify_all();
}

bool HttpEndpoint::sleep_for(std::chrono::milliseconds delay) {
  std::unique_lock lock(_mu);
  return !_cv.wait_for(lock, delay, [&] { return _cancelled; });
}

void HttpEndpoint::cancel() {
  std::lock_guard lock(_mu);
  _cancelled = true;
  // stop() shuts the socket of an in-flight request down, so its read fails at once.
  for (httplib::Client* c : _busy) c->stop();
  _idle.clear();
  _cv.notify_all();
}

Result<HttpReply> HttpEndpoint::post_json(std::string_view path_suffix, std::string_view body, const HeaderList& extra_headers) {
  httplib::Headers headers;
  for (const auto& [k, v] : _options.headers) headers.emplace(k, v);
  for (const auto& [k, v] : extra_headers) headers.emplace(k, v);
  const std::string path = _url.path + std::string(path_suffix);
  const std::string request_path = path.empty() ? "/" : path;
  const std::string payload(body);

  Status last_error;
  HttpReply last_reply;
  bool have_reply = false;
  for (int attempt = 1; attempt <= 1 + _options.max_retries; ++attempt) {
    std::optional<std::chrono::milliseconds> server_delay;
    {
      auto client = acquire();
      if (!client) return Status::unavailable("POST " + _options.url + std::string(path_suffix) + ": cancelled (shutting down)");
      httplib::Result res = client->Post(request_path, headers, payload, "application/json");
      const bool ok = static_cast<bool>(res);
      if (ok) {
        HttpReply reply;
        reply.status = res->status;
        reply.body = std::move(res->body);
        for (const auto& [k, v] : res->headers) reply.headers.emplace_back(lower(k), v);
        reply.attempts = attempt;
        if (auto ra = reply.header("retry-after"); !ra.empty()) server_delay = retry_after(ra);
        const bool retry = retryable_status(reply.status);
        release(std::move(client), !retry);
        if (!retry) return reply;
        last_reply = std::move(reply);
        have_reply = true;
        last_error = Status::unavailable("POST " + _options.url + std::string(path_suffix) + ": HTTP " +
                                         std::to_string(last_reply.status));
      } else {
        const httplib::Error err = res.error();
        release(std::move(client), false);
        const std::string what = "POST " + _options.url + std::string(path_suffix) + ": " + httplib::to_string(err);
        last_error = err == httplib::Error::Read || err == httplib::Error::Write ? Status::timeout(what + " (connection closed, or no reply within the timeout)")
                                                                                : Status::unavailable(what);
        have_reply = false;
      }
    }
    if (attempt == 1 + _options.max_retries) break;
    auto delay = server_delay ? *server_delay : jittered(std::min(_options.backoff_max, _options.backoff_initial * (int64_t{1} << std::min(attempt - 1, 20))));
    if (!sleep_for(std::min(delay, _options.backoff_max))) {
      return Status::unavailable("POST " + _options.url + std::string(path_suffix) + ": cancelled (shutting down)");
    }
  }
  if (have_reply) {
    last_reply.attempts = 1 + _options.max_retries;
    return last_reply;
  }
  return Status(last_error.code(), last_error.message() + " after " + std::to_string(1 + _options.max_retries) + " attempts");
}

}  // namespace tracefeed::evaluate
