#include "sinks/eval/dataset_api.h"

#include <charconv>
#include <limits>

#include "core/json_tree.h"
#include "core/json_writer.h"
#include "core/time_format.h"
#include "http/server.h"
#include "sinks/eval/dataset_store.h"

namespace tracefeed::eval {
namespace {

constexpr std::string_view kNdjson = "application/x-ndjson";

// A whole non-negative decimal integer, or nullopt.
std::optional<int64_t> parse_count(std::string_view s) {
  int64_t v = -1;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

// max_results: absent → nullopt; otherwise 1..limit.
Result<std::optional<size_t>> max_results(const http::Request& req, size_t limit) {
  if (!req.has_query_param("max_results")) return std::optional<size_t>();
  auto v = parse_count(req.query_param("max_results"));
  if (!v || *v < 1 || static_cast<size_t>(*v) > limit) {
    return Status::invalid_argument("max_results: expected an integer from 1 to " + std::to_string(limit) + ", got \"" +
                                    std::string(req.query_param("max_results")) + "\"");
  }
  return std::optional<size_t>(static_cast<size_t>(*v));
}

void write_dataset_json(JsonWriter& w, const DatasetInfo& d) {
  w.begin_object();
  w.field("name", d.name);
  w.field("dataset_id", d.dataset_id);
  w.field_int("latest_version", d.latest_version);
  w.field_int("record_count", d.record_count);
  w.field("created_time", format_rfc3339(d.created_time));
  w.field("last_update_time", format_rfc3339(d.last_update_time));
  w.field("created_by", d.created_by);
  w.end_object();
}

std::string change_json(const ChangeSummary& c) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.field("dataset", c.dataset);
  w.field_int("version", c.version);
  w.field("changed", c.changed);
  w.field_int("added", c.added);
  w.field_int("updated", c.updated);
  w.field_int("unchanged", c.unchanged);
  w.field_int("removed", c.removed);
  w.end_object();
  return out;
}

// The trace ids of a POST .../records body: {trace_ids: [...]} or {labeling_session_id: "..."}.
// `from_session` is set when the ids came from a labeling session.
Result<std::vector<std::string>> body_trace_ids(const http::Request& req, const DatasetApiOptions& options,
                                                std::string* from_session) {
  auto json = parse_json(req.body);
  if (!json.is_ok()) return json.status();
  if (!json->is_object()) return Status::invalid_argument("body: expected a JSON object");
  const JsonTree* ids = json->find("trace_ids");
  const JsonTree* session = json->find("labeling_session_id");
  if ((ids != nullptr) == (session != nullptr)) {
    return Status::invalid_argument("body: expected exactly one of trace_ids or labeling_session_id");
  }
  std::vector<std::string> out;
  if (ids) {
    if (!ids->is_array()) return Status::invalid_argument("trace_ids: expected an array of trace ids, got " + std::string(ids->type_name()));
    for (size_t i = 0; i < ids->as_array().size(); ++i) {
      const JsonTree& id = ids->as_array()[i];
      if (!id.is_string()) {
        return Status::invalid_argument("trace_ids[" + std::to_string(i) + "]: expected a string, got " +
                                        std::string(id.type_name()));
      }
      out.push_back(id.as_string());
    }
    return out;
  }
  if (!session->is_string() || session->as_string().empty()) {
    return Status::invalid_argument("labeling_session_id: expected a non-empty string");
  }
  if (!options.session_traces) {
    return Status::invalid_argument("labeling_session_id: labeling sessions are not served by this process; send trace_ids");
  }
  *from_session = session->as_string();
  auto traces = options.session_traces(session->as_string());
  if (!traces.is_ok()) return traces.status().with_context("labeling_session_id");
  return std::move(traces).value();
}

}  // namespace

std::string records_page_token(int64_t version, int64_t seq) { return std::to_string(version) + "." + std::to_string(seq); }

Result<std::pair<int64_t, int64_t>> parse_records_page_token(std::string_view token) {
  const auto dot = token.find('.');
  auto version = dot == std::string_view::npos ? std::nullopt : parse_count(token.substr(0, dot));
  auto seq = dot == std::string_view::npos ? std::nullopt : parse_count(token.substr(dot + 1));
  if (!version || !seq) {
    return Status::invalid_argument("page_token: not a token this server made (\"" + std::string(token) + "\")");
  }
  return std::pair{*version, *seq};
}

void register_dataset_routes(http::Server& server, DatasetStore& datasets, DatasetApiOptions options) {
  server.route("GET", "/api/v1/datasets", [&datasets](const http::Request&, http::Response& res) {
    auto all = datasets.list();
    if (!all.is_ok()) return http::write_error(res, all.status());
    std::string body;
    JsonWriter w(body);
    w.begin_object();
    w.key("datasets");
    w.begin_array();
    for (const auto& d : *all) write_dataset_json(w, d);
    w.end_array();
    w.end_object();
    res.json(200, std::move(body));
  });

  server.route("POST", "/api/v1/datasets", [&datasets](const http::Request& req, http::Response& res) {
    auto json = parse_json(req.body);
    if (!json.is_ok()) return http::write_error(res, json.status());
    const JsonTree* name = json->is_object() ? json->find("name") : nullptr;
    if (!name || !name->is_string()) return http::write_error(res, Status::invalid_argument("name: required string"));
    auto created = datasets.create(name->as_string());
    if (!created.is_ok()) return http::write_error(res, created.status());
    std::string body;
    JsonWriter w(body);
    w.begin_object();
    w.key("dataset");
    write_dataset_json(w, *created);
    w.end_object();
    res.json(201, std::move(body));
  });

  server.route("GET", R"(/api/v1/datasets/([^/]+))", [&datasets](const http::Request& req, http::Response& res) {
    auto d = datasets.info(req.path_params[0]);
    if (!d.is_ok()) return http::write_error(res, d.status());
    if (!*d) return http::write_error(res, Status::not_found("dataset " + req.path_params[0] + " not found"));
    std::string body;
    JsonWriter w(body);
    w.begin_object();
    w.key("dataset");
    write_dataset_json(w, **d);
    w.end_object();
    res.json(200, std::move(body));
  });

  server.route("GET", R"(/api/v1/datasets/([^/]+)/versions)", [&datasets, options](const http::Request& req,
                                                                                   http::Response& res) {
    auto limit = max_results(req, options.max_page_versions);
    if (!limit.is_ok()) return http::write_error(res, limit.status());
    int64_t from = 0;
    if (req.has_query_param("page_token")) {
      auto v = parse_count(req.query_param("page_token"));
      if (!v) return http::write_error(res, Status::invalid_argument("page_token: not a token this server made"));
      from = *v;
    }
    auto page = datasets.versions(req.path_params[0], from, limit->value_or(100));
    if (!page.is_ok()) return http::write_error(res, page.status());
    std::string body;
    JsonWriter w(body);
    w.begin_object();
    w.key("versions");
    w.begin_array();
    for (const auto& v : page->versions) {
      w.begin_object();
      w.field_int("version", v.version);
      w.field("created_time", format_rfc3339(v.created_time));
      w.field_int("record_count", v.record_count);
      w.field_int("added", v.added);
      w.field_int("updated", v.updated);
      w.field_int("removed", v.removed);
      w.field("cause", v.cause);
      w.end_object();
    }
    w.end_array();
    if (page->next_version) w.field("next_page_token", std::to_string(*page->next_version));
    w.end_object();
    res.json(200, std::move(body));
  });

  server.route("GET", R"(/api/v1/datasets/([^/]+)/records)", [&datasets, options](const http::Request& req,
                                                                                  http::Response& res) {
    std::optional<int64_t> version;
    if (req.has_query_param("version") && req.query_param("version") != "latest") {
      version = parse_count(req.query_param("version"));
      if (!version) {
        return http::write_error(res, Status::invalid_argument("version: expected a version number or \"latest\", got \"" +
                                                               std::string(req.query_param("version")) + "\""));
      }
    }
    int64_t start_seq = 0;
    if (req.has_query_param("page_token")) {
      auto token = parse_records_page_token(req.query_param("page_token"));
      if (!token.is_ok()) return http::write_error(res, token.status());
      if (version && *version != token->first) {
        return http::write_error(res, Status::invalid_argument("page_token: it belongs to version " +
                                                               std::to_string(token->first) + ", not " +
                                                               std::to_string(*version)));
      }
      version = token->first;
      start_seq = token->second;
    }
    auto limit = max_results(req, options.max_page_records);
    if (!limit.is_ok()) return http::write_error(res, limit.status());
    const bool paged = limit->has_value();
    std::string body;
    auto page = datasets.read_records(req.path_params[0], version, start_seq,
                                      paged ? **limit : std::numeric_limits<size_t>::max(),
                                      paged ? options.max_page_bytes : options.max_unpaged_export_bytes, body);
    if (!page.is_ok()) return http::write_error(res, page.status());
    if (page->next_seq && !paged) {
      return http::write_error(
          res, Status::invalid_argument("max_results: version " + std::to_string(page->version) + " of dataset " +
                                        req.path_params[0] + " (" + std::to_string(page->record_count) +
                                        " records) is larger than " + std::to_string(options.max_unpaged_export_bytes) +
                                        " bytes; page through it with max_results and page_token, or use "
                                        "`tracefeed dataset export`"));
    }
    res.status = 200;
    res.body = std::move(body);
    res.content_type = std::string(kNdjson);
    res.headers.emplace_back("X-Tracefeed-Dataset-Version", std::to_string(page->version));
    res.headers.emplace_back("X-Tracefeed-Record-Count", std::to_string(page->record_count));
    if (page->next_seq) {
      res.headers.emplace_back("X-Tracefeed-Next-Page-Token", records_page_token(page->version, *page->next_seq));
    }
  });

  server.route("POST", R"(/api/v1/datasets/([^/]+)/records)", [&datasets, options](const http::Request& req,
                                                                                   http::Response& res) {
    std::string session;
    auto ids = body_trace_ids(req, options, &session);
    if (!ids.is_ok()) return http::write_error(res, ids.status());
    const std::string& name = req.path_params[0];
    if (!session.empty()) {
      if (ids->size() > datasets.max_traces_per_call()) {
        return http::write_error(
            res, Status::invalid_argument("labeling_session_id: session " + session + " has " +
                                          std::to_string(ids->size()) + " completed items, more than the " +
                                          std::to_string(datasets.max_traces_per_call()) +
                                          " one call adds; add them with trace_ids in parts"));
      }
      if (ids->empty()) {
        // Nothing labeled yet: no change, but still a dataset that must exist.
        auto d = datasets.info(name);
        if (!d.is_ok()) return http::write_error(res, d.status());
        if (!*d) return http::write_error(res, Status::not_found("dataset " + name + " not found"));
        ChangeSummary none;
        none.dataset = name;
        none.version = (*d)->latest_version;
        return res.json(200, change_json(none));
      }
    }
    auto change = datasets.add_traces(name, *ids);
    if (!change.is_ok()) return http::write_error(res, change.status());
    res.json(200, change_json(*change));
  });

  server.route("DELETE", R"(/api/v1/datasets/([^/]+)/records/([^/]+))", [&datasets](const http::Request& req,
                                                                                    http::Response& res) {
    auto change = datasets.remove_trace(req.path_params[0], req.path_params[1]);
    if (!change.is_ok()) return http::write_error(res, change.status());
    res.json(200, change_json(*change));
  });
}

}  // namespace tracefeed::eval
