#include "sinks/labeling/labeling_api.h"

#include <charconv>
#include <cmath>

#include "config/value_format.h"
#include "core/ids.h"
#include "core/time_format.h"
#include "http/server.h"
#include "sinks/labeling/json_fields.h"
#include "sinks/labeling/label_schema.h"

namespace tracefeed::labeling {
namespace {

constexpr size_t kDefaultPageSize = 100;
constexpr size_t kMaxPageSize = 1000;

std::string rfc3339_ms(int64_t ms) {
  return format_rfc3339(ms * 1'000'000);
}

// An empty body reads as {} (a claim by an authenticated reviewer needs no body).
Result<JsonTree> body_of(const http::Request& req) {
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos)
    return JsonTree(JsonTree::Object{});
  TF_ASSIGN_OR_RETURN(JsonTree v, parse_json(req.body));
  if (!v.is_object())
    return Status::invalid_argument("expected a JSON object, got " + std::string(v.type_name()));
  return v;
}

Status check_keys(const JsonTree& body, std::initializer_list<std::string_view> known) {
  return check_known_keys(body, "", std::span<const std::string_view>(known.begin(), known.size()));
}

Result<std::string> required_string(const JsonTree& body, std::string_view key) {
  const JsonTree* v = body.find(key);
  if (!v) return Status::invalid_argument(std::string(key) + ": required");
  if (!v->is_string())
    return Status::invalid_argument(std::string(key) + ": expected a string, got " +
                                    std::string(v->type_name()));
  return v->as_string();
}

Result<std::vector<std::string>> string_list(const JsonTree& body, std::string_view key) {
  std::vector<std::string> out;
  const JsonTree* v = body.find(key);
  if (!v) return out;
  if (!v->is_array())
    return Status::invalid_argument(std::string(key) + ": expected an array of strings, got " +
                                    std::string(v->type_name()));
  for (size_t i = 0; i < v->as_array().size(); ++i) {
    const JsonTree& item = v->as_array()[i];
    if (!item.is_string()) {
      return Status::invalid_argument(std::string(key) + "[" + std::to_string(i) +
                                      "]: expected a string, got " + std::string(item.type_name()));
    }
    out.push_back(item.as_string());
  }
  return out;
}

// The reviewer a request acts for. With authentication on, the token's user is the reviewer and
// the body may only repeat it; without, the body names the reviewer.
Result<std::string> reviewer_of(const http::Request& req, const JsonTree& body) {
  const JsonTree* named = body.find("reviewer");
  if (named && !named->is_string()) {
    return Status::invalid_argument("reviewer: expected a string, got " +
                                    std::string(named->type_name()));
  }
  if (const std::string* user = req.user()) {
    if (named && named->as_string() != *user) {
      return Status{ErrorCode::permission_denied, "reviewer: authenticated as " + *user +
                                                      "; cannot act as " + named->as_string()};
    }
    return *user;
  }
  if (!named) return Status::invalid_argument("reviewer: required");
  return named->as_string();
}

Result<SessionRecord> session_spec_from_json(const JsonTree& body) {
  TF_RETURN_IF_ERROR(check_keys(body, {"name", "label_schemas", "assigned_users",
                                       "reviews_per_item", "lease_duration", "experiment_id"}));
  SessionRecord spec;
  TF_ASSIGN_OR_RETURN(spec.name, required_string(body, "name"));
  if (!body.find("label_schemas")) return Status::invalid_argument("label_schemas: required");
  TF_ASSIGN_OR_RETURN(spec.label_schemas, string_list(body, "label_schemas"));
  TF_ASSIGN_OR_RETURN(spec.assigned_users, string_list(body, "assigned_users"));
  if (const JsonTree* v = body.find("reviews_per_item")) {
    if (!v->is_number() || std::floor(v->as_number()) != v->as_number() ||
        std::fabs(v->as_number()) > 1e6) {
      return Status::invalid_argument("reviews_per_item: expected an integer");
    }
    spec.reviews_per_item = static_cast<int32_t>(v->as_number());
  }
  if (const JsonTree* v = body.find("lease_duration")) {
    auto d = v->is_string() ? config::parse_duration(v->as_string()) : std::nullopt;
    if (!d)
      return Status::invalid_argument(
          "lease_duration: expected a duration such as \"30s\", \"15m\" or \"1h\"");
    spec.lease_duration = *d;
  }
  if (body.find("experiment_id")) {
    TF_ASSIGN_OR_RETURN(spec.experiment_id, required_string(body, "experiment_id"));
  }
  return spec;
}

void write_item_json(JsonWriter& w, const Item& item, ItemStatus status) {
  w.begin_object();
  w.field("trace_id", item.trace_id);
  w.field("status", to_string(status));
  w.field("source", to_string(item.source));
  if (!item.rule.empty()) w.field("rule", item.rule);
  w.field_int("priority", item.priority);
  w.field("added_time", rfc3339_ms(item.added_ms));
  w.key("reviews");
  w.begin_array();
  for (const auto& r : item.reviews) {
    w.begin_object();
    w.field("reviewer", r.reviewer);
    w.field("time", rfc3339_ms(r.time_ms));
    w.key("labels");
    w.begin_object();
    for (const auto& [schema, value] : r.labels) w.field_raw(schema, value);
    w.end_object();
    if (!r.comments.empty()) {
      w.key("comments");
      w.begin_object();
      for (const auto& [schema, text] : r.comments) w.field(schema, text);
      w.end_object();
    }
    w.end_object();
  }
  w.end_array();
  w.key("skips");
  w.begin_array();
  for (const auto& s : item.skips) {
    w.begin_object();
    w.field("reviewer", s.reviewer);
    w.field("time", rfc3339_ms(s.time_ms));
    w.end_object();
  }
  w.end_array();
  // The holder and expiry only: the token is the holder's secret.
  if (item.lease && status == ItemStatus::in_progress) {
    w.key("lease");
    w.begin_object();
    w.field("reviewer", item.lease->reviewer);
    w.field("expires_at", rfc3339_ms(item.lease->expires_at_ms));
    w.end_object();
  }
  w.end_object();
}

void write_strings(JsonWriter& w, std::string_view key, const std::vector<std::string>& v) {
  w.key(key);
  w.begin_array();
  for (const auto& s : v) w.string(s);
  w.end_array();
}

template <typename Fn>
void json_reply(http::Response& res, int code, Fn&& write) {
  std::string body;
  JsonWriter w(body);
  write(w);
  res.json(code, std::move(body));
}

}  // namespace

