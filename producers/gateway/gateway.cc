#include "producers/gateway/gateway.h"

#include <simdjson.h>

#include <algorithm>
#include <span>

#include "core/hash.h"
#include "core/event_json.h"
#include "core/ids.h"
#include "core/json_writer.h"
#include "producers/publish/kafka_event_sink.h"

namespace tracefeed::gateway {
namespace {

constexpr std::string_view kSpansLocationTag = "mlflow.trace.spansLocation";
// Tells the MLflow client the spans live in the tracking store (they come separately over OTLP
// /v1/traces), so it must not try to upload a span artifact to an artifact repository we lack.
constexpr std::string_view kSpansInTrackingStore = "TRACKING_STORE";

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t skip_ws(std::string_view s, size_t pos) {
  while (pos < s.size() && is_ws(s[pos])) ++pos;
  return pos;
}

// End (one past) of the JSON string starting at `pos` (a '"'), or npos if unterminated.
size_t scan_string_end(std::string_view s, size_t pos) {
  for (size_t i = pos + 1; i < s.size(); ++i) {
    if (s[i] == '\\') ++i;
    else if (s[i] == '"') return i + 1;
  }
  return std::string_view::npos;
}

// End (one past) of the object/array starting at `pos`, matching brackets outside strings; npos
// when unbalanced. Depth is bounded so a hostile body cannot make this quadratic or deep.
size_t scan_container_end(std::string_view s, size_t pos) {
  int depth = 0;
  for (size_t i = pos; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"') {
      i = scan_string_end(s, i);
      if (i == std::string_view::npos) return i;
      --i;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth + 2) return std::string_view::npos;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
      if (depth < 0) return std::string_view::npos;
    }
  }
  return std::string_view::npos;
}

std::string_view media_type(std::string_view content_type) {
  const size_t semi = content_type.find(';');
  std::string_view t = content_type.substr(0, semi);
  while (!t.empty() && is_ws(t.back())) t.remove_suffix(1);
  while (!t.empty() && is_ws(t.front())) t.remove_prefix(1);
  return t;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

enum class BodyKind { json, ndjson, unsupported };

BodyKind classify(std::string_view content_type) {
  const std::string_view t = media_type(content_type);
  if (t.empty() || iequals(t, "application/json") || iequals(t, "text/plain")) return BodyKind::json;
  for (std::string_view nd : {"application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines",
                              "application/jsonlines", "application/json-seq"}) {
    if (iequals(t, nd)) return BodyKind::ndjson;
  }
  return BodyKind::unsupported;
}

Status unsupported_media(std::string_view content_type, std::string_view accepted) {
  return Status::invalid_argument("Content-Type: unsupported media type \"" + std::string(media_type(content_type)) +
                                  "\"; expected " + std::string(accepted));
}

// Inserts `"type":"<type>"` as the first member of the JSON object in `body`, so an MLflow
// request body ({"trace": ...} / {"assessment": ...}) parses as an envelope and every error
// names the field by its path in the client's own body ("assessment.assessment_name: ...").
Status wrap_as_envelope(std::string_view body, std::string_view type, std::string& out) {
  const size_t open = skip_ws(body, 0);
  if (open >= body.size() || body[open] != '{') {
    return Status::invalid_argument("body: expected a JSON object");
  }
  out.clear();
  out += "{\"type\":\"";
  out += type;
  out += '"';
  const size_t next = skip_ws(body, open + 1);
  if (next >= body.size() || body[next] != '}') out += ',';
  out.append(body.substr(open + 1));
  return Status::ok();
}

void append_hex64(std::string& out, uint64_t v) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int shift = 60; shift >= 0; shift -= 4) out.push_back(kHex[(v >> shift) & 15]);
}

struct Rejected {
  size_t index;
  Status status;
};

