#include "core/event_json.h"

#include <simdjson.h>

#include <charconv>
#include <cstring>
#include <cstdio>
#include <unordered_set>

#include "core/ids.h"
#include "core/time_format.h"

namespace tracefeed {

namespace od = simdjson::ondemand;

namespace {

// ---------------------------------------------------------------------------------------------
// Error messages carry a field path. Paths are built only on the error path: a nested parser
// returns "span_id: ..." and its caller prefixes "spans[2]" to make "spans[2].span_id: ...".

Status field_error(std::string_view field, std::string_view problem) {
  std::string m(field);
  m += ": ";
  m += problem;
  return Status::invalid_argument(std::move(m));
}

Status prefix(Status s, std::string_view segment) {
  if (s.is_ok() || segment.empty()) return s;
  std::string m(segment);
  if (!s.message().empty() && s.message().front() != '[') m.push_back('.');
  m += s.message();
  return {s.code(), std::move(m)};
}

Status prefix_index(Status s, std::string_view segment, size_t index) {
  if (s.is_ok()) return s;
  std::string seg(segment);
  seg += '[' + std::to_string(index) + ']';
  return prefix(std::move(s), seg);
}

std::string quote_value(std::string_view v) {
  std::string out;
  JsonWriter::append_escaped(out, v.size() > 80 ? v.substr(0, 80) : v);
  if (v.size() > 80) out.insert(out.size() - 1, "...");
  return out;
}

std::string_view json_type_name(od::json_type t) {
  switch (t) {
    case od::json_type::array: return "an array";
    case od::json_type::object: return "an object";
    case od::json_type::number: return "a number";
    case od::json_type::string: return "a string";
    case od::json_type::boolean: return "a boolean";
    case od::json_type::null: return "null";
  }
  return "a value";
}

// Resets a payload for the next event while keeping its strings' capacity: a warm parser then
// parses a typical feedback event without touching the heap.
void clear_keep_capacity(Assessment& a) {
  a.assessment_id.clear();
  a.assessment_name.clear();
  a.trace_id.clear();
  a.span_id.clear();
  a.source.source_type = SourceType::unspecified;
  a.source.source_id.clear();
  a.create_time = a.last_update_time = 0;
  a.value = std::monostate{};
  a.rationale.clear();
  a.metadata.clear();
  a.overrides.clear();
  a.valid = true;
  a.present = 0;
}

void clear_keep_capacity(Trace& t) {
  TraceInfo& i = t.trace_info;
  i.trace_id.clear();
  i.client_request_id.clear();
  i.trace_location.clear();
  i.request_time = i.execution_duration_ns = 0;
  i.state = TraceState::unspecified;
  i.request_preview.clear();
  i.response_preview.clear();
  i.trace_metadata.clear();
  i.tags.clear();
  i.assessments.clear();
  t.spans.clear();
}

template <typename T>
T& reuse(std::variant<Trace, Assessment>& payload) {
  if (auto* p = std::get_if<T>(&payload)) {
    clear_keep_capacity(*p);
    return *p;
  }
  return payload.emplace<T>();
}

// simdjson 3.0 has no document::at_end(): once the root value is consumed, a further
// structural token means trailing content.
bool has_trailing_content(od::document& doc) {
  const char* loc = nullptr;
  return doc.current_location().get(loc) == simdjson::SUCCESS;
}

// Key comparison with the literal's length known at compile time, so the compare is inlined as
// a few loads instead of a memcmp call (keys are compared in long chains on the hot path).
template <size_t N>
inline bool key_is(std::string_view k, const char (&lit)[N]) noexcept {
  return k.size() == N - 1 && __builtin_memcmp(k.data(), lit, N - 1) == 0;
}

// The parser state shared by the recursive functions below.
struct Reader {
  const char* buffer_start = nullptr;
  od::document* doc = nullptr;

  // An error from simdjson: malformed JSON or a wrong type.
  Status json_error(std::string_view field, simdjson::error_code err, std::string_view expected) {
    if (err == simdjson::INCORRECT_TYPE || err == simdjson::NUMBER_ERROR || err == simdjson::NUMBER_OUT_OF_RANGE) {
      return field_error(field, std::string("expected ") + std::string(expected));
    }
    if (err == simdjson::UTF8_ERROR) return Status::invalid_argument("malformed JSON: the input is not valid UTF-8");
    std::string m = "malformed JSON";
    const char* loc = nullptr;
    if (doc && doc->current_location().get(loc) == simdjson::SUCCESS && loc >= buffer_start) {
      m += " at byte " + std::to_string(loc - buffer_start);
    }
    m += ": ";
    m += simdjson::error_message(err);
    if (field.empty()) return Status::invalid_argument(std::move(m));
    return field_error(field, m);
  }

  Status type_of(od::value& v, std::string_view field, od::json_type& t) {
    if (auto err = v.type().get(t)) return json_error(field, err, "a value");
    return Status::ok();
  }

  Status read_string(od::value& v, std::string_view field, std::string& out) {
    std::string_view s;
    if (auto err = v.get_string().get(s)) return json_error(field, err, "a string");
    out.assign(s);
    return Status::ok();
  }

  Status read_bool(od::value& v, std::string_view field, bool& out) {
    if (auto err = v.get_bool().get(out)) return json_error(field, err, "true or false");
    return Status::ok();
  }

