#include "sinks/eval/dataset_record.h"

#include <algorithm>
#include <map>

#include "core/event_json.h"
#include "core/hash.h"
#include "core/time_format.h"

namespace tracefeed::eval {
namespace {

constexpr std::string_view kLabelingSessionKey = "tracefeed.labeling_session_id";

// "<prefix>" + 32 hex from two XXH64 seeds (the scheme core uses for derived assessment ids).
std::string derived_id(std::string_view prefix, std::string_view a, std::string_view b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(prefix);
  for (uint64_t seed : {0xda7aULL, 0x5e75ULL}) {
    Xxh64 h(seed);
    h.update(a);
    h.update(std::string_view("\0", 1));
    h.update(b);
    uint64_t v = h.digest();
    for (int i = 0; i < 16; ++i, v >>= 4) out.push_back(kHex[v & 0xf]);
  }
  return out;
}

// True when `a` is the more recent of two expectations with the same name.
bool newer(const Assessment& a, const Assessment& b) {
  if (a.last_update_time != b.last_update_time) return a.last_update_time > b.last_update_time;
  if (a.create_time != b.create_time) return a.create_time > b.create_time;
  return a.assessment_id > b.assessment_id;
}

void hash_field(Xxh64& h, std::string_view s) {
  const uint64_t n = s.size();
  char len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  h.update(std::string_view(len, 8));
  h.update(s);
}

}  // namespace

std::string_view to_string(RecordOrigin::Via via) noexcept {
  return via == RecordOrigin::Via::eval_topic ? "eval_topic" : "api";
}

RecordContent build_record_content(const Trace& joined) {
  RecordContent c;
  c.trace_id = joined.trace_info.trace_id;
  if (const Span* root = joined.root_span()) {
    if (!root->inputs.empty()) {
      if (root->inputs.front() == '{') {
        c.inputs = root->inputs;
      } else {
        c.inputs = R"({"request":)";
        c.inputs += root->inputs;
        c.inputs += '}';
      }
    }
    c.outputs = root->outputs;
  }
  // Ordered by name: the record is the same whatever order the assessments were stored in.
  std::map<std::string_view, const Assessment*> latest;
  for (const Assessment& a : joined.trace_info.assessments) {
    if (!a.valid || !a.is_expectation()) continue;
    auto [it, inserted] = latest.emplace(a.assessment_name, &a);
    if (!inserted && newer(a, *it->second)) it->second = &a;
  }
  for (const auto& [name, a] : latest) {
    c.expectations.emplace_back(std::string(name), std::get<Expectation>(a->value).value);
    c.assessment_ids.push_back(a->assessment_id);
    for (const auto& [k, v] : a->metadata) {
      if (k == kLabelingSessionKey && !v.empty()) c.labeling_session_ids.push_back(v);
    }
  }
  std::sort(c.labeling_session_ids.begin(), c.labeling_session_ids.end());
  c.labeling_session_ids.erase(std::unique(c.labeling_session_ids.begin(), c.labeling_session_ids.end()),
                               c.labeling_session_ids.end());
  return c;
}

uint64_t content_hash(const RecordContent& c) {
  Xxh64 h(0xc0de);
  hash_field(h, c.trace_id);
  hash_field(h, c.inputs);
  hash_field(h, c.outputs);
  hash_field(h, std::to_string(c.expectations.size()));
  for (const auto& [name, value] : c.expectations) {
    hash_field(h, name);
    hash_field(h, value);
  }
  for (const auto& id : c.assessment_ids) hash_field(h, id);
  hash_field(h, std::to_string(c.labeling_session_ids.size()));
  for (const auto& id : c.labeling_session_ids) hash_field(h, id);
  return h.digest();
}

void write_record_json(JsonWriter& w, const RecordContent& c, const RecordEnvelope& e) {
  w.begin_object();
  w.field("dataset_record_id", record_id_for(e.dataset_name, c.trace_id));
  w.field("dataset_id", dataset_id_for(e.dataset_name));
  w.field("dataset_name", e.dataset_name);
  w.field_int("version", e.version);
  w.field_raw("inputs", c.inputs);    // empty → null
  w.field_raw("outputs", c.outputs);  // empty → null
  w.key("expectations");
  w.begin_object();
  for (const auto& [name, value] : c.expectations) w.field_raw(name, value);
  w.end_object();
  w.key("source");
  w.begin_object();
  w.field("source_type", "TRACE");
  w.key("source_data");
  w.begin_object();
  w.field("trace_id", c.trace_id);
  w.end_object();
  w.end_object();
  w.field("create_time", format_rfc3339(e.create_time));
  w.field("last_update_time", format_rfc3339(e.last_update_time));
  w.key("lineage");
  w.begin_object();
  w.field("via", to_string(e.origin.via));
  if (e.origin.via == RecordOrigin::Via::eval_topic) {
    w.field("topic", e.origin.topic);
    w.field_int("partition", e.origin.partition);
    w.field_int("offset", e.origin.offset);
    w.field("rule", e.origin.rule);
  }
  w.key("assessment_ids");
  w.begin_array();
  for (const auto& id : c.assessment_ids) w.string(id);
  w.end_array();
  w.key("labeling_session_ids");
  w.begin_array();
  for (const auto& id : c.labeling_session_ids) w.string(id);
  w.end_array();
  w.end_object();
  w.end_object();
}

std::string dataset_id_for(std::string_view dataset_name) { return derived_id("d-", "dataset", dataset_name); }

std::string record_id_for(std::string_view dataset_name, std::string_view trace_id) {
  return derived_id("dr-", dataset_name, trace_id);
}

Status validate_dataset_name(std::string_view name, std::string_view field) {
  auto bad = [&](std::string_view problem) {
    std::string m(field);
    m += ": ";
    m += problem;
    return Status::invalid_argument(std::move(m));
  };
  if (name.empty()) return bad("required, 1 to 256 bytes");
  if (name.size() > kMaxDatasetNameBytes) return bad("at most 256 bytes, got " + std::to_string(name.size()));
  if (name == "." || name == "..") return bad("\".\" and \"..\" are not dataset names");
  for (char ch : name) {
    const auto u = static_cast<unsigned char>(ch);
    if (u < 0x20 || u == 0x7f) return bad("control characters are not allowed");
    if (ch == '/') return bad("'/' is not allowed (the name is a URL path segment)");
  }
  if (!is_valid_utf8(name)) return bad("not valid UTF-8");
  return Status::ok();
}

}  // namespace tracefeed::eval
