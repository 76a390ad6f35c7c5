#include "processors/evaluate/record.h"

#include <algorithm>

#include "core/json_tree.h"

namespace tracefeed::evaluate {
namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// A canonical JSON string without escapes is its own text between the quotes: no parse needed
// (the common case for outputs and expected_response, and the hot path of the token scorers).
bool plain_json_string(const JsonText& json, std::string_view& out) {
  if (json.size() < 2 || json.front() != '"' || json.back() != '"') return false;
  std::string_view inner(json.data() + 1, json.size() - 2);
  if (inner.find('\\') != std::string_view::npos || inner.find('"') != std::string_view::npos) return false;
  out = inner;
  return true;
}

std::string tree_text(const JsonTree& v);

// Text of a document-like object: {page_content}, {content}, {text}; nullptr when it is not one.
const JsonTree* document_text(const JsonTree& v) {
  for (const char* key : {"page_content", "content", "text"}) {
    if (const JsonTree* t = v.find(key); t && t->is_string()) return t;
  }
  return nullptr;
}

std::string tree_text(const JsonTree& v) {
  if (v.is_string()) return v.as_string();
  if (v.is_object()) {
    const auto& obj = v.as_object();
    if (obj.size() == 1 && obj.front().second.is_string()) return obj.front().second.as_string();
    if (const JsonTree* choices = v.find("choices"); choices && choices->is_array() && !choices->as_array().empty()) {
      if (const JsonTree* msg = choices->as_array().front().find("message")) {
        if (const JsonTree* content = msg->find("content"); content && content->is_string()) return content->as_string();
      }
    }
    if (const JsonTree* messages = v.find("messages"); messages && messages->is_array() && !messages->as_array().empty()) {
      if (const JsonTree* content = messages->as_array().back().find("content"); content && content->is_string()) {
        return content->as_string();
      }
    }
    if (const JsonTree* t = document_text(v)) return t->as_string();
    return v.to_json();
  }
  if (v.is_array()) {
    const auto& arr = v.as_array();
    const bool textual = std::all_of(arr.begin(), arr.end(), [](const JsonTree& e) {
      return e.is_string() || (e.is_object() && document_text(e) != nullptr);
    });
    if (!textual || arr.empty()) return v.to_json();
    std::string out;
    for (const auto& e : arr) {
      if (!out.empty()) out.push_back('\n');
      out += e.is_string() ? e.as_string() : document_text(e)->as_string();
    }
    return out;
  }
  return v.to_json();
}

}  // namespace

const JsonText* EvalRecord::expectation(std::string_view name) const noexcept {
  for (const auto& [n, v] : expectations) {
    if (n == name) return &v;
  }
  return nullptr;
}

EvalRecord record_from_trace(std::shared_ptr<const Trace> trace) {
  EvalRecord r;
  r.record_id = trace->trace_info.trace_id;
  r.trace_id = trace->trace_info.trace_id;

  // Latest valid expectation per name; ties keep the later one in storage order.
  std::vector<std::pair<std::string, const Assessment*>> latest;
  for (const auto& a : trace->trace_info.assessments) {
    if (!a.valid || !a.is_expectation()) continue;
    auto it = std::find_if(latest.begin(), latest.end(), [&](const auto& p) { return p.first == a.assessment_name; });
    if (it == latest.end()) {
      latest.emplace_back(a.assessment_name, &a);
    } else if (a.last_update_time >= it->second->last_update_time) {
      it->second = &a;
    }
  }
  for (const auto& [name, a] : latest) r.expectations.emplace_back(name, std::get<Expectation>(a->value).value);

  for (const auto& s : trace->spans) {
    if (iequals(s.span_type, "RETRIEVER")) r.retrievals.push_back({s.span_id, s.outputs});
  }
  const Span* root = trace->root_span();
  if (trace->trace_info.execution_duration_ns > 0) {
    r.latency_ms = static_cast<double>(trace->trace_info.execution_duration_ns) / 1e6;
  } else if (root && root->end_time_unix_nano > root->start_time_unix_nano) {
    r.latency_ms = static_cast<double>(root->end_time_unix_nano - root->start_time_unix_nano) / 1e6;
  }
  if (!root) {
    r.error_code = "NO_ROOT_SPAN";
    r.error_message = "trace " + r.trace_id + " has no root span (yet): its inputs and outputs are unknown";
  } else {
    r.inputs = root->inputs;
    r.outputs = root->outputs;
  }
  r.trace = std::move(trace);
  return r;
}

Result<EvalRecord> record_from_dataset_line(std::string_view json_line) {
  auto tree = parse_json(json_line);
  if (!tree.is_ok()) return tree.status().with_context("dataset record");
  if (!tree->is_object()) return Status::invalid_argument("dataset record: expected a JSON object");
  EvalRecord r;
  if (const JsonTree* id = tree->find("dataset_record_id"); id && id->is_string()) r.record_id = id->as_string();
  if (const JsonTree* source = tree->find("source")) {
    if (const JsonTree* t = source->find("source_data") ? source->find("source_data")->find("trace_id") : nullptr; t && t->is_string()) {
      r.trace_id = t->as_string();
    }
  }
  if (r.record_id.empty()) r.record_id = r.trace_id;
  if (const JsonTree* in = tree->find("inputs")) r.inputs = in->to_json();
  if (const JsonTree* out = tree->find("outputs")) r.outputs = out->to_json();  // null → absent
  if (const JsonTree* ex = tree->find("expectations")) {
    if (!ex->is_object()) return Status::invalid_argument("dataset record: expectations: expected an object");
    for (const auto& [name, value] : ex->as_object()) {
      if (!value.is_null()) r.expectations.emplace_back(name, value.to_json());
    }
  }
  // No outputs is not a record error: predict_url may produce them, and otherwise each scorer
  // says MISSING_OUTPUTS.
  return r;
}

std::string text_of(const JsonText& json) {
  if (json.empty()) return {};
  std::string_view plain;
  if (plain_json_string(json, plain)) return std::string(plain);
  auto tree = parse_json(json);
  if (!tree.is_ok()) return json;  // not JSON after all: show it as it is
  return tree_text(*tree);
}

std::string_view text_view(const JsonText& json, std::string& storage) {
  std::string_view plain;
  if (plain_json_string(json, plain)) return plain;
  storage = text_of(json);
  return storage;
}

std::vector<std::string> strings_of(const JsonText& json) {
  if (json.empty()) return {};
  auto tree = parse_json(json);
  if (!tree.is_ok()) return {json};
  if (tree->is_array()) {
    std::vector<std::string> out;
    for (const auto& e : tree->as_array()) out.push_back(tree_text(e));
    return out;
  }
  return {tree_text(*tree)};
}

std::string clip_utf8(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  std::string out(text.substr(0, cut));
  out += "…[truncated]";
  return out;
}

}  // namespace tracefeed::evaluate
