#include "producers/publish/kafka_event_sink.h"

#include <prometheus/counter.h>

#include "core/event_json.h"
#include "core/json_writer.h"
#include "core/time_format.h"
#include "kafka/producer.h"
#include "metrics/metrics.h"

namespace tracefeed::publish {
namespace {

int64_t unix_ns(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock.now().time_since_epoch()).count();
}

// Per-thread scratch reused across publish() calls, so a warm HTTP worker serializes a batch
// without allocating: one arena holds every record's bytes (views are taken once it stops
// growing), the other vectors keep their capacity.
struct Scratch {
  std::string arena;
  std::vector<size_t> ends;                   // arena offset where record i ends
  std::vector<size_t> index;                  // envelope index of record i
  std::vector<DedupWindow::Key> keys;         // per envelope
  std::vector<int> role;                      // per envelope: -1 owner, -2 acknowledged, >=0 alias of that index
  std::vector<kafka::ProduceRecord> records;
};

}  // namespace

Status publish_status_from_delivery(const Status& delivery) {
  switch (delivery.code()) {
    case ErrorCode::ok: return Status::ok();
    case ErrorCode::payload_too_large:
    case ErrorCode::invalid_argument: return delivery;
    default: return Status::unavailable("not acknowledged by Kafka: " + delivery.message());
  }
}

KafkaEventSink::KafkaEventSink(kafka::Producer& producer, Topics topics, Clock& clock, KafkaEventSinkOptions options,
                               metrics::Metrics* metrics)
    : _producer(producer),
      _topics(std::move(topics)),
      _clock(clock),
      _options(options),
      _dedup(options.dedup, clock) {
  if (metrics) {
    for (EventType t : {EventType::trace, EventType::assessment, EventType::assessment_update, EventType::assessment_delete}) {
      _ingested[static_cast<size_t>(t)] = &metrics->events_ingested(t);
    }
    _rejected_unavailable = &metrics->events_rejected("unavailable");
    _rejected_failed = &metrics->events_rejected("publish_failed");
  }
}

const std::string& KafkaEventSink::topic_for(EventType type) const noexcept {
  return type == EventType::trace ? _topics.traces : _topics.assessments;
}