  // int64 as a JSON number or, as proto-JSON writes int64, a decimal string.
  Status read_int64(od::value& v, std::string_view field, int64_t& out) {
    od::json_type t{};
    TF_RETURN_IF_ERROR(type_of(v, field, t));
    if (t == od::json_type::string) {
      std::string_view s;
      if (auto err = v.get_string().get(s)) return json_error(field, err, "an integer");
      auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
      if (ec != std::errc() || ptr != s.data() + s.size()) {
        return field_error(field, "expected an integer, got " + quote_value(s));
      }
      return Status::ok();
    }
    if (auto err = v.get_int64().get(out)) return json_error(field, err, "an integer");
    return Status::ok();
  }

  // RFC 3339 string (proto Timestamp) or a number of milliseconds since the epoch.
  Status read_timestamp(od::value& v, std::string_view field, int64_t& out_ns) {
    od::json_type t{};
    TF_RETURN_IF_ERROR(type_of(v, field, t));
    if (t == od::json_type::number) {
      int64_t ms;
      if (auto err = v.get_int64().get(ms)) return json_error(field, err, "an RFC 3339 time");
      out_ns = ms * 1'000'000;
      return Status::ok();
    }
    std::string_view s;
    if (auto err = v.get_string().get(s)) return json_error(field, err, "an RFC 3339 time string");
    auto parsed = parse_rfc3339_ns(s);
    if (!parsed) {
      return field_error(field, "expected an RFC 3339 time like \"2025-06-01T12:00:00.250Z\", got " + quote_value(s));
    }
    out_ns = *parsed;
    return Status::ok();
  }

  // "1.250s" (proto Duration) or a number of milliseconds.
  Status read_duration(od::value& v, std::string_view field, int64_t& out_ns) {
    od::json_type t{};
    TF_RETURN_IF_ERROR(type_of(v, field, t));
    if (t == od::json_type::number) {
      int64_t ms;
      if (auto err = v.get_int64().get(ms)) return json_error(field, err, "a duration");
      out_ns = ms * 1'000'000;
      return Status::ok();
    }
    std::string_view s;
    if (auto err = v.get_string().get(s)) return json_error(field, err, "a duration string");
    auto parsed = parse_duration_ns(s);
    if (!parsed) return field_error(field, "expected a duration like \"1.250s\", got " + quote_value(s));
    out_ns = *parsed;
    return Status::ok();
  }

  // Re-serializes any JSON value canonically (validating every scalar on the way).
  Status copy_value(od::value& v, std::string_view field, JsonWriter& w, int depth) {
    if (depth > kMaxJsonDepth) return field_error(field, "nested deeper than 64 levels");
    od::json_type t{};
    TF_RETURN_IF_ERROR(type_of(v, field, t));
    switch (t) {
      case od::json_type::object: {
        od::object obj;
        if (auto err = v.get_object().get(obj)) return json_error(field, err, "an object");
        w.begin_object();
        for (auto fr : obj) {
          od::field f;
          if (auto err = std::move(fr).get(f)) return json_error(field, err, "an object");
          std::string_view key;
          if (auto err = f.unescaped_key().get(key)) return json_error(field, err, "a key");
          w.key(key);
          od::value child = f.value();
          TF_RETURN_IF_ERROR(copy_value(child, field, w, depth + 1));
        }
        w.end_object();
        return Status::ok();
      }
      case od::json_type::array: {
        od::array arr;
        if (auto err = v.get_array().get(arr)) return json_error(field, err, "an array");
        w.begin_array();
        for (auto er : arr) {
          od::value child;
          if (auto err = std::move(er).get(child)) return json_error(field, err, "a value");
          TF_RETURN_IF_ERROR(copy_value(child, field, w, depth + 1));
        }
        w.end_array();
        return Status::ok();
      }
      case od::json_type::string: {
        std::string_view s;
        if (auto err = v.get_string().get(s)) return json_error(field, err, "a string");
        w.string(s);
        return Status::ok();
      }
      case od::json_type::number: {
        std::string_view token = v.raw_json_token();
        while (!token.empty() && (token.back() == ' ' || token.back() == '\n' ||
                                  token.back() == '\r' || token.back() == '\t')) {
          token.remove_suffix(1);
        }
        double d;  // validates the number's syntax
        if (auto err = v.get_double().get(d)) return json_error(field, err, "a number");
        w.raw(token);
        return Status::ok();
      }
      case od::json_type::boolean: {
        bool b;
        if (auto err = v.get_bool().get(b)) return json_error(field, err, "true or false");
        w.boolean(b);
        return Status::ok();
      }
      case od::json_type::null: {
        bool is_null = false;
        if (auto err = v.is_null().get(is_null); err || !is_null) {
          return json_error(field, err ? err : simdjson::INCORRECT_TYPE, "null");
        }
        w.null();
        return Status::ok();
      }
    }
    return field_error(field, "unexpected JSON type");
  }

  Status read_json_text(od::value& v, std::string_view field, JsonText& out) {
    out.clear();
    JsonWriter w(out);
    return copy_value(v, field, w, 0);
  }

  // Proto map<string,string>. Non-string values are an error naming the key.
  Status read_string_map(od::value& v, std::string_view field, StringMap& out) {
    od::object obj;
    if (auto err = v.get_object().get(obj)) return json_error(field, err, "an object of strings");
    out.clear();
    for (auto fr : obj) {
      od::field f;
      if (auto err = std::move(fr).get(f)) return json_error(field, err, "an object");
      std::string_view key;
      if (auto err = f.unescaped_key().get(key)) return json_error(field, err, "a key");
      std::string_view val;
      od::value fv = f.value();
      if (auto err = fv.get_string().get(val)) {
        return json_error(std::string(field) + "." + std::string(key), err, "a string");
      }
      out.emplace_back(key, val);
    }
    return Status::ok();
  }

