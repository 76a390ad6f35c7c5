#include "processors/query/read_api.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>
#include <thread>
#include <unordered_set>

#include "core/event_json.h"
#include "core/ids.h"
#include "core/json_tree.h"
#include "processors/filter/filter.h"
#include "processors/filter/order_by.h"
#include "http/server.h"
#include "processors/join/trace_reader.h"
#include "processors/query/mlflow_trace_json.h"
#include "processors/route/time_index.h"
#include "state/store.h"

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

// What a trace read answers: trace_info only (GetTraceInfoV3), trace_info + spans in tracefeed's
// shape (PRODUCT.md §3), or MLflow's GetTrace shape (OpenTelemetry spans, mlflow_trace_json.h).
enum class TraceShape { info, tracefeed, mlflow };

void write_trace(http::Response& res, const Trace& trace, TraceShape shape) {
  std::string body;
  JsonWriter w(body);
  w.begin_object();
  w.key("trace");
  if (shape == TraceShape::mlflow) {
    write_mlflow_trace(w, trace);
  } else {
    w.begin_object();
    w.key("trace_info");
    write_json(w, trace.trace_info);
    if (shape == TraceShape::tracefeed) {
      w.key("spans");
      w.begin_array();
      for (const auto& s : trace.spans) write_json(w, s);
      w.end_array();
    }
    w.end_object();
  }
  w.end_object();
  res.json(200, std::move(body));
}

void get_trace(const join::TraceReader& reader, std::string_view id, TraceShape shape, ReadApiOptions options,
               http::Response& res) {
  if (Status s = check_trace_id(id); !s.is_ok()) return http::write_error(res, s);
  const bool with_spans = shape != TraceShape::info;
  auto trace = read_with_wait([&] { return reader.get(id, with_spans); }, options.read_your_writes_wait);
  if (!trace.is_ok()) return http::write_error(res, trace.status());
  if (!trace->has_value()) return http::write_error(res, Status::not_found("trace " + std::string(id) + " not found"));
  write_trace(res, **trace, shape);
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

// A page token: an offset into the sorted matches ("123"), or, for the time index order, the
// index key of the last trace returned ("i" + hex), so the next page starts right after it.
struct PageToken {
  size_t offset = 0;
  bool keyset = false;
  std::string after;
};

std::optional<PageToken> parse_page_token(const std::string& text) {
  PageToken t;
  if (!text.empty() && text.size() <= 12 && text.find_first_not_of("0123456789") == std::string::npos) {
    t.offset = std::stoull(text);
    return t;
  }
  if (text.size() < 3 || text.size() > 1025 || text[0] != 'i' || text.size() % 2 == 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 1; i < text.size(); i += 2) {
    const int hi = nibble(text[i]), lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    t.after.push_back(static_cast<char>(hi << 4 | lo));
  }
  if (!route::time_index::parse(t.after)) return std::nullopt;
  t.keyset = true;
  return t;
}

std::string to_hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 0xf]);
  }
  return out;
}

// MLflow's default order, which the time index is sorted in: timestamp_ms DESC, request_id ASC.
bool is_index_order(const filter::OrderBy& order) {
  const auto& k = order.keys();
  return k.size() == 2 && k[0].field == filter::SortField::timestamp_ms && !k[0].ascending &&
         k[1].field == filter::SortField::request_id && k[1].ascending;
}

// The range of trace.timestamp_ms every match lies in, from the filter's conditions (all ANDed).
// Loose by up to a millisecond at fractional literals: the filter itself still decides.
struct TimeBounds {
  std::optional<int64_t> min_ms, max_ms;
};

TimeBounds timestamp_bounds(const filter::Filter& f) {
  TimeBounds b;
  auto clamp = [](double v) {
    if (!(v > -9.0e18)) return static_cast<int64_t>(-9'000'000'000'000'000'000);
    if (!(v < 9.0e18)) return static_cast<int64_t>(9'000'000'000'000'000'000);
    return static_cast<int64_t>(v);
  };
  auto raise_min = [&](double v) {
    const int64_t x = clamp(std::floor(v));
    if (!b.min_ms || x > *b.min_ms) b.min_ms = x;
  };
  auto lower_max = [&](double v) {
    const int64_t x = clamp(std::ceil(v));
    if (!b.max_ms || x < *b.max_ms) b.max_ms = x;
  };
  for (const auto& c : f.conditions()) {
    if (c.field != filter::Field::trace_timestamp_ms || c.values.size() != 1 ||
        c.values[0].kind != filter::Literal::Kind::number) {
      continue;
    }
    const double v = c.values[0].number;
    switch (c.op) {
      case filter::Op::eq: raise_min(v); lower_max(v); break;
      case filter::Op::gt:
      case filter::Op::ge: raise_min(v); break;
      case filter::Op::lt:
      case filter::Op::le: lower_max(v); break;
      default: break;
    }
  }
  return b;
}

