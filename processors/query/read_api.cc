#include "processors/query/read_api.h"

#include <thread>

#include "core/event_json.h"
#include "core/ids.h"
#include "http/server.h"
#include "processors/join/trace_reader.h"

namespace tracefeed::query {
namespace {

// Re-runs `read` until it finds something or the wait is over. The pause between reads is a
// poll interval on the server side, bounded by `wait`.
template <typename Read>
auto read_with_wait(Read read, std::chrono::milliseconds wait) -> decltype(read()) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (true) {
    auto r = read();
    if (!r.is_ok() || r->has_value() || std::chrono::steady_clock::now() >= deadline) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Status check_trace_id(std::string_view id) {
  if (!is_trace_id(id)) {
    return Status::invalid_argument("trace_id: expected \"tr-\" + 32 lowercase hex, got \"" + std::string(id) + "\"");
  }
  return Status::ok();
}

void write_trace(http::Response& res, const Trace& trace, bool with_spans) {
  std::string body;
  JsonWriter w(body);
  w.begin_object();
  w.key("trace");
  w.begin_object();
  w.key("trace_info");
  write_json(w, trace.trace_info);
  if (with_spans) {
    w.key("spans");
    w.begin_array();
    for (const auto& s : trace.spans) write_json(w, s);
    w.end_array();
  }
  w.end_object();
  w.end_object();
  res.json(200, std::move(body));
}

void get_trace(const join::TraceReader& reader, std::string_view id, bool with_spans, ReadApiOptions options,
               http::Response& res) {
  if (Status s = check_trace_id(id); !s.is_ok()) return http::write_error(res, s);
  auto trace = read_with_wait([&] { return reader.get(id, with_spans); }, options.read_your_writes_wait);
  if (!trace.is_ok()) return http::write_error(res, trace.status());
  if (!trace->has_value()) return http::write_error(res, Status::not_found("trace " + std::string(id) + " not found"));
  write_trace(res, **trace, with_spans);
}

}  // namespace

void register_read_routes(http::Server& server, const join::TraceReader& reader, ReadApiOptions options) {
  server.route("GET", "/api/3.0/mlflow/traces/get", [&reader, options](const http::Request& req, http::Response& res) {
    if (!req.has_query_param("trace_id")) {
      return http::write_error(res, Status::invalid_argument("trace_id: required query parameter"));
    }
    get_trace(reader, req.query_param("trace_id"), true, options, res);
  });
  server.route("GET", R"(/api/3.0/mlflow/traces/(tr-[^/]+))", [&reader, options](const http::Request& req, http::Response& res) {
    get_trace(reader, req.path_params.at(0), false, options, res);
  });
  server.route("GET", R"(/api/3.0/mlflow/traces/([^/]+)/assessments/([^/]+))",
               [&reader, options](const http::Request& req, http::Response& res) {
                 const std::string& trace_id = req.path_params.at(0);
                 const std::string& assessment_id = req.path_params.at(1);
                 if (Status s = check_trace_id(trace_id); !s.is_ok()) return http::write_error(res, s);
                 auto a = read_with_wait([&] { return reader.get_assessment(trace_id, assessment_id); },
                                         options.read_your_writes_wait);
                 if (!a.is_ok()) return http::write_error(res, a.status());
                 if (!a->has_value()) {
                   return http::write_error(res, Status::not_found("assessment " + assessment_id + " of trace " +
                                                                   trace_id + " not found"));
                 }
                 std::string body;
                 JsonWriter w(body);
                 w.begin_object();
                 w.key("assessment");
                 write_json(w, **a);
                 w.end_object();
                 res.json(200, std::move(body));
               });
}

}  // namespace tracefeed::query