  Status read_object(od::value& v, std::string_view field, od::object& obj) {
    if (auto err = v.get_object().get(obj)) return json_error(field, err, "an object");
    return Status::ok();
  }

  // Calls fn(key, value) for each field; a JSON null counts as absent (proto-JSON semantics).
  template <typename Fn>
  Status for_each_field(od::object& obj, std::string_view where, Fn&& fn) {
    for (auto fr : obj) {
      od::field f;
      if (auto err = std::move(fr).get(f)) return json_error(where, err, "an object");
      std::string_view key;
      if (auto err = f.unescaped_key().get(key)) return json_error(where, err, "a key");
      od::value v = f.value();
      od::json_type t{};
      if (auto err = v.type().get(t)) return json_error(key, err, "a value");
      if (t == od::json_type::null) continue;
      TF_RETURN_IF_ERROR(fn(key, v));
    }
    return Status::ok();
  }

  // ---- the model ---------------------------------------------------------------------------

  Status read_span_status(od::value& v, SpanStatus& out) {
    od::json_type t{};
    TF_RETURN_IF_ERROR(type_of(v, "status", t));
    std::string code;
    if (t == od::json_type::object) {  // OTel style {"code": "STATUS_CODE_OK", "message": ...}
      od::object obj;
      TF_RETURN_IF_ERROR(read_object(v, "status", obj));
      TF_RETURN_IF_ERROR(for_each_field(obj, "status", [&](std::string_view k, od::value& fv) {
        return key_is(k, "code") ? read_string(fv, "status.code", code) : Status::ok();
      }));
    } else {
      TF_RETURN_IF_ERROR(read_string(v, "status", code));
    }
    if (code == "OK" || code == "STATUS_CODE_OK") {
      out = SpanStatus::ok;
    } else if (code == "ERROR" || code == "STATUS_CODE_ERROR") {
      out = SpanStatus::error;
    } else if (code.empty() || code == "UNSET" || code == "STATUS_CODE_UNSET") {
      out = SpanStatus::unset;
    } else {
      return field_error("status", "expected OK, ERROR or UNSET, got " + quote_value(code));
    }
    return Status::ok();
  }

  Status read_span(od::value& v, Span& span) {
    od::object obj;
    TF_RETURN_IF_ERROR(read_object(v, "", obj));
    return for_each_field(obj, "", [&](std::string_view k, od::value& fv) -> Status {
      if (key_is(k, "span_id")) return read_string(fv, k, span.span_id);
      if (key_is(k, "parent_span_id")) return read_string(fv, k, span.parent_span_id);
      if (key_is(k, "name")) return read_string(fv, k, span.name);
      if (key_is(k, "start_time_unix_nano")) return read_int64(fv, k, span.start_time_unix_nano);
      if (key_is(k, "end_time_unix_nano")) return read_int64(fv, k, span.end_time_unix_nano);
      if (key_is(k, "status")) return read_span_status(fv, span.status);
      if (key_is(k, "span_type")) return read_string(fv, k, span.span_type);
      if (key_is(k, "inputs")) return read_json_text(fv, k, span.inputs);
      if (key_is(k, "outputs")) return read_json_text(fv, k, span.outputs);
      if (key_is(k, "events")) {
        od::json_type t{};
        TF_RETURN_IF_ERROR(type_of(fv, k, t));
        if (t != od::json_type::array) return field_error(k, "expected an array");
        return read_json_text(fv, k, span.events);
      }
      if (key_is(k, "attributes")) {
        od::object attrs;
        TF_RETURN_IF_ERROR(read_object(fv, k, attrs));
        span.attributes.clear();
        return for_each_field(attrs, k, [&](std::string_view ak, od::value& av) -> Status {
          auto& slot = span.attributes.emplace_back(std::string(ak), JsonText{});
          return prefix(read_json_text(av, ak, slot.second), "attributes");
        });
      }
      return Status::ok();
    });
  }

  Status read_trace_info(od::value& v, TraceInfo& info) {
    od::object obj;
    TF_RETURN_IF_ERROR(read_object(v, "", obj));
    return for_each_field(obj, "", [&](std::string_view k, od::value& fv) -> Status {
      if (key_is(k, "trace_id")) return read_string(fv, k, info.trace_id);
      if (key_is(k, "client_request_id")) return read_string(fv, k, info.client_request_id);
      if (key_is(k, "trace_location")) return read_json_text(fv, k, info.trace_location);
      if (key_is(k, "request_time")) return read_timestamp(fv, k, info.request_time);
      if (key_is(k, "execution_duration")) return read_duration(fv, k, info.execution_duration_ns);
      if (key_is(k, "request_preview")) return read_string(fv, k, info.request_preview);
      if (key_is(k, "response_preview")) return read_string(fv, k, info.response_preview);
      if (key_is(k, "trace_metadata")) return read_string_map(fv, k, info.trace_metadata);
      if (key_is(k, "tags")) return read_string_map(fv, k, info.tags);
      if (key_is(k, "state")) {
        std::string s;
        TF_RETURN_IF_ERROR(read_string(fv, k, s));
        if (s == "OK") info.state = TraceState::ok;
        else if (s == "ERROR") info.state = TraceState::error;
        else if (s == "IN_PROGRESS") info.state = TraceState::in_progress;
        else if (s == "STATE_UNSPECIFIED") info.state = TraceState::unspecified;
        else return field_error(k, "expected OK, ERROR or IN_PROGRESS, got " + quote_value(s));
        return Status::ok();
      }
      if (key_is(k, "assessments")) {
        od::array arr;
        if (auto err = fv.get_array().get(arr)) return json_error(k, err, "an array");
        size_t i = 0;
        for (auto er : arr) {
          od::value av;
          if (auto err = std::move(er).get(av)) return json_error(k, err, "an object");
          TF_RETURN_IF_ERROR(prefix_index(read_assessment(av, info.assessments.emplace_back()), k, i));
          ++i;
        }
        return Status::ok();
      }
      return Status::ok();
    });
  }

