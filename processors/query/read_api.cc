#include "processors/query/read_api.h"

#include <algorithm>
#include <thread>

#include "core/event_json.h"
#include "core/ids.h"
#include "core/json_tree.h"
#include "processors/filter/filter.h"
#include "processors/filter/order_by.h"
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

// The experiment a trace belongs to (trace_location.mlflow_experiment.experiment_id); "0",
// MLflow's default experiment, when a client sent no location.
std::string experiment_of(const TraceInfo& info) {
  if (info.trace_location.empty()) return "0";
  auto loc = parse_json(info.trace_location);
  if (!loc.is_ok()) return "0";
  const JsonTree* exp = loc->find("mlflow_experiment");
  const JsonTree* id = exp ? exp->find("experiment_id") : nullptr;
  return id && id->is_string() ? id->as_string() : "0";
}

void search(const join::TraceReader& reader, const http::Request& req, ReadApiOptions options, http::Response& res) {
  auto body = parse_json(req.body.empty() ? std::string_view("{}") : std::string_view(req.body));
  if (!body.is_ok()) return http::write_error(res, body.status());
  std::string filter_text;
  if (const JsonTree* f = body->find("filter")) {
    if (!f->is_string()) return http::write_error(res, Status::invalid_argument("filter: expected a string"));
    filter_text = f->as_string();
  }
  auto filter = filter::parse_filter(filter_text);
  if (!filter.is_ok()) return http::write_error(res, filter.status());

  size_t max_results = 100;  // MLflow's default
  if (const JsonTree* m = body->find("max_results")) {
    if (!m->is_number() || m->as_number() < 1 || m->as_number() > static_cast<double>(options.max_search_results)) {
      return http::write_error(res, Status::invalid_argument("max_results: expected 1.." +
                                                             std::to_string(options.max_search_results)));
    }
    max_results = static_cast<size_t>(m->as_number());
  }
  std::vector<std::string> order_by_text;
  if (const JsonTree* o = body->find("order_by")) {
    if (!o->is_array()) return http::write_error(res, Status::invalid_argument("order_by: expected an array of strings"));
    for (const auto& item : o->as_array()) {
      if (!item.is_string()) return http::write_error(res, Status::invalid_argument("order_by: expected an array of strings"));
      order_by_text.push_back(item.as_string());
    }
  }
  auto order_by = filter::parse_order_by(order_by_text);
  if (!order_by.is_ok()) return http::write_error(res, order_by.status());
  size_t offset = 0;
  if (const JsonTree* t = body->find("page_token")) {
    if (!t->is_string() || t->as_string().empty() ||
        t->as_string().find_first_not_of("0123456789") != std::string::npos || t->as_string().size() > 12) {
      return http::write_error(res, Status::invalid_argument("page_token: not a token this server issued"));
    }
    offset = std::stoull(t->as_string());
  }
  // Experiments: V3 `locations` or V2 `experiment_ids`; none means all.
  std::vector<std::string> experiments;
  if (const JsonTree* locs = body->find("locations"); locs && locs->is_array()) {
    for (const auto& l : locs->as_array()) {
      const JsonTree* exp = l.find("mlflow_experiment");
      const JsonTree* id = exp ? exp->find("experiment_id") : nullptr;
      if (id && id->is_string()) experiments.push_back(id->as_string());
    }
  }
  if (const JsonTree* ids = body->find("experiment_ids"); ids && ids->is_array()) {
    for (const auto& id : ids->as_array()) {
      if (id.is_string()) experiments.push_back(id.as_string());
    }
  }

  std::vector<Trace> matches;
  Status s = reader.for_each([&](Trace&& t) {
    if (!experiments.empty() &&
        std::find(experiments.begin(), experiments.end(), experiment_of(t.trace_info)) == experiments.end()) {
      return true;
    }
    if (filter->matches(t)) matches.push_back(std::move(t));
    return true;
  });
  if (!s.is_ok()) return http::write_error(res, s);
  std::sort(matches.begin(), matches.end(), [&](const Trace& a, const Trace& b) { return (*order_by)(a, b); });

  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.key("traces");
  w.begin_array();
  const size_t end = std::min(matches.size(), offset + max_results);
  for (size_t i = offset; i < end; ++i) write_json(w, matches[i].trace_info);
  w.end_array();
  if (end < matches.size()) w.field("next_page_token", std::to_string(end));
  w.end_object();
  res.json(200, std::move(out));
}

}  // namespace

void register_read_routes(http::Server& server, const join::TraceReader& reader, ReadApiOptions options) {
  server.route("POST", "/api/3.0/mlflow/traces/search", [&reader, options](const http::Request& req, http::Response& res) {
    search(reader, req, options, res);
  });
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