void write_rejected(JsonWriter& w, const std::vector<Rejected>& rejected) {
  w.key("rejected");
  w.begin_array();
  for (const auto& r : rejected) {
    w.begin_object();
    w.field_int("index", static_cast<int64_t>(r.index));
    w.field("error_code", error_code_name(r.status.code()));
    w.field("message", r.status.message());
    w.end_object();
  }
  w.end_array();
}

RejectReason reason_for_publish_error(const Status& s) {
  return s.code() == ErrorCode::unavailable || s.code() == ErrorCode::timeout ? RejectReason::unavailable
                                                                               : RejectReason::publish_failed;
}

// Per-worker state (HTTP workers are long-lived, so these stay warm across requests).
struct WorkerScratch {
  EventParser parser;
  std::vector<std::string_view> items;
  std::vector<Envelope> envelopes;
  std::vector<size_t> item_of;  // item index of envelopes[k]
  std::vector<Rejected> rejected;
  std::string wrapped;
  Envelope single;
  simdjson::dom::parser dom;
};

WorkerScratch& scratch() {
  thread_local WorkerScratch s;
  return s;
}

bool error_is_required(const Status& s, std::string_view field) {
  std::string prefix = "assessment.";
  prefix += field;
  prefix += ": required";
  return s.message() == prefix;
}

}  // namespace

std::string_view to_string(RejectReason r) noexcept {
  switch (r) {
    case RejectReason::invalid_event: return "invalid_event";
    case RejectReason::malformed_body: return "malformed_body";
    case RejectReason::unsupported_media_type: return "unsupported_media_type";
    case RejectReason::too_many_events: return "too_many_events";
    case RejectReason::unavailable: return "unavailable";
    case RejectReason::publish_failed: return "publish_failed";
    case RejectReason::kCount: break;
  }
  return "unknown";
}

std::vector<std::pair<std::string, uint64_t>> GatewayStats::ingested_by_type() const {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (EventType t : {EventType::trace, EventType::assessment, EventType::assessment_update, EventType::assessment_delete}) {
    out.emplace_back(std::string(tracefeed::to_string(t)), ingested(t));
  }
  return out;
}

std::vector<std::pair<std::string, uint64_t>> GatewayStats::rejected_by_reason() const {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (size_t i = 0; i < static_cast<size_t>(RejectReason::kCount); ++i) {
    const auto r = static_cast<RejectReason>(i);
    out.emplace_back(std::string(to_string(r)), rejected(r));
  }
  return out;
}

std::string mlflow_event_id(std::string_view method, std::string_view path, std::string_view body) {
  const uint64_t a = xxh64(body, xxh64(path, xxh64(method, 0x6d6c666c6f77ull)));
  const uint64_t b = xxh64(body, xxh64(path, xxh64(method, 0x6761746577617931ull)));
  std::string id = "mlflow-";
  append_hex64(id, a);
  append_hex64(id, b);
  return id;
}

Status split_json_array(std::string_view body, std::vector<std::string_view>& items) {
  items.clear();
  size_t pos = skip_ws(body, 0);
  if (pos >= body.size() || body[pos] != '[') return Status::invalid_argument("body: expected a JSON array of events");
  pos = skip_ws(body, pos + 1);
  if (pos < body.size() && body[pos] == ']') {
    pos = skip_ws(body, pos + 1);
    if (pos != body.size()) return Status::invalid_argument("body: unexpected content after the JSON array");
    return Status::ok();
  }
  while (true) {
    if (pos >= body.size()) return Status::invalid_argument("body: unterminated JSON array");
    const size_t start = pos;
    size_t end;
    const char c = body[pos];
    if (c == '{' || c == '[') {
      end = scan_container_end(body, pos);
    } else if (c == '"') {
      end = scan_string_end(body, pos);
    } else {
      end = pos;
      while (end < body.size() && body[end] != ',' && body[end] != ']' && !is_ws(body[end])) ++end;
      if (end == pos) return Status::invalid_argument("body: expected an event at byte " + std::to_string(pos));
    }
    if (end == std::string_view::npos) {
      return Status::invalid_argument("body: malformed JSON array (element " + std::to_string(items.size()) +
                                      " starting at byte " + std::to_string(start) + " is not closed)");
    }
    items.push_back(body.substr(start, end - start));
    pos = skip_ws(body, end);
    if (pos >= body.size()) return Status::invalid_argument("body: unterminated JSON array");
    if (body[pos] == ']') break;
    if (body[pos] != ',') {
      return Status::invalid_argument("body: expected ',' or ']' after element " + std::to_string(items.size() - 1) +
                                      " at byte " + std::to_string(pos));
    }
    pos = skip_ws(body, pos + 1);
  }
  pos = skip_ws(body, pos + 1);
  if (pos != body.size()) return Status::invalid_argument("body: unexpected content after the JSON array");
  return Status::ok();
}