void write_session_json(JsonWriter& w, const SessionView& v) {
  const SessionRecord& r = v.record;
  w.begin_object();
  w.field("labeling_session_id", r.id);
  w.field("name", r.name);
  w.field("mlflow_run_id", r.mlflow_run_id);
  w.field("experiment_id", r.experiment_id);
  write_strings(w, "label_schemas", r.label_schemas);
  write_strings(w, "assigned_users", r.assigned_users);
  w.field_int("reviews_per_item", r.reviews_per_item);
  w.field("lease_duration", config::format_duration(r.lease_duration));
  w.field("url", v.url);
  w.field("create_time", rfc3339_ms(r.create_time_ms));
  w.field("source", r.from_config ? "config" : "api");
  w.key("progress");
  w.begin_object();
  w.field_int("total", static_cast<int64_t>(v.counts.total()));
  w.field_int("pending", static_cast<int64_t>(v.counts.pending));
  w.field_int("in_progress", static_cast<int64_t>(v.counts.in_progress));
  w.field_int("completed", static_cast<int64_t>(v.counts.completed));
  w.field_int("skipped", static_cast<int64_t>(v.counts.skipped));
  w.end_object();
  w.key("reviewers");
  w.begin_object();
  for (const auto& [name, p] : v.reviewers) {
    w.key(name);
    w.begin_object();
    w.field_int("completed", static_cast<int64_t>(p.reviewed));
    w.field_int("skipped", static_cast<int64_t>(p.skipped));
    w.field_int("in_progress", static_cast<int64_t>(p.in_progress));
    w.end_object();
  }
  w.end_object();
  w.key("agreement");
  w.begin_array();
  for (const auto& a : v.agreement) {
    w.begin_object();
    w.field("schema", a.schema);
    w.field("method", to_string(a.agreement.method));
    w.key("kappa");
    if (a.agreement.kappa) {
      w.number(*a.agreement.kappa);
    } else {
      w.null();
    }
    w.key("observed_agreement");
    w.number(a.agreement.observed_agreement);
    w.field_int("items", static_cast<int64_t>(a.agreement.items));
    w.field_int("reviewers", static_cast<int64_t>(a.agreement.reviewers));
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

void write_mlflow_run_json(JsonWriter& w, const SessionRun& run) {
  w.begin_object();
  w.key("run");
  w.begin_object();
  w.key("info");
  w.begin_object();
  w.field("run_id", run.run_id);
  w.field("run_uuid", run.run_id);
  w.field("run_name", run.name);
  w.field("experiment_id", run.experiment_id);
  // A labeling session is open for reviews for as long as it exists.
  w.field("status", "RUNNING");
  w.field_int("start_time", run.start_time_ms);
  w.field("lifecycle_stage", "active");
  w.field("artifact_uri", "");
  w.end_object();
  w.key("data");
  w.begin_object();
  w.key("tags");
  w.begin_array();
  for (const auto& [k, v] :
       {std::pair<std::string_view, std::string_view>{"mlflow.runName", run.name},
        {"tracefeed.labeling_session_id", run.session_id}}) {
    w.begin_object();
    w.field("key", k);
    w.field("value", v);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  w.end_object();
  w.end_object();
}

void register_labeling_routes(http::Server& server, LabelingService& service) {
  // ---- label schemas ----
  server.route("POST", "/api/v1/label-schemas",
               [&service](const http::Request& req, http::Response& res) {
                 auto body = body_of(req);
                 if (!body.is_ok()) return http::write_error(res, body.status());
                 auto schema = label_schema_from_json(*body);
                 if (!schema.is_ok()) return http::write_error(res, schema.status());
                 const JsonTree* ow = body->find("overwrite");
                 if (ow && !ow->is_bool())
                   return http::write_error(
                       res, Status::invalid_argument("overwrite: expected true or false"));
                 std::string json;
                 JsonWriter w(json);
                 write_label_schema_json(w, *schema, "api");
                 if (Status s = service.put_schema(std::move(schema).value(), ow && ow->as_bool());
                     !s.is_ok()) {
                   return http::write_error(res, s);
                 }
                 res.json(201, std::move(json));
               });
  server.route("GET", "/api/v1/label-schemas",
               [&service](const http::Request&, http::Response& res) {
                 json_reply(res, 200, [&](JsonWriter& w) {
                   w.begin_object();
                   w.key("label_schemas");
                   w.begin_array();
                   for (const auto& e : service.list_schemas())
                     write_label_schema_json(w, e.schema, e.from_config ? "config" : "api");
                   w.end_array();
                   w.end_object();
                 });
               });
  server.route("GET", R"(/api/v1/label-schemas/([^/]+))",
               [&service](const http::Request& req, http::Response& res) {
                 auto e = service.get_schema(req.path_params[0]);
                 if (!e)
                   return http::write_error(
                       res, Status::not_found("label schema " + req.path_params[0] + " not found"));
                 json_reply(res, 200, [&](JsonWriter& w) {
                   write_label_schema_json(w, e->schema, e->from_config ? "config" : "api");
                 });
               });
  server.route("DELETE", R"(/api/v1/label-schemas/([^/]+))",
               [&service](const http::Request& req, http::Response& res) {
                 if (Status s = service.delete_schema(req.path_params[0]); !s.is_ok())
                   return http::write_error(res, s);
                 res.json(200, "{}");
               });

  // ---- labeling sessions ----
  server.route("POST", "/api/v1/labeling-sessions",
               [&service](const http::Request& req, http::Response& res) {
                 auto body = body_of(req);
                 if (!body.is_ok()) return http::write_error(res, body.status());
                 auto spec = session_spec_from_json(*body);
                 if (!spec.is_ok()) return http::write_error(res, spec.status());
                 auto view = service.create_session(std::move(spec).value());
                 if (!view.is_ok()) return http::write_error(res, view.status());
                 json_reply(res, 201, [&](JsonWriter& w) { write_session_json(w, *view); });
               });
  server.route("GET", "/api/v1/labeling-sessions",
               [&service](const http::Request&, http::Response& res) {
                 const auto sessions = service.list_sessions();
                 const auto orphans = service.orphaned_items();
                 json_reply(res, 200, [&](JsonWriter& w) {
                   w.begin_object();
                   w.key("labeling_sessions");
                   w.begin_array();
                   for (const auto& v : sessions) write_session_json(w, v);
                   w.end_array();
                   // Routed items waiting for a session that does not exist (a rule naming a
                   // session that was never created, or was deleted): they go to a session created
                   // with that name.
                   w.key("orphaned_items");
                   w.begin_object();
                   for (const auto& [name, n] : orphans) w.field_int(name, static_cast<int64_t>(n));
                   w.end_object();
                   w.end_object();
                 });
               });
  server.route("GET", R"(/api/v1/labeling-sessions/([^/]+))",
               [&service](const http::Request& req, http::Response& res) {
                 auto view = service.get_session(req.path_params[0]);
                 if (!view.is_ok()) return http::write_error(res, view.status());
                 json_reply(res, 200, [&](JsonWriter& w) { write_session_json(w, *view); });
               });
  server.route("DELETE", R"(/api/v1/labeling-sessions/([^/]+))",
               [&service](const http::Request& req, http::Response& res) {
                 if (Status s = service.delete_session(req.path_params[0]); !s.is_ok())
                   return http::write_error(res, s);
                 res.json(200, "{}");
               });

  // ---- items ----
  server.route(
      "POST", R"(/api/v1/labeling-sessions/([^/]+)/items)",
      [&service](const http::Request& req, http::Response& res) {
        auto body = body_of(req);
        if (!body.is_ok()) return http::write_error(res, body.status());
        if (Status s = check_keys(*body, {"trace_ids", "filter"}); !s.is_ok())
          return http::write_error(res, s);
        const JsonTree* ids = body->find("trace_ids");
        const JsonTree* filter = body->find("filter");
        if ((ids != nullptr) == (filter != nullptr)) {
          return http::write_error(
              res, Status::invalid_argument("expected exactly one of trace_ids or filter"));
        }
        Result<AddResult> added = AddResult{};
        if (ids) {
          auto list = string_list(*body, "trace_ids");
          if (!list.is_ok()) return http::write_error(res, list.status());
          added = service.add_items(req.path_params[0], *list);
        } else {
          if (!filter->is_string() || filter->as_string().empty()) {
            return http::write_error(
                res, Status::invalid_argument("filter: expected a non-empty search filter string"));
          }
          added = service.add_items_matching(req.path_params[0], filter->as_string());
        }
        if (!added.is_ok()) return http::write_error(res, added.status());
        json_reply(res, 200, [&](JsonWriter& w) {
          w.begin_object();
          w.field_int("added", static_cast<int64_t>(added->added));
          w.field_int("already_present", static_cast<int64_t>(added->already_present));
          w.end_object();
        });
      });
  server.route(
      "GET", R"(/api/v1/labeling-sessions/([^/]+)/items)",
      [&service](const http::Request& req, http::Response& res) {
        std::optional<ItemStatus> status;
        if (req.has_query_param("status") && !req.query_param("status").empty()) {
          status = parse_item_status(req.query_param("status"));
          if (!status) {
            return http::write_error(
                res, Status::invalid_argument(
                         "status: expected pending, in_progress, completed or skipped"));
          }
        }
        auto number = [&](std::string_view name, uint64_t fallback, uint64_t lo,
                          uint64_t hi) -> Result<uint64_t> {
          if (!req.has_query_param(name)) return fallback;
          const std::string_view text = req.query_param(name);
          uint64_t v = 0;
          auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
          if (ec != std::errc() || ptr != text.data() + text.size() || v < lo || v > hi) {
            return Status::invalid_argument(std::string(name) + ": expected an integer from " +
                                            std::to_string(lo) + " to " + std::to_string(hi));
          }
          return v;
        };
        auto max = number("max_results", kDefaultPageSize, 1, kMaxPageSize);
        if (!max.is_ok()) return http::write_error(res, max.status());
        // page_token is the arrival number of the first item of the page (opaque to clients).
        auto from = number("page_token", 0, 0, UINT64_MAX);
        if (!from.is_ok())
          return http::write_error(
              res, Status::invalid_argument("page_token: not a token this API issued"));
        auto page = service.list_items(req.path_params[0], status, *from, *max);
        if (!page.is_ok()) return http::write_error(res, page.status());
        json_reply(res, 200, [&](JsonWriter& w) {
          w.begin_object();
          w.key("items");
          w.begin_array();
          for (const auto& [item, st] : page->items) write_item_json(w, item, st);
          w.end_array();
          if (page->next_seq) w.field("next_page_token", std::to_string(page->next_seq));
          w.end_object();
        });
      });

  // ---- review ----
  server.route("POST", R"(/api/v1/labeling-sessions/([^/]+)/claim)",
               [&service](const http::Request& req, http::Response& res) {
                 auto body = body_of(req);
                 if (!body.is_ok()) return http::write_error(res, body.status());
                 if (Status s = check_keys(*body, {"reviewer"}); !s.is_ok())
                   return http::write_error(res, s);
                 auto reviewer = reviewer_of(req, *body);
                 if (!reviewer.is_ok()) return http::write_error(res, reviewer.status());
                 auto claimed = service.claim(req.path_params[0], *reviewer);
                 if (!claimed.is_ok()) return http::write_error(res, claimed.status());
                 if (!*claimed) {
                   res.status = 204;
                   res.body.clear();
                   return;
                 }
                 const ClaimResult& c = **claimed;
                 json_reply(res, 200, [&](JsonWriter& w) {
                   w.begin_object();
                   w.field("trace_id", c.trace_id);
                   w.key("lease");
                   w.begin_object();
                   w.field("token", c.lease.token);
                   w.field("expires_at", rfc3339_ms(c.lease.expires_at_ms));
                   w.end_object();
                   w.end_object();
                 });
               });
  server.route(
      "POST", R"(/api/v1/labeling-sessions/([^/]+)/items/([^/]+)/submit)",
      [&service](const http::Request& req, http::Response& res) {
        auto body = body_of(req);
        if (!body.is_ok()) return http::write_error(res, body.status());
        if (Status s = check_keys(*body, {"reviewer", "lease_token", "labels", "comments"});
            !s.is_ok()) {
          return http::write_error(res, s);
        }
        auto reviewer = reviewer_of(req, *body);
        if (!reviewer.is_ok()) return http::write_error(res, reviewer.status());
        auto token = required_string(*body, "lease_token");
        if (!token.is_ok()) return http::write_error(res, token.status());
        const JsonTree* labels = body->find("labels");
        if (!labels) return http::write_error(res, Status::invalid_argument("labels: required"));
        auto done = service.submit(req.path_params[0], req.path_params[1], *reviewer, *token,
                                   *labels, body->find("comments"));
        if (!done.is_ok()) return http::write_error(res, done.status());
        json_reply(res, 200, [&](JsonWriter& w) {
          w.begin_object();
          w.field("trace_id", done->trace_id);
          w.field("status", to_string(done->status));
          w.key("assessments");
          w.begin_array();
          for (const auto& [schema, id] : done->assessment_ids) {
            w.begin_object();
            w.field("assessment_name", schema);
            w.field("assessment_id", id);
            w.end_object();
          }
          w.end_array();
          w.end_object();
        });
      });
  server.route("POST", R"(/api/v1/labeling-sessions/([^/]+)/items/([^/]+)/skip)",
               [&service](const http::Request& req, http::Response& res) {
                 auto body = body_of(req);
                 if (!body.is_ok()) return http::write_error(res, body.status());
                 if (Status s = check_keys(*body, {"reviewer", "lease_token"}); !s.is_ok())
                   return http::write_error(res, s);
                 auto reviewer = reviewer_of(req, *body);
                 if (!reviewer.is_ok()) return http::write_error(res, reviewer.status());
                 auto token = required_string(*body, "lease_token");
                 if (!token.is_ok()) return http::write_error(res, token.status());
                 auto done =
                     service.skip(req.path_params[0], req.path_params[1], *reviewer, *token);
                 if (!done.is_ok()) return http::write_error(res, done.status());
                 json_reply(res, 200, [&](JsonWriter& w) {
                   w.begin_object();
                   w.field("trace_id", done->trace_id);
                   w.field("status", to_string(done->status));
                   w.end_object();
                 });
               });
}

}  // namespace tracefeed::labeling
