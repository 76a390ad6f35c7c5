#pragma once
// HttpEndpoint: the evaluator's client for the services it calls — the LLM judge, the app's
// predict_url, HTTP scorers. One place for what each needs: a timeout, retries with exponential
// backoff, bounded concurrency, keep-alive connections, TLS, and a cancel() that interrupts
// everything for shutdown.
//
// https:// works: the Debian cpp-httplib is built with CPPHTTPLIB_OPENSSL_SUPPORT; servers are
// verified against the system CA store (or `ca_cert_file`).
//
// Threads: post_json() is called from any number of threads; at most `max_concurrency` requests
// are in flight (callers beyond that block, FIFO-ish, until a connection is free or cancel()).
// Each in-flight request uses its own httplib client (a client serializes its requests); idle
// clients keep their connections for the next request (httplib checks that a kept connection
// is still open before reusing it).

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace httplib {
class Client;
}

namespace tracefeed::evaluate {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct EndpointOptions {
  // http(s)://host[:port][/path]. Requests go to this path plus the suffix given per call.
  // Default: "" (required).
  std::string url;
  // Connect, read and write timeout of one attempt. Default: 30 s.
  std::chrono::milliseconds timeout{30'000};
  // Retries after the first attempt, for connection errors, timeouts, 408, 429 and 5xx. Other
  // statuses are answers and are returned as they are. Default: 3.
  int max_retries = 3;
  // Backoff before retry n (n = 1, 2, ...): backoff_initial * 2^(n-1), capped at backoff_max,
  // with ±20 % jitter; a Retry-After header (seconds) replaces it, capped likewise.
  // Defaults: 500 ms, 30 s.
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{30'000};
  // Requests in flight at once. Default: 4.
  int max_concurrency = 4;
  // PEM file of CA certificates to verify https servers with, instead of the system store.
  // Default: "" (system store).
  std::string ca_cert_file;
  // Sent with every request (e.g. Authorization). Default: none.
  HeaderList headers;
};

struct HttpReply {
  int status = 0;
  std::string body;
  HeaderList headers;  // names lower-cased
  int attempts = 0;    // 1 + retries used

  // First value of a header (case-insensitive name), or "".
  [[nodiscard]] std::string_view header(std::string_view name) const;
};

struct ParsedUrl {
  std::string scheme_host_port;  // "https://api.openai.com:443" form accepted by httplib
  std::string path;              // "/v1", "" for none
};
// Accepts http:// and https:// URLs with a host; errors name the URL.
[[nodiscard]] Result<ParsedUrl> parse_http_url(std::string_view url);

class HttpEndpoint {
 public:
  [[nodiscard]] static Result<std::unique_ptr<HttpEndpoint>> create(EndpointOptions options);
  ~HttpEndpoint();
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  // POSTs `body` as application/json to url + `path_suffix`. Returns the final reply (any
  // status that is not retried, or the last retried one when retries ran out: check .status),
  // or timeout / unavailable when no attempt got a reply. After cancel(): unavailable.
  [[nodiscard]] Result<HttpReply> post_json(std::string_view path_suffix, std::string_view body,
                                            const HeaderList& extra_headers = {});

  // Stops waits and backoffs and shuts down in-flight connections; every later call fails.
  // Idempotent, thread-safe.
  void cancel();

  [[nodiscard]] const std::string& url() const noexcept { return _options.url; }
  [[nodiscard]] const EndpointOptions& options() const noexcept { return _options; }

 private:
  HttpEndpoint(EndpointOptions options, ParsedUrl url);
  // A client for one request (an idle one, keeping its connection, when there is one); nullptr
  // when cancelled.
  std::unique_ptr<httplib::Client> acquire();
  void release(std::unique_ptr<httplib::Client> client, bool reusable);
  std::unique_ptr<httplib::Client> make_client() const;
  // Waits `delay` unless cancelled first; returns false when cancelled.
  bool sleep_for(std::chrono::milliseconds delay);

  EndpointOptions _options;
  ParsedUrl _url;
  std::mutex _mu;
  std::condition_variable _cv;
  std::vector<std::unique_ptr<httplib::Client>> _idle;
  std::vector<httplib::Client*> _busy;  // for cancel()
  int _in_flight = 0;
  bool _cancelled = false;
};

}  // namespace tracefeed::evaluate
