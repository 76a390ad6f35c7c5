#include "processors/route/rules_api.h"

#include "core/ids.h"
#include "http/server.h"
#include "state/store.h"
#include "state/write_batch.h"

namespace tracefeed::route {
namespace {

std::string rule_json(const Rule& r) {
  std::string out;
  JsonWriter w(out);
  write_rule_json(w, r);
  return out;
}

}  // namespace

RulesRegistry::RulesRegistry(state::Store& store, RuleSet& rules, std::vector<Rule> config_rules)
    : _store(store), _rules(rules), _config_rules(std::move(config_rules)) {}

Status RulesRegistry::load() {
  std::lock_guard lock(_mu);
  _api_rules.clear();
  Status inner;
  TF_RETURN_IF_ERROR(_store.scan_prefix(state::Family::rules, "", [&](std::string_view name, std::string_view value) {
    auto json = parse_json(value);
    auto rule = json.is_ok() ? rule_from_json(*json) : Result<Rule>(json.status());
    if (!rule.is_ok()) {
      inner = Status::corruption("stored rule " + std::string(name) + ": " + rule.status().message());
      return false;
    }
    _api_rules.push_back(std::move(rule).value());
    return true;
  }));
  TF_RETURN_IF_ERROR(inner);
  publish_locked();
  // Each backfill rule is evaluated over the stored traces once per version: the join's thread
  // skips those whose stored progress says this version is done.
  for (const auto* rules : {&_config_rules, &_api_rules}) {
    for (const auto& r : *rules) {
      if (r.backfill) _rules.request_backfill(r.name);
    }
  }
  return Status::ok();
}

void RulesRegistry::publish_locked() {
  std::vector<Rule> all = _config_rules;
  all.insert(all.end(), _api_rules.begin(), _api_rules.end());
  _rules.replace(std::move(all));
}

Status RulesRegistry::add(Rule rule, bool overwrite) {
  std::lock_guard lock(_mu);
  for (const auto& r : _config_rules) {
    if (r.name == rule.name) {
      return Status::already_exists("rule " + rule.name + " is defined in the config file; change it there");
    }
  }
  auto it = std::find_if(_api_rules.begin(), _api_rules.end(), [&](const Rule& r) { return r.name == rule.name; });
  if (it != _api_rules.end() && !overwrite) {
    return Status::already_exists("rule " + rule.name + " exists; send \"overwrite\": true to replace it");
  }
  state::WriteBatch batch(_store);
  batch.put(state::Family::rules, rule.name, rule_json(rule));
  TF_RETURN_IF_ERROR(_store.write(batch, {.sync = true}));
  const bool backfill = rule.backfill;
  const std::string name = rule.name;
  if (it != _api_rules.end()) {
    *it = std::move(rule);
  } else {
    _api_rules.push_back(std::move(rule));
  }
  publish_locked();
  if (backfill) _rules.request_backfill(name);
  return Status::ok();
}

Status RulesRegistry::remove(const std::string& name) {
  std::lock_guard lock(_mu);
  for (const auto& r : _config_rules) {
    if (r.name == name) return Status::conflict("rule " + name + " is defined in the config file; remove it there");
  }
  auto it = std::find_if(_api_rules.begin(), _api_rules.end(), [&](const Rule& r) { return r.name == name; });
  if (it == _api_rules.end()) return Status::not_found("rule " + name + " not found");
  state::WriteBatch batch(_store);
  batch.erase(state::Family::rules, name);
  TF_RETURN_IF_ERROR(_store.write(batch, {.sync = true}));
  _api_rules.erase(it);
  publish_locked();
  return Status::ok();
}

void RulesRegistry::register_routes(http::Server& server) {
  server.route("POST", "/api/v1/rules", [this](const http::Request& req, http::Response& res) {
    auto json = parse_json(req.body);
    if (!json.is_ok()) return http::write_error(res, json.status());
    auto rule = rule_from_json(*json);
    if (!rule.is_ok()) return http::write_error(res, rule.status());
    const JsonTree* ow = json->find("overwrite");
    const std::string body = rule_json(*rule);
    if (Status s = add(std::move(rule).value(), ow && ow->is_bool() && ow->as_bool()); !s.is_ok()) {
      return http::write_error(res, s);
    }
    res.json(201, body);
  });
  server.route("GET", "/api/v1/rules", [this](const http::Request&, http::Response& res) {
    auto rules = _rules.snapshot();
    std::string body;
    JsonWriter w(body);
    w.begin_object();
    w.key("rules");
    w.begin_array();
    for (const auto& r : *rules) write_rule_json(w, r);
    w.end_array();
    w.end_object();
    res.json(200, std::move(body));
  });
  server.route("GET", R"(/api/v1/rules/([^/]+))", [this](const http::Request& req, http::Response& res) {
    auto rules = _rules.snapshot();
    for (const auto& r : *rules) {
      if (r.name != req.path_params[0]) continue;
      auto progress = read_backfill_progress(_store, r.name);
      if (!progress.is_ok()) return http::write_error(res, progress.status());
      std::string body = rule_json(r);
      if (r.backfill && progress->has_value()) {
        // {"name":...,"backfill_progress":{...}}: the stored progress, for this rule version or an older one.
        const BackfillProgress& p = **progress;
        std::string extra;
        JsonWriter w(extra);
        w.begin_object();
        w.field("current_version", p.version == rule_version(r));
        w.field("done", p.done);
        w.key("evaluated");
        w.uint64(p.evaluated);
        w.key("routed");
        w.uint64(p.routed);
        w.end_object();
        body.pop_back();
        body += R"(,"backfill_progress":)";
        body += extra;
        body += '}';
      }
      return res.json(200, std::move(body));
    }
    http::write_error(res, Status::not_found("rule " + req.path_params[0] + " not found"));
  });
  server.route("DELETE", R"(/api/v1/rules/([^/]+))", [this](const http::Request& req, http::Response& res) {
    if (Status s = remove(req.path_params[0]); !s.is_ok()) return http::write_error(res, s);
    res.json(200, "{}");
  });
  server.route("GET", R"(/api/v1/traces/([^/]+)/decisions)", [this](const http::Request& req, http::Response& res) {
    const std::string& id = req.path_params[0];
    if (!is_trace_id(id)) {
      return http::write_error(res, Status::invalid_argument("trace_id: expected \"tr-\" + 32 lowercase hex, got \"" + id + "\""));
    }
    auto decisions = read_decisions(_store, id);
    if (!decisions.is_ok()) return http::write_error(res, decisions.status());
    std::string body;
    JsonWriter w(body);
    w.begin_object();
    w.key("decisions");
    w.begin_array();
    for (const auto& d : *decisions) d.write(w);
    w.end_array();
    w.end_object();
    res.json(200, std::move(body));
  });
}

}  // namespace tracefeed::route