// Visits the traces of the time index entries in [start, end), newest first, skipping stale
// entries (the trace has another timestamp now; see route/time_index.h). Reads a page of keys at
// a time and loads each trace (with spans and assessments) after the page's iterator is gone.
Status visit_index(const state::Store& store, const join::TraceReader& reader, std::string start,
                   const std::string& end, const std::function<bool(std::string_view key, Trace&&)>& visit) {
  constexpr size_t kPage = 256;
  std::vector<std::string> keys;
  while (true) {
    keys.clear();
    TF_ASSIGN_OR_RETURN(auto next, store.scan(state::Family::meta, state::ScanRange{start, end, kPage},
                                              [&](std::string_view key, std::string_view) {
                                                keys.emplace_back(key);
                                                return true;
                                              }));
    for (const auto& key : keys) {
      auto entry = route::time_index::parse(key);
      if (!entry) continue;
      TF_ASSIGN_OR_RETURN(auto trace, reader.get(entry->trace_id, true));
      if (!trace || route::time_index::timestamp_ms_of(trace->trace_info.request_time) != entry->timestamp_ms) continue;
      if (!visit(key, std::move(*trace))) return Status::ok();
    }
    if (!next) return Status::ok();
    start = std::move(*next);
  }
}

// MLflow's BatchGetTraces: GET ?trace_ids=a&trace_ids=b[&experiment_ids=..] → {traces: [...]}
// in GetTrace's shape, in the order asked (the client keeps it as its search order), each trace
// once; unknown ids (and traces of other experiments) are left out, as MLflow does. No
// read-your-writes wait: the client asks for traces a search has just listed.
void batch_get(const join::TraceReader& reader, const http::Request& req, ReadApiOptions options, http::Response& res) {
  const auto asked = static_cast<size_t>(
      std::count_if(req.query.begin(), req.query.end(), [](const auto& kv) { return kv.first == "trace_ids"; }));
  if (asked > options.max_batch_get_traces) {
    return http::write_error(res, Status::invalid_argument("trace_ids: at most " +
                                                           std::to_string(options.max_batch_get_traces) +
                                                           " per request, got " + std::to_string(asked)));
  }
  std::vector<std::string_view> ids, experiments;
  for (const auto& [k, v] : req.query) {
    if (k == "trace_ids") {
      if (Status s = check_trace_id(v); !s.is_ok()) {
        return http::write_error(res, Status::invalid_argument("trace_ids: expected \"tr-\" + 32 lowercase hex, got \"" + v + "\""));
      }
      if (std::find(ids.begin(), ids.end(), v) == ids.end()) ids.push_back(v);
    } else if (k == "experiment_ids") {
      experiments.push_back(v);
    }
  }
  if (ids.empty()) return http::write_error(res, Status::invalid_argument("trace_ids: required query parameter"));
  std::string body;
  JsonWriter w(body);
  w.begin_object();
  w.key("traces");
  w.begin_array();
  for (std::string_view id : ids) {
    auto trace = reader.get(id, true);
    if (!trace.is_ok()) return http::write_error(res, trace.status());
    if (!trace->has_value()) continue;
    if (!experiments.empty() &&
        std::find(experiments.begin(), experiments.end(), experiment_of((*trace)->trace_info)) == experiments.end()) {
      continue;
    }
    write_mlflow_trace(w, **trace);
  }
  w.end_array();
  w.end_object();
  res.json(200, std::move(body));
}