void split_ndjson(std::string_view body, std::vector<std::string_view>& items) {
  items.clear();
  size_t pos = 0;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    if (nl == std::string_view::npos) nl = body.size();
    std::string_view line = body.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    bool blank = true;
    for (char c : line) {
      if (!is_ws(c)) {
        blank = false;
        break;
      }
    }
    if (!blank) items.push_back(line);
    pos = nl + 1;
  }
}

Gateway::Gateway(GatewayOptions options, EventSink& sink, Clock& clock, publish::DeadLetterSink* dead_letters,
                 AssessmentLookup lookup)
    : _options(std::move(options)), _sink(sink), _clock(clock), _dead_letters(dead_letters), _lookup(std::move(lookup)) {}

namespace {

// What the join does with an assessment_update (processors/join/joiner.cc, apply_update), so the
// reply shows what will be stored: the fields the update carries replace the stored ones.
void merge_update(Assessment& stored, const Assessment& change) {
  using F = Assessment::Field;
  if (change.has(F::f_name)) stored.assessment_name = change.assessment_name;
  if (change.has(F::f_span_id)) stored.span_id = change.span_id;
  if (change.has(F::f_source)) stored.source = change.source;
  if (change.has(F::f_rationale)) stored.rationale = change.rationale;
  if (change.has(F::f_metadata)) stored.metadata = change.metadata;
  if (change.has(F::f_feedback) || change.has(F::f_expectation)) stored.value = change.value;
  stored.last_update_time = change.last_update_time;
  stored.present |= change.present & (F::f_name | F::f_span_id | F::f_source | F::f_rationale | F::f_metadata |
                                      F::f_feedback | F::f_expectation | F::f_last_update_time);
}

}  // namespace

// MLflow's reply to an assessment write: {"assessment": {...}}.
static void write_assessment_response(http::Response& res, const Assessment& a) {
  res.status = 200;
  res.content_type = "application/json";
  res.body.clear();
  JsonWriter w(res.body);
  w.begin_object();
  w.key("assessment");
  write_json(w, a);
  w.end_object();
}

void Gateway::register_routes(http::Server& server) {
  server.route("POST", "/api/v1/events", [this](const http::Request& q, http::Response& r) { handle_events(q, r); });
  server.route("POST", "/api/3.0/mlflow/traces", [this](const http::Request& q, http::Response& r) { handle_start_trace(q, r); });
  server.route("POST", "/api/3.0/mlflow/traces/([^/]+)/assessments",
               [this](const http::Request& q, http::Response& r) { handle_create_assessment(q, r); });
  server.route("PATCH", "/api/3.0/mlflow/traces/([^/]+)/assessments/([^/]+)",
               [this](const http::Request& q, http::Response& r) { handle_update_assessment(q, r); });
  server.route("DELETE", "/api/3.0/mlflow/traces/([^/]+)/assessments/([^/]+)",
               [this](const http::Request& q, http::Response& r) { handle_delete_assessment(q, r); });
  server.route("GET", "/version", [this](const http::Request& q, http::Response& r) { handle_version(q, r); });
}

int64_t Gateway::now_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(_clock.now().time_since_epoch()).count();
}

