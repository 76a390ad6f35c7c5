#include "sinks/labeling/labeling_records.h"

#include <cmath>

#include "core/hash.h"
#include "core/ids.h"
#include "core/json_writer.h"
#include "core/time_format.h"

namespace tracefeed::labeling {
namespace {

using namespace std::string_view_literals;

std::string key3(std::string_view kind, std::string_view a, std::string_view b) {
  std::string k;
  k.reserve(kind.size() + a.size() + b.size() + 2);
  k.append(kind).push_back('\0');
  k.append(a).push_back('\0');
  k.append(b);
  return k;
}

std::string key2(std::string_view kind, std::string_view a) {
  std::string k;
  k.reserve(kind.size() + a.size() + 1);
  k.append(kind).push_back('\0');
  k.append(a);
  return k;
}

// Field readers over a stored record; a stored record that does not read back is corruption.
struct Reader {
  const JsonTree& obj;
  std::string_view what;
  Status error;

  const JsonTree* get(std::string_view key) const { return obj.find(key); }

  std::string str(std::string_view key) {
    const JsonTree* v = get(key);
    if (v && v->is_string()) return v->as_string();
    if (v) fail(key);
    return {};
  }
  int64_t num(std::string_view key) {
    const JsonTree* v = get(key);
    if (v && v->is_number()) return static_cast<int64_t>(v->as_number());
    if (v) fail(key);
    return 0;
  }
  std::vector<std::string> strings(std::string_view key) {
    std::vector<std::string> out;
    const JsonTree* v = get(key);
    if (!v) return out;
    if (!v->is_array()) {
      fail(key);
      return out;
    }
    for (const auto& s : v->as_array()) {
      if (s.is_string()) {
        out.push_back(s.as_string());
      } else {
        fail(key);
      }
    }
    return out;
  }
  void fail(std::string_view key) {
    if (error.is_ok())
      error = Status::corruption("stored " + std::string(what) + ": field " + std::string(key) +
                                 " has the wrong type");
  }
};

void write_strings(JsonWriter& w, std::string_view key, const std::vector<std::string>& v) {
  w.key(key);
  w.begin_array();
  for (const auto& s : v) w.string(s);
  w.end_array();
}

}  // namespace

std::string_view schema_prefix() noexcept {
  return "schema\0"sv;
}
std::string_view session_prefix() noexcept {
  return "session\0"sv;
}
std::string_view all_items_prefix() noexcept {
  return "item\0"sv;
}
std::string_view all_orphans_prefix() noexcept {
  return "orphan\0"sv;
}
std::string schema_key(std::string_view name) {
  return key2("schema", name);
}
std::string session_key(std::string_view session_id) {
  return key2("session", session_id);
}
std::string item_key(std::string_view session_id, std::string_view trace_id) {
  return key3("item", session_id, trace_id);
}
std::string item_prefix(std::string_view session_id) {
  return key3("item", session_id, "");
}
std::string orphan_key(std::string_view session_name, std::string_view trace_id) {
  return key3("orphan", session_name, trace_id);
}
std::string orphan_prefix(std::string_view session_name) {
  return key3("orphan", session_name, "");
}

std::string derived_hex32(std::string_view seed) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(32);
  for (uint64_t salt : {0x1abe1ULL, 0x5e55104ULL}) {
    uint64_t h = xxh64(seed, salt);
    for (int i = 0; i < 16; ++i, h >>= 4) out.push_back(kHex[h & 0xf]);
  }
  return out;
}

Result<RoutedItem> parse_routed_item(std::string_view json) {
  TF_ASSIGN_OR_RETURN(JsonTree v, parse_json(json));
  if (!v.is_object()) return Status::invalid_argument("review record: expected a JSON object");
  const JsonTree* type = v.find("type");
  if (!type || !type->is_string() || type->as_string() != "review_item") {
    return Status::invalid_argument("type: expected \"review_item\"");
  }
  RoutedItem out;
  const JsonTree* session = v.find("labeling_session");
  if (!session || !session->is_string() || session->as_string().empty()) {
    return Status::invalid_argument("labeling_session: expected a session name");
  }
  out.session = session->as_string();
  const JsonTree* trace = v.find("trace_id");
  if (!trace || !trace->is_string() || !is_trace_id(trace->as_string())) {
    return Status::invalid_argument("trace_id: expected \"tr-\" + 32 lowercase hex");
  }
  out.trace_id = trace->as_string();
  if (const JsonTree* rule = v.find("rule")) {
    if (!rule->is_string()) return Status::invalid_argument("rule: expected a string");
    out.rule = rule->as_string();
  }
  if (const JsonTree* p = v.find("priority")) {
    if (!p->is_number() || std::floor(p->as_number()) != p->as_number() ||
        std::fabs(p->as_number()) > 1e9) {
      return Status::invalid_argument("priority: expected an integer");
    }
    out.priority = static_cast<int32_t>(p->as_number());
  }
  if (const JsonTree* t = v.find("time")) {
    auto ns = t->is_string() ? parse_rfc3339_ns(t->as_string()) : std::nullopt;
    if (!ns) return Status::invalid_argument("time: expected an RFC 3339 timestamp");
    out.time_ns = *ns;
  }
  return out;
}

std::string routed_item_json(const RoutedItem& item) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.field("type", "review_item");
  w.field("labeling_session", item.session);
  w.field("trace_id", item.trace_id);
  w.field("rule", item.rule);
  w.field_int("priority", item.priority);
  if (item.time_ns != 0) w.field("time", format_rfc3339(item.time_ns));
  w.end_object();
  return out;
}