std::vector<Status> KafkaEventSink::publish(std::span<const Envelope> events) {
  thread_local Scratch s;
  const size_t n = events.size();
  std::vector<Status> out(n);
  if (n == 0) return out;
  const auto deadline = std::chrono::steady_clock::now() + _options.ack_timeout;

  // 1. Claim every event id. Duplicates inside one call alias the first occurrence (claiming
  //    twice would make the call wait on itself).
  s.keys.resize(n);
  s.role.assign(n, -1);
  for (size_t i = 0; i < n; ++i) {
    if (events[i].event_id.empty() || !_dedup.enabled()) continue;
    s.keys[i] = DedupWindow::key_of(events[i].event_id);
    for (size_t j = 0; j < i; ++j) {
      if (s.role[j] != -3 && !events[j].event_id.empty() && s.keys[j] == s.keys[i]) {
        s.role[i] = static_cast<int>(j);
        break;
      }
    }
    if (s.role[i] >= 0) continue;
    Result<DedupWindow::Claim> c = _dedup.claim(s.keys[i], deadline);
    if (!c.is_ok()) {
      out[i] = c.status();
      s.role[i] = -3;  // failed to claim: neither produced nor finished
    } else if (*c == DedupWindow::Claim::acknowledged) {
      s.role[i] = -2;
    }
  }

  // 2. Serialize what this call owns into the arena, then point records at it.
  s.arena.clear();
  s.ends.clear();
  s.index.clear();
  for (size_t i = 0; i < n; ++i) {
    if (s.role[i] != -1) continue;
    JsonWriter w(s.arena);  // a fresh writer per record: each record is its own JSON document
    write_json(w, events[i]);
    s.ends.push_back(s.arena.size());
    s.index.push_back(i);
  }
  s.records.clear();
  size_t begin = 0;
  for (size_t r = 0; r < s.index.size(); ++r) {
    const Envelope& e = events[s.index[r]];
    s.records.push_back(kafka::ProduceRecord{topic_for(e.type), e.trace_id(),
                                             std::string_view(s.arena).substr(begin, s.ends[r] - begin), std::nullopt});
    begin = s.ends[r];
  }

  // 3. Produce and wait for the acknowledgements.
  if (!s.records.empty()) {
    std::vector<kafka::DeliveryReport> reports = _producer.produce_batch(s.records, _options.ack_timeout);
    uint64_t produced = 0;
    uint64_t produced_by_type[4] = {};
    for (size_t r = 0; r < s.index.size(); ++r) {
      const size_t i = s.index[r];
      out[i] = publish_status_from_delivery(reports[r].status);
      if (out[i].is_ok()) {
        ++produced;
        ++produced_by_type[static_cast<size_t>(events[i].type)];
      }
      if (!events[i].event_id.empty()) _dedup.finish(s.keys[i], out[i]);
    }
    _stats.produced.fetch_add(produced, std::memory_order_relaxed);
    for (size_t t = 0; t < 4; ++t) {
      if (produced_by_type[t] && _ingested[t]) _ingested[t]->Increment(static_cast<double>(produced_by_type[t]));
    }
  }

  // 4. Duplicates: acknowledged earlier, or share the first occurrence's fate.
  uint64_t dedup = 0, failed = 0, unavailable = 0;
  for (size_t i = 0; i < n; ++i) {
    if (s.role[i] == -2) ++dedup;
    else if (s.role[i] >= 0) {
      out[i] = out[static_cast<size_t>(s.role[i])];
      ++dedup;
    }
    if (!out[i].is_ok()) {
      ++failed;
      if (out[i].code() == ErrorCode::unavailable) ++unavailable;
    }
  }
  _stats.deduplicated.fetch_add(dedup, std::memory_order_relaxed);
  _stats.failed.fetch_add(failed, std::memory_order_relaxed);
  if (_rejected_unavailable) {
    if (unavailable) _rejected_unavailable->Increment(static_cast<double>(unavailable));
    if (failed > unavailable) _rejected_failed->Increment(static_cast<double>(failed - unavailable));
  }
  return out;
}

void KafkaEventSink::dead_letter(std::string_view reason, const Status& error, std::string_view raw) {
  if (!_options.dead_letter_enabled) return;
  thread_local std::string buf;
  buf.clear();
  JsonWriter w(buf);
  w.begin_object();
  w.field("reason", reason);
  w.field("error_code", error_code_name(error.code()));
  w.field("message", error.message());
  const bool truncated = raw.size() > _options.dead_letter_raw_max_bytes;
  std::string_view kept = raw.substr(0, _options.dead_letter_raw_max_bytes);
  if (is_valid_utf8(raw)) {
    while (truncated && !kept.empty() && (static_cast<unsigned char>(raw[kept.size()]) & 0xC0) == 0x80) {
      kept.remove_suffix(1);  // do not cut a UTF-8 sequence in half
    }
    w.field("raw", kept);
  } else {
    // The JSON writer needs valid UTF-8; keep refused bytes losslessly as hex instead.
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(kept.size() * 2);
    for (unsigned char c : kept) {
      hex.push_back(kHex[c >> 4]);
      hex.push_back(kHex[c & 15]);
    }
    w.field("raw_hex", hex);
  }
  if (truncated) w.field_int("raw_bytes", static_cast<int64_t>(raw.size()));
  std::string time;
  append_rfc3339(time, unix_ns(_clock));
  w.field("time", time);
  w.end_object();
  // Fire and forget: the client already has its 4xx; a full queue only costs the record.
  if (_producer.produce(_topics.dead_letter, {}, buf).is_ok()) {
    _stats.dead_lettered.fetch_add(1, std::memory_order_relaxed);
  } else {
    _stats.dead_letter_dropped.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace tracefeed::publish