void Gateway::reject(RejectReason reason, const Status& s, std::string_view raw) {
  _stats.count_rejected(reason);
  if (_dead_letters && (reason == RejectReason::invalid_event || reason == RejectReason::malformed_body)) {
    _dead_letters->dead_letter(to_string(reason), s, raw);
  }
}

void Gateway::write_unavailable(http::Response& res, const Status& s) {
  http::write_error(res, s);
  for (auto& [k, v] : res.headers) {
    if (k == "Retry-After") v = std::to_string(_options.retry_after_seconds);
  }
}

// ---- POST /api/v1/events -------------------------------------------------------------------

void Gateway::handle_events(const http::Request& req, http::Response& res) {
  WorkerScratch& s = scratch();
  const std::string_view content_type = req.header("content-type");
  BodyKind kind = classify(content_type);
  if (kind == BodyKind::unsupported) {
    Status st = unsupported_media(content_type, "application/json (an array of events) or application/x-ndjson");
    reject(RejectReason::unsupported_media_type, st, {});
    http::write_error(res, st);
    res.status = 415;
    return;
  }
  const std::string_view body = req.body;
  const std::string_view idem = req.header("idempotency-key");
  if (idem.size() > _options.max_idempotency_key_bytes || !is_valid_utf8(idem)) {
    Status st = Status::invalid_argument("Idempotency-Key: longer than " + std::to_string(_options.max_idempotency_key_bytes) +
                                         " bytes or not UTF-8");
    reject(RejectReason::malformed_body, st, {});
    http::write_error(res, st);
    return;
  }

  // Split into items. application/json: an array, or a single object (optionally followed by
  // more objects, one per line — lenient NDJSON detection for clients that mislabel it).
  Status split;
  const size_t first = skip_ws(body, 0);
  if (kind == BodyKind::json && first < body.size() && body[first] == '[') {
    split = split_json_array(body, s.items);
  } else if (kind == BodyKind::json && first < body.size() && body[first] == '{' &&
             scan_container_end(body, first) != std::string_view::npos &&
             skip_ws(body, scan_container_end(body, first)) == body.size()) {
    s.items.assign(1, body.substr(first));  // one (possibly pretty-printed) event
  } else {
    split_ndjson(body, s.items);
  }
  if (split.is_ok() && s.items.empty()) split = Status::invalid_argument("body: no events");
  if (!split.is_ok()) {
    reject(RejectReason::malformed_body, split, body);
    http::write_error(res, split);
    return;
  }
  if (s.items.size() > _options.max_events_per_request) {
    Status st{ErrorCode::payload_too_large, "body: " + std::to_string(s.items.size()) + " events; at most " +
                                                std::to_string(_options.max_events_per_request) + " per request"};
    reject(RejectReason::too_many_events, st, {});
    http::write_error(res, st);
    return;
  }

  // Parse and validate each item; fill event_id and time.
  s.rejected.clear();
  s.item_of.clear();
  const int64_t now = now_ns();
  size_t k = 0;
  for (size_t i = 0; i < s.items.size(); ++i) {
    if (s.envelopes.size() <= k) s.envelopes.emplace_back();
    Envelope& e = s.envelopes[k];
    if (Status st = s.parser.parse_envelope(s.items[i], e); !st.is_ok()) {
      reject(RejectReason::invalid_event, st, s.items[i]);
      s.rejected.push_back({i, std::move(st)});
      continue;
    }
    if (e.event_id.empty()) {
      if (idem.empty()) {
        e.event_id = new_event_id();
      } else {
        e.event_id.assign(idem);
        if (s.items.size() > 1) {
          e.event_id += ':';
          e.event_id += std::to_string(i);
        }
      }
    }
    if (e.time == 0) e.time = now;
    s.item_of.push_back(i);
    ++k;
  }

  // Publish the valid ones; answer once the sink has acknowledged (or failed) each.
  size_t accepted = 0;
  bool unavailable = false;
  if (k > 0) {
    std::vector<Status> statuses = _sink.publish(std::span<const Envelope>(s.envelopes.data(), k));
    for (size_t j = 0; j < k; ++j) {
      if (statuses[j].is_ok()) {
        ++accepted;
        _stats.count_ingested(s.envelopes[j].type);
      } else {
        const RejectReason reason = reason_for_publish_error(statuses[j]);
        unavailable |= reason == RejectReason::unavailable;
        _stats.count_rejected(reason);
        s.rejected.push_back({s.item_of[j], std::move(statuses[j])});
      }
    }
    std::sort(s.rejected.begin(), s.rejected.end(), [](const Rejected& a, const Rejected& b) { return a.index < b.index; });
  }

  res.content_type = "application/json";
  res.body.clear();
  JsonWriter w(res.body);
  w.begin_object();
  if (unavailable) {
    res.status = 503;
    res.headers.emplace_back("Retry-After", std::to_string(_options.retry_after_seconds));
    w.field("error_code", error_code_name(ErrorCode::unavailable));
    w.field("message", std::to_string(s.items.size() - accepted) + " of " + std::to_string(s.items.size()) +
                           " events were not accepted (Kafka unavailable or queue full); the accepted ones are durable. "
                           "Retry the items listed in \"rejected\" with TEMPORARILY_UNAVAILABLE.");
  } else if (accepted == 0) {
    const Status& first_err = s.rejected.front().status;
    res.status = http::http_status_for(first_err.code());
    w.field("error_code", error_code_name(first_err.code()));
    w.field("message", "no event accepted; item " + std::to_string(s.rejected.front().index) + ": " + first_err.message());
  } else {
    res.status = 202;
  }
  w.field_int("accepted", static_cast<int64_t>(accepted));
  if (!s.rejected.empty()) write_rejected(w, s.rejected);
  w.end_object();
}