void encode_session(const SessionRecord& s, std::string& out) {
  out.clear();
  JsonWriter w(out);
  w.begin_object();
  w.field("labeling_session_id", s.id);
  w.field("name", s.name);
  w.field("mlflow_run_id", s.mlflow_run_id);
  w.field("experiment_id", s.experiment_id);
  write_strings(w, "label_schemas", s.label_schemas);
  write_strings(w, "assigned_users", s.assigned_users);
  w.field_int("reviews_per_item", s.reviews_per_item);
  w.field_int("lease_duration_ms", s.lease_duration.count());
  w.field_int("create_time_ms", s.create_time_ms);
  w.field("from_config", s.from_config);
  w.end_object();
}

Result<SessionRecord> decode_session(std::string_view json) {
  auto parsed = parse_json(json);
  if (!parsed.is_ok())
    return Status::corruption("stored labeling session: " + parsed.status().message());
  Reader r{*parsed, "labeling session", {}};
  SessionRecord s;
  s.id = r.str("labeling_session_id");
  s.name = r.str("name");
  s.mlflow_run_id = r.str("mlflow_run_id");
  s.experiment_id = r.str("experiment_id");
  s.label_schemas = r.strings("label_schemas");
  s.assigned_users = r.strings("assigned_users");
  s.reviews_per_item = static_cast<int32_t>(r.num("reviews_per_item"));
  s.lease_duration = std::chrono::milliseconds(r.num("lease_duration_ms"));
  s.create_time_ms = r.num("create_time_ms");
  const JsonTree* fc = r.get("from_config");
  s.from_config = fc && fc->is_bool() && fc->as_bool();
  TF_RETURN_IF_ERROR(r.error);
  if (s.id.empty() || s.name.empty() || s.reviews_per_item < 1) {
    return Status::corruption("stored labeling session " + s.id +
                              ": missing id, name or reviews_per_item");
  }
  return s;
}

void encode_item(const Item& item, std::string& out) {
  out.clear();
  JsonWriter w(out);
  w.begin_object();
  w.field("trace_id", item.trace_id);
  w.key("seq");
  w.uint64(item.seq);
  w.field_int("priority", item.priority);
  w.field("rule", item.rule);
  w.field("source", to_string(item.source));
  w.field_int("added_ms", item.added_ms);
  w.key("lease_count");
  w.uint64(item.lease_count);
  if (item.lease) {
    w.key("lease");
    w.begin_object();
    w.field("reviewer", item.lease->reviewer);
    w.field("token", item.lease->token);
    w.field_int("expires_at_ms", item.lease->expires_at_ms);
    w.end_object();
  }
  w.key("reviews");
  w.begin_array();
  for (const auto& r : item.reviews) {
    w.begin_object();
    w.field("reviewer", r.reviewer);
    w.field("token", r.token);
    w.field_int("time_ms", r.time_ms);
    w.key("labels");
    w.begin_object();
    for (const auto& [schema, value] : r.labels) w.field_raw(schema, value);
    w.end_object();
    w.key("comments");
    w.begin_object();
    for (const auto& [schema, text] : r.comments) w.field(schema, text);
    w.end_object();
    w.end_object();
  }
  w.end_array();
  w.key("skips");
  w.begin_array();
  for (const auto& s : item.skips) {
    w.begin_object();
    w.field("reviewer", s.reviewer);
    w.field("token", s.token);
    w.field_int("time_ms", s.time_ms);
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

Result<Item> decode_item(std::string_view json) {
  auto parsed = parse_json(json);
  if (!parsed.is_ok())
    return Status::corruption("stored labeling item: " + parsed.status().message());
  Reader r{*parsed, "labeling item", {}};
  Item item;
  item.trace_id = r.str("trace_id");
  item.seq = static_cast<uint64_t>(r.num("seq"));
  item.priority = static_cast<int32_t>(r.num("priority"));
  item.rule = r.str("rule");
  item.source = r.str("source") == "routed" ? ItemSource::routed : ItemSource::api;
  item.added_ms = r.num("added_ms");
  item.lease_count = static_cast<uint64_t>(r.num("lease_count"));
  if (const JsonTree* lease = r.get("lease"); lease && lease->is_object()) {
    Reader lr{*lease, "labeling item lease", {}};
    item.lease = Lease{lr.str("reviewer"), lr.str("token"), lr.num("expires_at_ms")};
    TF_RETURN_IF_ERROR(lr.error);
  }
  if (const JsonTree* reviews = r.get("reviews"); reviews && reviews->is_array()) {
    for (const auto& rv : reviews->as_array()) {
      Reader rr{rv, "labeling review", {}};
      Review review{rr.str("reviewer"), rr.str("token"), rr.num("time_ms"), {}, {}};
      if (const JsonTree* labels = rr.get("labels"); labels && labels->is_object()) {
        for (const auto& [schema, value] : labels->as_object())
          review.labels.emplace_back(schema, value.to_json());
      }
      if (const JsonTree* comments = rr.get("comments"); comments && comments->is_object()) {
        for (const auto& [schema, text] : comments->as_object()) {
          if (text.is_string()) review.comments.emplace_back(schema, text.as_string());
        }
      }
      TF_RETURN_IF_ERROR(rr.error);
      item.reviews.push_back(std::move(review));
    }
  }
  if (const JsonTree* skips = r.get("skips"); skips && skips->is_array()) {
    for (const auto& sv : skips->as_array()) {
      Reader sr{sv, "labeling skip", {}};
      item.skips.push_back(Skip{sr.str("reviewer"), sr.str("token"), sr.num("time_ms")});
      TF_RETURN_IF_ERROR(sr.error);
    }
  }
  TF_RETURN_IF_ERROR(r.error);
  if (!is_trace_id(item.trace_id) || item.seq == 0) {
    return Status::corruption("stored labeling item: missing trace_id or seq");
  }
  return item;
}

}  // namespace tracefeed::labeling
