#include "producers/otlp/otlp_routes.h"

#include <algorithm>
#include <cctype>

#include "core/hash.h"
#include "core/event_json.h"
#include "core/ids.h"
#include "core/json_writer.h"
#include "google/rpc/status.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "producers/otlp/export_decoder.h"
#include "producers/otlp/gzip.h"

namespace tracefeed::otlp {
namespace {

namespace pb_collector = opentelemetry::proto::collector::trace::v1;

constexpr std::string_view kProtobufType = "application/x-protobuf";
constexpr std::string_view kJsonType = "application/json";
constexpr size_t kMaxExperimentIdBytes = 256;

// google.rpc.Code values used by OTLP/HTTP error bodies.
enum class RpcCode : int { invalid_argument = 3, resource_exhausted = 8, internal = 13, unavailable = 14 };

void append_hex64(std::string& out, uint64_t v) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int shift = 60; shift >= 0; shift -= 4) out.push_back(kHex[(v >> shift) & 0xf]);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// An OTLP error: google.rpc.Status in the request's encoding (JSON when it is unknown).
void write_rpc_error(http::Response& res, int http_status, RpcCode code, const std::string& message, Encoding enc) {
  res.status = http_status;
  res.body.clear();
  if (enc == Encoding::protobuf) {
    google::rpc::Status st;
    st.set_code(static_cast<int>(code));
    st.set_message(is_valid_utf8(message) ? message : std::string("invalid request"));
    st.SerializeToString(&res.body);
    res.content_type = std::string(kProtobufType);
  } else {
    JsonWriter w(res.body);
    w.begin_object();
    w.field_int("code", static_cast<int>(code));
    w.field("message", message);
    w.end_object();
    res.content_type = std::string(kJsonType);
  }
}

void write_export_response(http::Response& res, int64_t rejected, const std::string& error_message, Encoding enc) {
  res.status = 200;
  res.body.clear();
  if (enc == Encoding::protobuf) {
    pb_collector::ExportTraceServiceResponse out;
    if (rejected > 0 || !error_message.empty()) {
      out.mutable_partial_success()->set_rejected_spans(rejected);
      out.mutable_partial_success()->set_error_message(error_message);
    }
    out.SerializeToString(&res.body);
    res.content_type = std::string(kProtobufType);
  } else {
    // proto3 JSON mapping: camelCase names, int64 as a decimal string.
    JsonWriter w(res.body);
    w.begin_object();
    if (rejected > 0 || !error_message.empty()) {
      w.key("partialSuccess");
      w.begin_object();
      w.field("rejectedSpans", std::to_string(rejected));
      w.field("errorMessage", error_message);
      w.end_object();
    }
    w.end_object();
    res.content_type = std::string(kJsonType);
  }
}

UnixNanos envelope_time(const Trace& trace) {
  UnixNanos t = 0;
  for (const auto& s : trace.spans) t = std::max({t, s.start_time_unix_nano, s.end_time_unix_nano});
  return t;
}

}  // namespace

std::string otlp_event_id(const Trace& trace) {
  std::vector<std::string_view> ids;
  ids.reserve(trace.spans.size());
  for (const auto& s : trace.spans) ids.push_back(s.span_id);
  std::sort(ids.begin(), ids.end());
  uint64_t span_hash = 0x9e3779b97f4a7c15ull;
  for (auto id : ids) span_hash = xxh64(id, span_hash);
  const uint64_t content_hash = xxh64(to_json(trace), 0x6f746c70ull /* "otlp" */);
  std::string out = "otlp-";
  const std::string_view tid = trace.trace_info.trace_id;
  out.append(tid.starts_with("tr-") ? tid.substr(3) : tid);
  out.push_back('-');
  append_hex64(out, span_hash);
  append_hex64(out, content_hash);
  return out;
}