// ---- MLflow-compatible writes -------------------------------------------------------------

bool Gateway::publish_one(const Envelope& e, http::Response& res) {
  std::vector<Status> st = _sink.publish(std::span<const Envelope>(&e, 1));
  if (st.size() == 1 && st[0].is_ok()) {
    _stats.count_ingested(e.type);
    return true;
  }
  Status err = st.empty() ? Status::internal("event sink returned no status") : std::move(st[0]);
  const RejectReason reason = reason_for_publish_error(err);
  _stats.count_rejected(reason);
  if (reason == RejectReason::unavailable) {
    write_unavailable(res, err.code() == ErrorCode::unavailable ? err : Status::unavailable(err.message()));
  } else {
    http::write_error(res, err);
  }
  return false;
}

namespace {

// Common prologue of the MLflow routes: content type, then the body as an envelope of `type`.
// On error the response is written and the status returned.
Status parse_mlflow_body(const http::Request& req, std::string_view type, WorkerScratch& s, Envelope& e) {
  if (classify(req.header("content-type")) != BodyKind::json) {
    return unsupported_media(req.header("content-type"), "application/json");
  }
  TF_RETURN_IF_ERROR(wrap_as_envelope(req.body, type, s.wrapped));
  return s.parser.parse_envelope(s.wrapped, e);
}

}  // namespace

void Gateway::handle_start_trace(const http::Request& req, http::Response& res) {
  WorkerScratch& s = scratch();
  Envelope& e = s.single;
  Status st = parse_mlflow_body(req, "trace", s, e);
  if (!st.is_ok()) {
    const bool media = st.message().starts_with("Content-Type");
    reject(media ? RejectReason::unsupported_media_type : RejectReason::invalid_event, st, req.body);
    http::write_error(res, st);
    if (media) res.status = 415;
    return;
  }
  const std::string_view idem = req.header("idempotency-key");
  e.event_id = idem.empty() || idem.size() > _options.max_idempotency_key_bytes ? mlflow_event_id(req.method, req.path, req.body)
                                                                               : std::string(idem);
  e.time = now_ns();
  TraceInfo& info = e.trace().trace_info;
  auto tag = std::find_if(info.tags.begin(), info.tags.end(), [](const auto& kv) { return kv.first == kSpansLocationTag; });
  if (tag == info.tags.end()) info.tags.emplace_back(kSpansLocationTag, kSpansInTrackingStore);
  else tag->second = kSpansInTrackingStore;
  if (!publish_one(e, res)) return;

  res.status = 200;
  res.content_type = "application/json";
  res.body.clear();
  JsonWriter w(res.body);
  w.begin_object();
  w.key("trace");
  w.begin_object();
  w.key("trace_info");
  write_json(w, info);
  w.end_object();
  w.end_object();
}