  Status read_trace(od::value& v, Trace& trace) {
    od::object obj;
    TF_RETURN_IF_ERROR(read_object(v, "", obj));
    return for_each_field(obj, "", [&](std::string_view k, od::value& fv) -> Status {
      if (key_is(k, "trace_info")) return prefix(read_trace_info(fv, trace.trace_info), k);
      if (key_is(k, "spans")) {
        od::array arr;
        if (auto err = fv.get_array().get(arr)) return json_error(k, err, "an array");
        size_t i = 0;
        for (auto er : arr) {
          od::value sv;
          if (auto err = std::move(er).get(sv)) return json_error(k, err, "an object");
          TF_RETURN_IF_ERROR(prefix_index(read_span(sv, trace.spans.emplace_back()), k, i));
          ++i;
        }
        return Status::ok();
      }
      return Status::ok();
    });
  }

  Status read_source(od::value& v, AssessmentSource& src) {
    od::object obj;
    TF_RETURN_IF_ERROR(read_object(v, "", obj));
    return for_each_field(obj, "", [&](std::string_view k, od::value& fv) -> Status {
      if (key_is(k, "source_id")) return read_string(fv, k, src.source_id);
      if (key_is(k, "source_type")) {
        std::string s;
        TF_RETURN_IF_ERROR(read_string(fv, k, s));
        if (s == "HUMAN") src.source_type = SourceType::human;
        else if (s == "LLM_JUDGE" || s == "AI_JUDGE") src.source_type = SourceType::llm_judge;
        else if (s == "CODE") src.source_type = SourceType::code;
        else if (s == "SOURCE_TYPE_UNSPECIFIED") src.source_type = SourceType::unspecified;
        else return field_error(k, "expected HUMAN, LLM_JUDGE or CODE, got " + quote_value(s));
        return Status::ok();
      }
      return Status::ok();
    });
  }

  Status read_feedback(od::value& v, Feedback& fb) {
    od::object obj;
    TF_RETURN_IF_ERROR(read_object(v, "", obj));
    return for_each_field(obj, "", [&](std::string_view k, od::value& fv) -> Status {
      if (key_is(k, "value")) return read_json_text(fv, k, fb.value);
      if (key_is(k, "error")) {
        od::object eo;
        TF_RETURN_IF_ERROR(read_object(fv, k, eo));
        AssessmentError& e = fb.error.emplace();
        return for_each_field(eo, k, [&](std::string_view ek, od::value& ev) -> Status {
          if (key_is(ek, "error_code")) return prefix(read_string(ev, ek, e.error_code), "error");
          if (key_is(ek, "error_message")) return prefix(read_string(ev, ek, e.error_message), "error");
          return Status::ok();
        });
      }
      return Status::ok();
    });
  }

  Status read_expectation(od::value& v, Expectation& ex, od::parser& inner) {
    od::object obj;
    TF_RETURN_IF_ERROR(read_object(v, "", obj));
    return for_each_field(obj, "", [&](std::string_view k, od::value& fv) -> Status {
      if (key_is(k, "value")) return read_json_text(fv, k, ex.value);
      if (key_is(k, "serialized_value")) {
        od::object so;
        TF_RETURN_IF_ERROR(read_object(fv, k, so));
        std::string format = "JSON_FORMAT", text;
        bool has_value = false;
        TF_RETURN_IF_ERROR(for_each_field(so, k, [&](std::string_view sk, od::value& sv) -> Status {
          if (key_is(sk, "serialization_format")) return prefix(read_string(sv, sk, format), "serialized_value");
          if (key_is(sk, "value")) {
            has_value = true;
            return prefix(read_string(sv, sk, text), "serialized_value");
          }
          return Status::ok();
        }));
        if (format != "JSON_FORMAT") {
          return field_error("serialized_value.serialization_format", "expected JSON_FORMAT, got " + quote_value(format));
        }
        if (!has_value) return field_error("serialized_value.value", "required");
        // The serialized value is JSON inside a string: parse it with a second parser (the
        // outer document is still being iterated).
        simdjson::padded_string padded(text);
        od::document inner_doc;
        if (auto err = inner.iterate(padded).get(inner_doc)) {
          return field_error("serialized_value.value", std::string("not valid JSON: ") + simdjson::error_message(err));
        }
        od::value iv;
        if (auto err = inner_doc.get_value().get(iv)) {
          // A scalar document (e.g. "\"text\"" or "42") is not a value in On-Demand: re-read it.
          return scalar_document(inner_doc, ex.value, err);
        }
        Reader inner_reader;
        inner_reader.buffer_start = padded.data();
        ex.value.clear();
        JsonWriter w(ex.value);
        TF_RETURN_IF_ERROR(prefix(inner_reader.copy_value(iv, "value", w, 0), "serialized_value"));
        if (has_trailing_content(inner_doc)) {
          return field_error("serialized_value.value", "trailing content after JSON");
        }
        return Status::ok();
      }
      return Status::ok();
    });
  }