void search(const join::TraceReader& reader, const state::Store* store, const http::Request& req, ReadApiOptions options,
            http::Response& res) {
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
  PageToken token;
  if (const JsonTree* t = body->find("page_token")) {
    auto parsed = t->is_string() ? parse_page_token(t->as_string()) : std::optional<PageToken>();
    if (!parsed) return http::write_error(res, Status::invalid_argument("page_token: not a token this server issued"));
    token = std::move(*parsed);
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

  // mlflow.search_traces(run_id=X) filters on mlflow.sourceRun = X; the members of a run that
  // is a labeling session get that metadata for the match (and in the answer).
  std::string run_id;
  std::unordered_set<std::string> run_members;
  if (options.run_members) {
    for (const auto& c : filter->conditions()) {
      if (c.field != filter::Field::metadata || c.key != "mlflow.sourceRun" || c.op != filter::Op::eq ||
          c.values.size() != 1) {
        continue;
      }
      if (auto ids = options.run_members(c.values[0].text)) {
        run_id = c.values[0].text;
        run_members.insert(ids->begin(), ids->end());
      }
    }
  }
  auto keep = [&](Trace& t) {
    if (!run_id.empty() && run_members.count(t.trace_info.trace_id)) {
      auto& meta = t.trace_info.trace_metadata;
      if (std::none_of(meta.begin(), meta.end(), [](const auto& kv) { return kv.first == "mlflow.sourceRun"; })) {
        meta.emplace_back("mlflow.sourceRun", run_id);
      }
    }
    if (!experiments.empty() &&
        std::find(experiments.begin(), experiments.end(), experiment_of(t.trace_info)) == experiments.end()) {
      return false;
    }
    return filter->matches(t);
  };

  // The time index (when complete) serves MLflow's default order page by page, and bounds the
  // candidates of any other order by the filter's trace.timestamp_ms range.
  bool index_ready = false;
  if (store != nullptr) {
    auto marker = store->get(state::Family::meta, route::time_index::complete_key);
    if (!marker.is_ok()) return http::write_error(res, marker.status());
    index_ready = marker->has_value();
  }
  const TimeBounds bounds = timestamp_bounds(*filter);
  const bool index_order = index_ready && is_index_order(*order_by);
  if (token.keyset && !index_order) {
    return http::write_error(res, Status::invalid_argument("page_token: issued for another order_by; start again without it"));
  }

  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.key("traces");
  w.begin_array();
  if (index_order) {
    std::string start = token.keyset ? token.after + '\0'
                                     : (bounds.max_ms ? route::time_index::first_key_at_or_before(*bounds.max_ms)
                                                      : std::string(route::time_index::prefix));
    const std::string end = bounds.min_ms ? route::time_index::end_key_before(*bounds.min_ms) : route::time_index::end_key();
    if (token.keyset && bounds.max_ms) start = std::max(start, route::time_index::first_key_at_or_before(*bounds.max_ms));
    size_t skip = token.offset, written = 0;
    std::string last_key;
    bool more = false;
    Status inner;
    Status s = visit_index(*store, reader, start, end, [&](std::string_view key, Trace&& t) {
      if (!keep(t)) return true;
      if (skip > 0) {
        --skip;
        return true;
      }
      if (written == max_results) {
        more = true;
        return false;
      }
      write_json(w, t.trace_info);
      ++written;
      last_key.assign(key);
      return true;
    });
    if (!s.is_ok()) return http::write_error(res, s);
    w.end_array();
    if (more) w.field("next_page_token", "i" + to_hex(last_key));
  } else {
    std::vector<Trace> matches;
    auto collect = [&](Trace&& t) {
      if (keep(t)) matches.push_back(std::move(t));
      return true;
    };
    Status s = index_ready && (bounds.min_ms || bounds.max_ms)
                   ? visit_index(*store, reader,
                                 bounds.max_ms ? route::time_index::first_key_at_or_before(*bounds.max_ms)
                                               : std::string(route::time_index::prefix),
                                 bounds.min_ms ? route::time_index::end_key_before(*bounds.min_ms)
                                               : route::time_index::end_key(),
                                 [&](std::string_view, Trace&& t) { return collect(std::move(t)); })
                   : reader.for_each(collect);
    if (!s.is_ok()) return http::write_error(res, s);
    std::sort(matches.begin(), matches.end(), [&](const Trace& a, const Trace& b) { return (*order_by)(a, b); });
    const size_t offset = token.offset;
    const size_t end = std::min(matches.size(), offset + max_results);
    for (size_t i = offset; i < end; ++i) write_json(w, matches[i].trace_info);
    w.end_array();
    if (end < matches.size()) w.field("next_page_token", std::to_string(end));
  }
  w.end_object();
  res.json(200, std::move(out));
}

}  // namespace

namespace {

void register_routes(http::Server& server, const join::TraceReader& reader, const state::Store* store,
                     ReadApiOptions options) {
  server.route("POST", "/api/3.0/mlflow/traces/search", [&reader, store, options](const http::Request& req, http::Response& res) {
    search(reader, store, req, options, res);
  });
  server.route("GET", "/api/3.0/mlflow/traces/get", [&reader, options](const http::Request& req, http::Response& res) {
    if (!req.has_query_param("trace_id")) {
      return http::write_error(res, Status::invalid_argument("trace_id: required query parameter"));
    }
    // MLflow's Python client sends X-MLflow-Client-Version on every request and parses the answer
    // as GetTrace.Response; everyone else (the web UI, tests, curl) reads tracefeed's span shape.
    const TraceShape shape = req.header("x-mlflow-client-version").empty() ? TraceShape::tracefeed : TraceShape::mlflow;
    get_trace(reader, req.query_param("trace_id"), shape, options, res);
  });
  server.route("GET", "/api/3.0/mlflow/traces/batchGet", [&reader, options](const http::Request& req, http::Response& res) {
    batch_get(reader, req, options, res);
  });
  server.route("GET", R"(/api/3.0/mlflow/traces/(tr-[^/]+))", [&reader, options](const http::Request& req, http::Response& res) {
    get_trace(reader, req.path_params.at(0), TraceShape::info, options, res);
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

}  // namespace

void register_read_routes(http::Server& server, const join::TraceReader& reader, ReadApiOptions options) {
  register_routes(server, reader, nullptr, options);
}

void register_read_routes(http::Server& server, const join::TraceReader& reader, const state::Store& store,
                          ReadApiOptions options) {
  register_routes(server, reader, &store, options);
}

}  // namespace tracefeed::query