void Gateway::handle_create_assessment(const http::Request& req, http::Response& res) {
  WorkerScratch& s = scratch();
  Envelope& e = s.single;
  const std::string path_trace_id = req.path_params.empty() ? std::string() : req.path_params[0];
  auto fail = [&](RejectReason reason, const Status& st) {
    reject(reason, st, req.body);
    http::write_error(res, st);
    if (reason == RejectReason::unsupported_media_type) res.status = 415;
  };
  if (!is_trace_id(path_trace_id)) {
    return fail(RejectReason::invalid_event,
                Status::invalid_argument("trace_id: expected \"tr-\" + 32 lowercase hex in the path, got \"" + path_trace_id + "\""));
  }
  Status st = parse_mlflow_body(req, "assessment", s, e);
  if (!st.is_ok() && error_is_required(st, "trace_id") && std::holds_alternative<Assessment>(e.payload) &&
      !e.assessment().has(Assessment::f_trace_id)) {
    // The body may leave the trace id to the path (as MLflow's REST API allows).
    e.assessment().trace_id = path_trace_id;
    e.assessment().present |= Assessment::f_trace_id;
    st = validate_envelope(e);
  }
  if (!st.is_ok()) {
    return fail(st.message().starts_with("Content-Type") ? RejectReason::unsupported_media_type : RejectReason::invalid_event, st);
  }
  Assessment& a = e.assessment();
  if (a.trace_id != path_trace_id) {
    return fail(RejectReason::invalid_event,
                Status::invalid_argument("assessment.trace_id: \"" + a.trace_id + "\" does not match the trace id in the path \"" +
                                         path_trace_id + "\""));
  }
  const std::string_view idem = req.header("idempotency-key");
  e.event_id = idem.empty() || idem.size() > _options.max_idempotency_key_bytes ? mlflow_event_id(req.method, req.path, req.body)
                                                                               : std::string(idem);
  const int64_t now = now_ns();
  e.time = now;
  if (a.assessment_id.empty()) {
    // Derived from the event id: a retried request gets the same assessment id back.
    a.assessment_id = assessment_id_from(e.event_id);
    a.present |= Assessment::f_assessment_id;
  }
  if (a.create_time == 0) a.create_time = now;
  if (a.last_update_time == 0) a.last_update_time = a.create_time;
  a.present |= Assessment::f_create_time | Assessment::f_last_update_time;
  if (!a.has(Assessment::f_valid)) a.valid = true;
  if (!publish_one(e, res)) return;

  write_assessment_response(res, a);
}

