// A tiny server for tests: POST /v1/traces (the real routes) into a recording EventSink, and
// GET /test/envelopes to read back what was published (a JSON array of envelopes), and
// GET /version as an MLflow server answers it.
// Usage: otlp_test_server [host:port]   (default 127.0.0.1:0). Prints "ready at URL", then
// serves until SIGTERM or SIGINT.

#include <csignal>
#include <cstdio>

#include "core/event_json.h"
#include "http/server.h"
#include "producers/otlp/otlp_routes.h"
#include "producers/otlp/tests/recording_sink.h"

int main(int argc, char** argv) {
  using namespace tracefeed;
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before any thread starts: only sigwait sees them

  http::ServerOptions options;
  options.listen = argc > 1 ? argv[1] : "127.0.0.1:0";
  http::Server server(options);
  otlp::testing::RecordingSink sink;
  otlp::register_otlp_routes(server, sink, otlp::OtlpOptions{});
  server.route("GET", "/test/envelopes", [&sink](const http::Request&, http::Response& res) {
    std::string body;
    JsonWriter w(body);
    w.begin_array();
    for (const auto& e : sink.envelopes()) write_json(w, e);
    w.end_array();
    res.json(200, std::move(body));
  });
  // As an MLflow >= 3.4 tracking server answers: the MLflow client then exports spans to /v1/traces.
  server.route("GET", "/version", [](const http::Request&, http::Response& res) {
    res.status = 200;
    res.body = "3.17.2";
    res.content_type = "text/plain";
  });
  server.route("GET", "/readyz", [](const http::Request&, http::Response& res) { res.json(200, R"({"status":"ready"})"); });
  if (Status s = server.start(); !s.is_ok()) {
    std::fprintf(stderr, "otlp_test_server: %s\n", s.to_string().c_str());
    return 1;
  }
  std::printf("ready at %s\n", server.base_url().c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  server.stop();
  return 0;
}