void handle_otlp_export(const http::Request& req, http::Response& res, EventSink& sink, const OtlpOptions& options) {
  const std::string_view content_type = req.header("content-type");
  const auto enc = encoding_for_content_type(content_type);
  if (!enc) {
    write_rpc_error(res, 415, RpcCode::invalid_argument,
                    "Content-Type: expected application/x-protobuf or application/json, got \"" +
                        std::string(content_type.substr(0, 100)) + "\"",
                    Encoding::json);
    return;
  }

  // cpp-httplib (under http::Server) may already have inflated a gzip body, leaving the header
  // in place: inflate only what still is gzip (neither a protobuf request nor JSON can start
  // with the gzip magic bytes).
  std::string inflated;
  std::string_view body = req.body;
  const std::string encoding = lower(req.header("content-encoding"));
  if (encoding == "gzip" || encoding == "x-gzip") {
    if (is_gzip(body)) {
      auto r = gunzip(body, options.max_decompressed_bytes);
      if (!r.is_ok()) {
        const bool too_large = r.status().code() == ErrorCode::payload_too_large;
        write_rpc_error(res, too_large ? 413 : 400, too_large ? RpcCode::resource_exhausted : RpcCode::invalid_argument,
                        r.status().message(), *enc);
        return;
      }
      inflated = std::move(r).value();
      body = inflated;
    }
  } else if (!encoding.empty() && encoding != "identity") {
    write_rpc_error(res, 415, RpcCode::invalid_argument,
                    "Content-Encoding: expected gzip or identity, got \"" + encoding.substr(0, 100) + "\"", *enc);
    return;
  }
  if (body.size() > options.max_decompressed_bytes) {
    write_rpc_error(res, 413, RpcCode::resource_exhausted,
                    "body: larger than the limit of " + std::to_string(options.max_decompressed_bytes) + " bytes", *enc);
    return;
  }

  DecodeOptions decode;
  decode.preview_max_bytes = options.preview_max_bytes;
  const std::string_view experiment = req.header("x-mlflow-experiment-id");
  if (experiment.size() > kMaxExperimentIdBytes || !is_valid_utf8(experiment)) {
    write_rpc_error(res, 400, RpcCode::invalid_argument,
                    "x-mlflow-experiment-id: expected at most " + std::to_string(kMaxExperimentIdBytes) + " bytes of UTF-8",
                    *enc);
    return;
  }
  decode.experiment_id = std::string(experiment);

  auto decoded = decode_export_request(body, *enc, decode);
  if (!decoded.is_ok()) {
    const bool too_large = decoded.status().code() == ErrorCode::payload_too_large;
    write_rpc_error(res, too_large ? 413 : 400, too_large ? RpcCode::resource_exhausted : RpcCode::invalid_argument,
                    decoded.status().message(), *enc);
    return;
  }
  DecodedExport& out = decoded.value();

  std::vector<Envelope> envelopes;
  envelopes.reserve(out.traces.size());
  for (auto& trace : out.traces) {
    Envelope e;
    e.event_id = otlp_event_id(trace);
    e.type = EventType::trace;
    e.time = envelope_time(trace);
    e.payload = std::move(trace);
    envelopes.push_back(std::move(e));
  }
  int64_t rejected = out.rejected_spans;
  std::string error_message = std::move(out.error_message);
  if (!envelopes.empty()) {
    const std::vector<Status> results = sink.publish(envelopes);
    std::string retry_reason;
    for (size_t i = 0; i < envelopes.size(); ++i) {
      const Status st = i < results.size() ? results[i] : Status::internal("sink returned fewer results than envelopes");
      if (st.is_ok()) continue;
      const auto code = st.code();
      if (code == ErrorCode::invalid_argument || code == ErrorCode::payload_too_large) {
        // Refused for its content: retrying cannot help; report it as rejected.
        rejected += static_cast<int64_t>(envelopes[i].trace().spans.size());
        if (!error_message.empty()) error_message += "; ";
        error_message += "trace " + envelopes[i].trace().trace_info.trace_id + ": " + st.message();
      } else if (retry_reason.empty()) {
        retry_reason = st.message();
      }
    }
    if (!retry_reason.empty()) {
      // Some traces were not durably accepted: the exporter retries the whole batch, and the
      // ones already published are deduplicated by event_id.
      write_rpc_error(res, 503, RpcCode::unavailable, "not accepted, retry later: " + retry_reason, *enc);
      res.headers.emplace_back("Retry-After", std::to_string(options.retry_after_seconds));
      return;
    }
  }
  write_export_response(res, rejected, error_message, *enc);
}

void register_otlp_routes(http::Server& server, EventSink& sink, OtlpOptions options) {
  server.route("POST", "/v1/traces", [&sink, options](const http::Request& req, http::Response& res) {
    handle_otlp_export(req, res, sink, options);
  });
}

}  // namespace tracefeed::otlp