  static Status scalar_document(od::document& doc, JsonText& out, simdjson::error_code first_err) {
    out.clear();
    JsonWriter w(out);
    od::json_type t{};
    if (doc.type().get(t)) {
      return field_error("serialized_value.value", std::string("not valid JSON: ") + simdjson::error_message(first_err));
    }
    switch (t) {
      case od::json_type::string: {
        std::string_view s;
        if (doc.get_string().get(s)) break;
        w.string(s);
        return Status::ok();
      }
      case od::json_type::number: {
        std::string_view token;
        double d;
        if (doc.raw_json_token().get(token) || doc.get_double().get(d)) break;
        while (!token.empty() && (token.back() == ' ' || token.back() == '\n')) token.remove_suffix(1);
        w.raw(token);
        return Status::ok();
      }
      case od::json_type::boolean: {
        bool b;
        if (doc.get_bool().get(b)) break;
        w.boolean(b);
        return Status::ok();
      }
      case od::json_type::null: w.null(); return Status::ok();
      default: break;
    }
    return field_error("serialized_value.value", "not valid JSON");
  }

  od::parser* inner_parser = nullptr;

  Status read_assessment(od::value& v, Assessment& a) {
    od::object obj;
    TF_RETURN_IF_ERROR(read_object(v, "", obj));
    using F = Assessment::Field;
    return for_each_field(obj, "", [&](std::string_view k, od::value& fv) -> Status {
      if (key_is(k, "assessment_id")) { a.present |= F::f_assessment_id; return read_string(fv, k, a.assessment_id); }
      if (key_is(k, "assessment_name") || key_is(k, "name")) { a.present |= F::f_name; return read_string(fv, "assessment_name", a.assessment_name); }
      if (key_is(k, "trace_id")) { a.present |= F::f_trace_id; return read_string(fv, k, a.trace_id); }
      if (key_is(k, "span_id")) { a.present |= F::f_span_id; return read_string(fv, k, a.span_id); }
      if (key_is(k, "source")) { a.present |= F::f_source; return prefix(read_source(fv, a.source), k); }
      if (key_is(k, "create_time")) { a.present |= F::f_create_time; return read_timestamp(fv, k, a.create_time); }
      if (key_is(k, "last_update_time")) { a.present |= F::f_last_update_time; return read_timestamp(fv, k, a.last_update_time); }
      if (key_is(k, "rationale")) { a.present |= F::f_rationale; return read_string(fv, k, a.rationale); }
      if (key_is(k, "metadata")) { a.present |= F::f_metadata; return read_string_map(fv, k, a.metadata); }
      if (key_is(k, "overrides")) { a.present |= F::f_overrides; return read_string(fv, k, a.overrides); }
      if (key_is(k, "valid")) { a.present |= F::f_valid; return read_bool(fv, k, a.valid); }
      if (key_is(k, "feedback")) {
        if (a.has(F::f_expectation)) return field_error(k, "an assessment has exactly one of feedback or expectation");
        a.present |= F::f_feedback;
        return prefix(read_feedback(fv, a.value.emplace<Feedback>()), k);
      }
      if (key_is(k, "expectation")) {
        if (a.has(F::f_feedback)) return field_error(k, "an assessment has exactly one of feedback or expectation");
        a.present |= F::f_expectation;
        return prefix(read_expectation(fv, a.value.emplace<Expectation>(), *inner_parser), k);
      }
      return Status::ok();
    });
  }