void Gateway::handle_update_assessment(const http::Request& req, http::Response& res) {
  WorkerScratch& s = scratch();
  Envelope& e = s.single;
  const std::string path_trace_id = req.path_params.size() > 0 ? req.path_params[0] : std::string();
  const std::string path_assessment_id = req.path_params.size() > 1 ? req.path_params[1] : std::string();
  auto fail = [&](RejectReason reason, const Status& st) {
    reject(reason, st, req.body);
    http::write_error(res, st);
    if (reason == RejectReason::unsupported_media_type) res.status = 415;
  };
  if (!is_trace_id(path_trace_id)) {
    return fail(RejectReason::invalid_event,
                Status::invalid_argument("trace_id: expected \"tr-\" + 32 lowercase hex in the path, got \"" + path_trace_id + "\""));
  }
  if (!is_assessment_id(path_assessment_id)) {
    return fail(RejectReason::invalid_event, Status::invalid_argument("assessment_id: expected \"a-\" + lowercase hex in the path, got \"" +
                                                                      path_assessment_id + "\""));
  }
  Status st = parse_mlflow_body(req, "assessment_update", s, e);
  if (!st.is_ok() && (error_is_required(st, "trace_id") || error_is_required(st, "assessment_id")) &&
      std::holds_alternative<Assessment>(e.payload)) {
    Assessment& a = e.assessment();
    if (!a.has(Assessment::f_trace_id)) a.trace_id = path_trace_id, a.present |= Assessment::f_trace_id;
    if (!a.has(Assessment::f_assessment_id)) a.assessment_id = path_assessment_id, a.present |= Assessment::f_assessment_id;
    st = validate_envelope(e);
  }
  if (!st.is_ok()) {
    return fail(st.message().starts_with("Content-Type") ? RejectReason::unsupported_media_type : RejectReason::invalid_event, st);
  }
  Assessment& a = e.assessment();
  if (a.trace_id != path_trace_id) {
    return fail(RejectReason::invalid_event, Status::invalid_argument("assessment.trace_id: \"" + a.trace_id +
                                                                      "\" does not match the trace id in the path"));
  }
  if (a.assessment_id != path_assessment_id) {
    return fail(RejectReason::invalid_event, Status::invalid_argument("assessment.assessment_id: \"" + a.assessment_id +
                                                                      "\" does not match the assessment id in the path"));
  }

  // update_mask (a FieldMask: "assessmentName,feedback" in proto-JSON, snake_case accepted too)
  // limits the update to those fields; without one, the fields present in the body are updated.
  simdjson::dom::element root;
  std::string_view mask;
  if (!s.dom.parse(req.body).get(root)) {
    simdjson::dom::element m;
    if (!root["update_mask"].get(m) || !root["updateMask"].get(m)) {
      if (m.is_object()) {  // {"paths": [...]} form
        simdjson::dom::array paths;
        std::string joined;
        if (!m["paths"].get(paths)) {
          for (auto p : paths) {
            std::string_view sv;
            if (!p.get(sv)) joined.append(sv).push_back(',');
          }
        }
        s.wrapped = joined;
        mask = s.wrapped;
      } else if (m.get(mask)) {
        return fail(RejectReason::invalid_event, Status::invalid_argument("update_mask: expected a string like \"feedback,rationale\""));
      }
    }
  }
  if (!mask.empty()) {
    uint32_t allowed = Assessment::f_assessment_id | Assessment::f_trace_id;
    size_t pos = 0;
    while (pos <= mask.size()) {
      size_t comma = mask.find(',', pos);
      if (comma == std::string_view::npos) comma = mask.size();
      std::string_view p = mask.substr(pos, comma - pos);
      while (!p.empty() && is_ws(p.front())) p.remove_prefix(1);
      while (!p.empty() && is_ws(p.back())) p.remove_suffix(1);
      pos = comma + 1;
      if (p.empty()) continue;
      if (p == "assessment_name" || p == "assessmentName" || p == "name") allowed |= Assessment::f_name;
      else if (p == "feedback") allowed |= Assessment::f_feedback;
      else if (p == "expectation") allowed |= Assessment::f_expectation;
      else if (p == "rationale") allowed |= Assessment::f_rationale;
      else if (p == "metadata") allowed |= Assessment::f_metadata;
      else if (p == "span_id" || p == "spanId") allowed |= Assessment::f_span_id;
      else if (p == "source") allowed |= Assessment::f_source;
      else if (p == "valid") allowed |= Assessment::f_valid;
      else if (p == "overrides") allowed |= Assessment::f_overrides;
      else {
        return fail(RejectReason::invalid_event,
                    Status::invalid_argument("update_mask: unknown assessment field \"" + std::string(p) + "\""));
      }
    }
    a.present &= allowed;
    if (!a.has(Assessment::f_feedback) && !a.has(Assessment::f_expectation)) a.value = std::monostate{};
    if (!a.has(Assessment::f_rationale)) a.rationale.clear();
    if (!a.has(Assessment::f_metadata)) a.metadata.clear();
    if (!a.has(Assessment::f_name)) a.assessment_name.clear();
  }
  // MLflow answers UpdateAssessment with the whole updated assessment, so read the stored one.
  // Knowing it also refuses a feedback <-> expectation swap here, with a 400, where the join
  // could only drop the event after the client had been told it worked. A failed or empty read
  // (not joined yet, a gateway-only process) costs only the full reply: the update is published.
  std::optional<Assessment> stored;
  if (_lookup) {
    if (auto found = _lookup(a.trace_id, a.assessment_id); found.is_ok()) stored = std::move(*found);
  }
  if (stored && (a.has(Assessment::f_feedback) || a.has(Assessment::f_expectation)) &&
      a.has(Assessment::f_feedback) != stored->is_feedback()) {
    return fail(RejectReason::invalid_event,
                Status::invalid_argument(std::string("assessment.") + (a.has(Assessment::f_feedback) ? "feedback" : "expectation") +
                                         ": assessment " + a.assessment_id + " is " +
                                         (stored->is_feedback() ? "a feedback" : "an expectation") +
                                         "; an update cannot change its kind"));
  }
  const std::string_view idem = req.header("idempotency-key");
  e.event_id = idem.empty() || idem.size() > _options.max_idempotency_key_bytes ? mlflow_event_id(req.method, req.path, req.body)
                                                                               : std::string(idem);
  e.time = now_ns();
  a.last_update_time = e.time;
  a.present |= Assessment::f_last_update_time;
  if (!publish_one(e, res)) return;

  if (stored) {
    merge_update(*stored, a);
    write_assessment_response(res, *stored);
  } else {
    write_assessment_response(res, a);
  }
}

