#include "producers/sdk/feedback_writer.h"

#include <array>
#include <cstring>
#include <random>
#include <string>

#include "core/event_json.h"
#include "core/ids.h"
#include "core/json_writer.h"
#include "core/time_format.h"

namespace tracefeed::detail {
namespace {

// Per-thread, reused.
struct FeedbackWriter {
  IdGenerator ids{[] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }()};
  std::string json;
  std::string time;
  // RFC 3339 up to the seconds ("2024-06-01T12:00:00") of `prefix_second`: events come many per
  // second, so only the fraction is formatted per event.
  std::string prefix;
  int64_t prefix_second = -1;
};

// RFC 3339 of `time` (> 0), exactly as core's append_rfc3339 writes it: UTC, 0, 3, 6 or 9
// fractional digits (protobuf's JSON mapping), 'Z'.
void format_time(FeedbackWriter& w, UnixNanos time) {
  constexpr int64_t kNsPerSec = 1'000'000'000;
  const int64_t second = time / kNsPerSec;
  auto nanos = static_cast<uint32_t>(time % kNsPerSec);
  if (second != w.prefix_second) {
    w.prefix.clear();
    append_rfc3339(w.prefix, second * kNsPerSec);  // a whole second: no fraction
    w.prefix.pop_back();                           // the 'Z'
    w.prefix_second = second;
  }
  w.time.assign(w.prefix);
  if (nanos != 0) {
    int digits = 9;
    if (nanos % 1'000'000 == 0) {
      nanos /= 1'000'000;
      digits = 3;
    } else if (nanos % 1'000 == 0) {
      nanos /= 1'000;
      digits = 6;
    }
    char buf[10];
    buf[0] = '.';
    for (int i = digits; i >= 1; --i, nanos /= 10) buf[i] = static_cast<char>('0' + nanos % 10);
    w.time.append(buf, static_cast<size_t>(digits) + 1);
  }
  w.time.push_back('Z');
}

// Two lowercase hex digits per byte value: a byte per lookup instead of a nibble.
constexpr auto kHexPairs = [] {
  std::array<char, 512> t{};
  constexpr char kHex[] = "0123456789abcdef";
  for (int b = 0; b < 256; ++b) {
    t[2 * b] = kHex[b >> 4];
    t[2 * b + 1] = kHex[b & 0xf];
  }
  return t;
}();

// 32 random lowercase hex digits (128 bits), as core's IdGenerator makes ids.
void append_hex128(std::string& out, IdGenerator& ids) {
  char buf[32];
  for (int half = 0; half < 2; ++half) {
    uint64_t r = ids.next();
    for (int i = 0; i < 8; ++i, r >>= 8)
      std::memcpy(buf + half * 16 + 2 * i, &kHexPairs[2 * (r & 0xff)], 2);
  }
  out.append(buf, sizeof(buf));
}

void append_string(std::string& out, std::string_view s) {
  JsonWriter::append_escaped(out, s);
}

// A string plainly_valid() proved to be ids-only characters (hex, '-'): nothing to escape.
void append_plain(std::string& out, std::string_view s) {
  out.push_back('"');
  out.append(s);
  out.push_back('"');
}

}  // namespace

bool plainly_valid(const FeedbackView& f) noexcept {
  if (!is_trace_id(f.trace_id)) return false;
  if (f.name.empty() || f.name.size() > kMaxNameBytes || f.name.find('.') != std::string_view::npos)
    return false;
  if (!f.span_id.empty() && !is_span_id(f.span_id)) return false;
  if (!f.overrides.empty() && !is_assessment_id(f.overrides)) return false;
  if (f.rationale.size() > kMaxRationaleBytes) return false;
  if (f.source.source_id.size() > kMaxNameBytes) return false;
  if (f.value.is_null()) {
    if (!f.error) return false;
  } else if (f.value.text().size() > kMaxAssessmentValueBytes) {
    return false;
  }
  if (f.error && f.error->error_code.empty()) return false;
  return true;
}

std::optional<WrittenFeedback> write_feedback_envelope(const FeedbackView& f, UnixNanos time) {
  // Zero is omitted by core, times before 1970 are rare: both take the general path.
  if (time <= 0 || !plainly_valid(f)) return std::nullopt;
  thread_local FeedbackWriter w;
  std::string& out = w.json;
  out.clear();
  format_time(w, time);  // once for the three timestamps

  // Field order and omissions follow write_json(Envelope) and write_json(Assessment).
  out += R"({"event_id":")";
  const size_t event_id_at = out.size();
  append_hex128(out, w.ids);
  out += R"(","type":"assessment","time":")";
  out += w.time;
  out += R"(","assessment":{"assessment_id":")";
  const size_t assessment_id_at = out.size();
  out += "a-";
  append_hex128(out, w.ids);
  out += R"(","assessment_name":)";
  append_string(out, f.name);
  out += R"(,"trace_id":)";
  append_plain(out, f.trace_id);
  if (!f.span_id.empty()) {
    out += R"(,"span_id":)";
    append_plain(out, f.span_id);
  }
  const bool default_source =
      f.source.source_type == SourceType::unspecified && f.source.source_id.empty();
  out += R"(,"source":{"source_type":")";
  out += to_string(default_source ? SourceType::code : f.source.source_type);
  out += R"(","source_id":)";
  append_string(
      out, default_source ? std::string_view("default") : std::string_view(f.source.source_id));
  out += R"(},"create_time":")";
  out += w.time;
  out += R"(","last_update_time":")";
  out += w.time;
  out += R"(","feedback":{)";
  if (!f.value.is_null()) {
    out += R"("value":)";
    out += f.value.text();
  }
  if (f.error) {
    if (!f.value.is_null()) out += ',';
    out += R"("error":{"error_code":)";
    append_string(out, f.error->error_code);
    if (!f.error->error_message.empty()) {
      out += R"(,"error_message":)";
      append_string(out, f.error->error_message);
    }
    out += '}';
  }
  out += '}';
  if (!f.rationale.empty()) {
    out += R"(,"rationale":)";
    append_string(out, f.rationale);
  }
  if (!f.metadata.empty()) {
    out += R"(,"metadata":{)";
    bool first = true;
    for (const auto& [k, v] : f.metadata) {
      if (!first) out += ',';
      first = false;
      append_string(out, k);
      out += ':';
      append_string(out, v);
    }
    out += '}';
  }
  if (!f.overrides.empty()) {
    out += R"(,"overrides":)";
    append_plain(out, f.overrides);
  }
  out += R"(,"valid":true}})";

  WrittenFeedback written;
  written.event.type = EventType::assessment;
  written.event.time = time;
  written.event.event_id = std::string_view(out).substr(event_id_at, 32);
  written.event.trace_id = f.trace_id;
  written.event.json = out;
  written.assessment_id = std::string_view(out).substr(assessment_id_at, 34);
  return written;
}

}  // namespace tracefeed::detail