  Status read_envelope(od::value& v, Envelope& e, bool& has_type) {
    od::object obj;
    TF_RETURN_IF_ERROR(read_object(v, "", obj));
    bool has_payload = false;
    return for_each_field(obj, "", [&](std::string_view k, od::value& fv) -> Status {
      if (key_is(k, "event_id")) return read_string(fv, k, e.event_id);
      if (key_is(k, "time")) return read_timestamp(fv, k, e.time);
      if (key_is(k, "type")) {
        std::string_view s;
        if (auto err = fv.get_string().get(s)) return json_error(k, err, "a string");
        has_type = true;
        if (s == "trace") e.type = EventType::trace;
        else if (s == "assessment") e.type = EventType::assessment;
        else if (s == "assessment_update") e.type = EventType::assessment_update;
        else if (s == "assessment_delete") e.type = EventType::assessment_delete;
        else return field_error(k, "expected trace, assessment, assessment_update or assessment_delete, got " + quote_value(s));
        return Status::ok();
      }
      if (key_is(k, "trace") || key_is(k, "assessment")) {
        if (has_payload) return field_error(k, "an event carries exactly one of trace or assessment");
        has_payload = true;
        if (key_is(k, "trace")) return prefix(read_trace(fv, reuse<Trace>(e.payload)), k);
        return prefix(read_assessment(fv, reuse<Assessment>(e.payload)), k);
      }
      return Status::ok();
    });
  }
};

// ---- validation ---------------------------------------------------------------------------

std::string join_path(std::string_view path, std::string_view field) {
  if (path.empty()) return std::string(field);
  std::string out(path);
  out += '.';
  out += field;
  return out;
}

Status check_name(std::string_view path, std::string_view field, const std::string& name) {
  if (name.empty()) return field_error(join_path(path, field), "required");
  if (name.size() > kMaxNameBytes) {
    return field_error(join_path(path, field), "longer than " + std::to_string(kMaxNameBytes) + " bytes");
  }
  if (name.find('.') != std::string::npos) {
    return field_error(join_path(path, field), "must not contain '.', got " + quote_value(name));
  }
  return Status::ok();
}

Status check_trace_id(std::string_view path, std::string_view field, const std::string& id) {
  if (id.empty()) return field_error(join_path(path, field), "required");
  if (!is_trace_id(id)) {
    return field_error(join_path(path, field), "expected \"tr-\" + 32 lowercase hex, got " + quote_value(id));
  }
  return Status::ok();
}

Status check_assessment_id(std::string_view path, std::string_view field, const std::string& id) {
  if (!is_assessment_id(id)) {
    return field_error(join_path(path, field), "expected \"a-\" + lowercase hex, got " + quote_value(id));
  }
  return Status::ok();
}

}  // namespace

// The kernel this translation unit's inlined On-Demand code runs (libsimdjson's own
// builtin_implementation() reports how the shared library was built, which is not the same).
#define TF_STRINGIFY_INNER(x) #x
#define TF_STRINGIFY(x) TF_STRINGIFY_INNER(x)
std::string_view json_kernel_name() { return TF_STRINGIFY(SIMDJSON_BUILTIN_IMPLEMENTATION); }

Status validate_trace(const Trace& trace, std::string_view path) {
  const std::string info_path = join_path(path, "trace_info");
  TF_RETURN_IF_ERROR(check_trace_id(info_path, "trace_id", trace.trace_info.trace_id));
  if (trace.trace_info.execution_duration_ns < 0) {
    return field_error(join_path(info_path, "execution_duration"), "must not be negative");
  }
  std::unordered_set<std::string_view> seen;
  for (size_t i = 0; i < trace.spans.size(); ++i) {
    const Span& s = trace.spans[i];
    const std::string sp = join_path(path, "spans[" + std::to_string(i) + "]");
    if (!is_span_id(s.span_id)) {
      return field_error(join_path(sp, "span_id"), "expected 16 lowercase hex, got " + quote_value(s.span_id));
    }
    if (!s.parent_span_id.empty() && !is_span_id(s.parent_span_id)) {
      return field_error(join_path(sp, "parent_span_id"),
                         "expected 16 lowercase hex or empty for the root, got " + quote_value(s.parent_span_id));
    }
    if (s.parent_span_id == s.span_id) return field_error(join_path(sp, "parent_span_id"), "a span cannot be its own parent");
    if (s.name.empty()) return field_error(join_path(sp, "name"), "required");
    if (s.name.size() > kMaxNameBytes) {
      return field_error(join_path(sp, "name"), "longer than " + std::to_string(kMaxNameBytes) + " bytes");
    }
    if (s.start_time_unix_nano < 0) return field_error(join_path(sp, "start_time_unix_nano"), "must not be negative");
    if (s.end_time_unix_nano != 0 && s.end_time_unix_nano < s.start_time_unix_nano) {
      return field_error(join_path(sp, "end_time_unix_nano"), "must not be before start_time_unix_nano");
    }
    if (!seen.insert(s.span_id).second) {
      return field_error(join_path(sp, "span_id"), "duplicate span_id " + quote_value(s.span_id) + " in one trace");
    }
  }
  return Status::ok();
}

Status validate_assessment(const Assessment& a, EventType type, std::string_view path) {
  using F = Assessment::Field;
  TF_RETURN_IF_ERROR(check_trace_id(path, "trace_id", a.trace_id));
  if (type == EventType::assessment_update || type == EventType::assessment_delete) {
    if (a.assessment_id.empty()) return field_error(join_path(path, "assessment_id"), "required");
  }
  if (!a.assessment_id.empty()) TF_RETURN_IF_ERROR(check_assessment_id(path, "assessment_id", a.assessment_id));
  if (type == EventType::assessment_delete) return Status::ok();

  if (type == EventType::assessment || a.has(F::f_name)) {
    TF_RETURN_IF_ERROR(check_name(path, "assessment_name", a.assessment_name));
  }
  if (!a.span_id.empty() && !is_span_id(a.span_id)) {
    return field_error(join_path(path, "span_id"), "expected 16 lowercase hex, got " + quote_value(a.span_id));
  }
  if (!a.overrides.empty()) TF_RETURN_IF_ERROR(check_assessment_id(path, "overrides", a.overrides));
  if (a.rationale.size() > kMaxRationaleBytes) {
    return field_error(join_path(path, "rationale"), "longer than " + std::to_string(kMaxRationaleBytes) + " bytes");
  }
  if (a.has(F::f_source) && a.source.source_id.size() > kMaxNameBytes) {
    return field_error(join_path(path, "source.source_id"), "longer than " + std::to_string(kMaxNameBytes) + " bytes");
  }
  if (type == EventType::assessment && std::holds_alternative<std::monostate>(a.value)) {
    return field_error(join_path(path, "feedback"), "exactly one of feedback or expectation is required");
  }
  if (const auto* fb = std::get_if<Feedback>(&a.value)) {
    if (fb->value.empty() && !fb->error) {
      return field_error(join_path(path, "feedback.value"), "required (or feedback.error)");
    }
    if (fb->value.size() > kMaxAssessmentValueBytes) {
      return field_error(join_path(path, "feedback.value"),
                         "larger than " + std::to_string(kMaxAssessmentValueBytes) + " bytes");
    }
    if (fb->error && fb->error->error_code.empty()) {
      return field_error(join_path(path, "feedback.error.error_code"), "required");
    }
  } else if (const auto* ex = std::get_if<Expectation>(&a.value)) {
    if (ex->value.empty() || ex->value == "null") return field_error(join_path(path, "expectation.value"), "required");
    if (ex->value.size() > kMaxAssessmentValueBytes) {
      return field_error(join_path(path, "expectation.value"),
                         "larger than " + std::to_string(kMaxAssessmentValueBytes) + " bytes");
    }
  }
  return Status::ok();
}

Status validate_envelope(const Envelope& e) {
  if (e.event_id.size() > kMaxEventIdBytes) {
    return field_error("event_id", "longer than " + std::to_string(kMaxEventIdBytes) + " bytes");
  }
  if (e.type == EventType::trace) {
    if (!std::holds_alternative<Trace>(e.payload)) return field_error("trace", "required for type \"trace\"");
    return validate_trace(e.trace(), "trace");
  }
  if (!std::holds_alternative<Assessment>(e.payload)) {
    return field_error("assessment", "required for type \"" + std::string(to_string(e.type)) + "\"");
  }
  return validate_assessment(e.assessment(), e.type, "assessment");
}

// ---- EventParser --------------------------------------------------------------------------

struct EventParser::Impl {
  od::parser parser;
  od::parser inner;
  std::string padded;  // input copied here with SIMDJSON_PADDING spare bytes; reused