void Gateway::handle_delete_assessment(const http::Request& req, http::Response& res) {
  WorkerScratch& s = scratch();
  Envelope& e = s.single;
  const std::string path_trace_id = req.path_params.size() > 0 ? req.path_params[0] : std::string();
  const std::string path_assessment_id = req.path_params.size() > 1 ? req.path_params[1] : std::string();
  if (!is_trace_id(path_trace_id)) {
    Status st = Status::invalid_argument("trace_id: expected \"tr-\" + 32 lowercase hex in the path, got \"" + path_trace_id + "\"");
    reject(RejectReason::invalid_event, st, req.path);
    return http::write_error(res, st);
  }
  if (!is_assessment_id(path_assessment_id)) {
    Status st = Status::invalid_argument("assessment_id: expected \"a-\" + lowercase hex in the path, got \"" + path_assessment_id + "\"");
    reject(RejectReason::invalid_event, st, req.path);
    return http::write_error(res, st);
  }
  e.type = EventType::assessment_delete;
  Assessment& a = e.payload.emplace<Assessment>();
  a.trace_id = path_trace_id;
  a.assessment_id = path_assessment_id;
  a.present = Assessment::f_trace_id | Assessment::f_assessment_id;
  const std::string_view idem = req.header("idempotency-key");
  // The body (MLflow sends {trace_id, assessment_id}) repeats the path: deleting twice is a no-op
  // downstream, so the path alone keys the event.
  e.event_id = idem.empty() || idem.size() > _options.max_idempotency_key_bytes ? mlflow_event_id(req.method, req.path, {})
                                                                               : std::string(idem);
  e.time = now_ns();
  if (!publish_one(e, res)) return;
  res.json(200, "{}");
}

void Gateway::handle_version(const http::Request&, http::Response& res) {
  res.status = 200;
  res.content_type = "text/plain";
  res.body = _options.mlflow_version;
}

}  // namespace tracefeed::gateway