  template <typename Fn>
  Status run(std::string_view json, Fn&& fn) {
    const size_t needed = json.size() + simdjson::SIMDJSON_PADDING;
    if (padded.size() < needed) padded.resize(std::max(needed, padded.size() * 2));
    std::memcpy(padded.data(), json.data(), json.size());
    std::memset(padded.data() + json.size(), 0, simdjson::SIMDJSON_PADDING);
    Reader r;
    r.buffer_start = padded.data();
    r.inner_parser = &inner;
    od::document doc;
    if (auto err = parser.iterate(padded.data(), json.size(), padded.size()).get(doc)) {
      return r.json_error("", err, "a JSON object");
    }
    r.doc = &doc;
    od::value root;
    if (auto err = doc.get_value().get(root)) return r.json_error("", err, "a JSON object");
    od::json_type t{};
    if (auto err = root.type().get(t)) return r.json_error("", err, "a JSON object");
    if (t != od::json_type::object) {
      return Status::invalid_argument(std::string("expected a JSON object, got ") + std::string(json_type_name(t)));
    }
    TF_RETURN_IF_ERROR(fn(r, root));
    if (has_trailing_content(doc)) return r.json_error("", simdjson::TRAILING_CONTENT, "a single JSON object");
    return Status::ok();
  }
};

EventParser::EventParser() : _impl(std::make_unique<Impl>()) {}
EventParser::~EventParser() = default;
EventParser::EventParser(EventParser&&) noexcept = default;
EventParser& EventParser::operator=(EventParser&&) noexcept = default;

Status EventParser::parse_envelope(std::string_view json, Envelope& out) {
  out.event_id.clear();
  out.type = EventType::trace;
  out.time = 0;
  if (auto* t = std::get_if<Trace>(&out.payload)) clear_keep_capacity(*t);
  else clear_keep_capacity(std::get<Assessment>(out.payload));
  bool has_type = false;
  TF_RETURN_IF_ERROR(_impl->run(json, [&](Reader& r, od::value& root) {
    return r.read_envelope(root, out, has_type);
  }));
  if (!has_type) return field_error("type", "required");
  return validate_envelope(out);
}

Result<Envelope> EventParser::parse_envelope(std::string_view json) {
  Envelope e;
  TF_RETURN_IF_ERROR(parse_envelope(json, e));
  return e;
}

Status EventParser::parse_trace(std::string_view json, Trace& out) {
  clear_keep_capacity(out);
  TF_RETURN_IF_ERROR(_impl->run(json, [&](Reader& r, od::value& root) { return r.read_trace(root, out); }));
  return validate_trace(out);
}

Status EventParser::parse_assessment(std::string_view json, Assessment& out) {
  clear_keep_capacity(out);
  TF_RETURN_IF_ERROR(_impl->run(json, [&](Reader& r, od::value& root) { return r.read_assessment(root, out); }));
  return validate_assessment(out, EventType::assessment);
}

bool is_valid_utf8(std::string_view s) noexcept { return simdjson::validate_utf8(s.data(), s.size()); }

std::string json_preview(const JsonText& json, size_t max_bytes) {
  auto truncate = [max_bytes](std::string_view text) {
    if (text.size() <= max_bytes) return std::string(text);
    size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    return std::string(text.substr(0, cut));
  };
  if (json.empty()) return {};
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json).get(root)) return truncate(json);
  std::string_view sv;
  if (root.get_string().get(sv) == simdjson::SUCCESS) return truncate(sv);
  simdjson::dom::object obj;
  if (root.get_object().get(obj) == simdjson::SUCCESS && obj.size() == 1) {
    for (auto field : obj) {
      if (field.value.get_string().get(sv) == simdjson::SUCCESS) return truncate(sv);
    }
  }
  return truncate(json);
}

// ---- writers ------------------------------------------------------------------------------

namespace {

void write_string_map(JsonWriter& w, std::string_view key, const StringMap& m) {
  if (m.empty()) return;
  w.key(key);
  w.begin_object();
  for (const auto& [k, v] : m) w.field(k, v);
  w.end_object();
}

void write_timestamp(JsonWriter& w, std::string_view key, int64_t ns) {
  if (ns == 0) return;
  thread_local std::string tmp;  // reused: RFC 3339 text is longer than the small-string buffer
  tmp.clear();
  append_rfc3339(tmp, ns);
  w.field(key, tmp);
}

bool is_structured(const JsonText& v) { return !v.empty() && (v.front() == '{' || v.front() == '['); }

}  // namespace

void write_json(JsonWriter& w, const Span& s) {
  w.begin_object();
  w.field("span_id", s.span_id);
  w.field("parent_span_id", s.parent_span_id);
  w.field("name", s.name);
  w.field_int("start_time_unix_nano", s.start_time_unix_nano);
  w.field_int("end_time_unix_nano", s.end_time_unix_nano);
  w.field("status", to_string(s.status));
  w.field("span_type", s.span_type.empty() ? std::string_view("UNKNOWN") : std::string_view(s.span_type));
  if (!s.inputs.empty()) w.field_raw("inputs", s.inputs);
  if (!s.outputs.empty()) w.field_raw("outputs", s.outputs);
  if (!s.attributes.empty()) {
    w.key("attributes");
    w.begin_object();
    for (const auto& [k, v] : s.attributes) w.field_raw(k, v);
    w.end_object();
  }
  if (!s.events.empty()) w.field_raw("events", s.events);
  w.end_object();
}

void write_json(JsonWriter& w, const TraceInfo& t) {
  w.begin_object();
  w.field("trace_id", t.trace_id);
  if (!t.client_request_id.empty()) w.field("client_request_id", t.client_request_id);
  if (!t.trace_location.empty()) w.field_raw("trace_location", t.trace_location);
  write_timestamp(w, "request_time", t.request_time);
  if (t.execution_duration_ns != 0) {
    w.field("execution_duration", format_duration(t.execution_duration_ns));
  }
  w.field("state", to_string(t.state));
  if (!t.request_preview.empty()) w.field("request_preview", t.request_preview);
  if (!t.response_preview.empty()) w.field("response_preview", t.response_preview);
  write_string_map(w, "trace_metadata", t.trace_metadata);
  write_string_map(w, "tags", t.tags);
  if (!t.assessments.empty()) {
    w.key("assessments");
    w.begin_array();
    for (const auto& a : t.assessments) write_json(w, a);
    w.end_array();
  }
  w.end_object();
}

void write_json(JsonWriter& w, const Trace& t) {
  w.begin_object();
  w.key("trace_info");
  write_json(w, t.trace_info);
  w.key("spans");
  w.begin_array();
  for (const auto& s : t.spans) write_json(w, s);
  w.end_array();
  w.end_object();
}

void write_json(JsonWriter& w, const Assessment& a) {
  w.begin_object();
  if (!a.assessment_id.empty()) w.field("assessment_id", a.assessment_id);
  if (!a.assessment_name.empty()) w.field("assessment_name", a.assessment_name);
  w.field("trace_id", a.trace_id);
  if (!a.span_id.empty()) w.field("span_id", a.span_id);
  if (a.source.source_type != SourceType::unspecified || !a.source.source_id.empty()) {
    w.key("source");
    w.begin_object();
    w.field("source_type", to_string(a.source.source_type));
    w.field("source_id", a.source.source_id);
    w.end_object();
  }
  write_timestamp(w, "create_time", a.create_time);
  write_timestamp(w, "last_update_time", a.last_update_time);
  if (const auto* fb = std::get_if<Feedback>(&a.value)) {
    w.key("feedback");
    w.begin_object();
    if (!fb->value.empty()) w.field_raw("value", fb->value);
    if (fb->error) {
      w.key("error");
      w.begin_object();
      w.field("error_code", fb->error->error_code);
      if (!fb->error->error_message.empty()) w.field("error_message", fb->error->error_message);
      w.end_object();
    }
    w.end_object();
  } else if (const auto* ex = std::get_if<Expectation>(&a.value)) {
    w.key("expectation");
    w.begin_object();
    if (is_structured(ex->value)) {
      // MLflow sends lists and maps as serialized JSON strings.
      w.key("serialized_value");
      w.begin_object();
      w.field("serialization_format", "JSON_FORMAT");
      w.field("value", ex->value);
      w.end_object();
    } else {
      w.field_raw("value", ex->value);
    }
    w.end_object();
  }
  if (!a.rationale.empty()) w.field("rationale", a.rationale);
  write_string_map(w, "metadata", a.metadata);
  if (!a.overrides.empty()) w.field("overrides", a.overrides);
  w.field("valid", a.valid);
  w.end_object();
}

void write_json(JsonWriter& w, const Envelope& e) {
  w.begin_object();
  w.field("event_id", e.event_id);
  w.field("type", to_string(e.type));
  write_timestamp(w, "time", e.time);
  if (const auto* t = std::get_if<Trace>(&e.payload)) {
    w.key("trace");
    write_json(w, *t);
  } else {
    w.key("assessment");
    write_json(w, std::get<Assessment>(e.payload));
  }
  w.end_object();
}

}  // namespace tracefeed
