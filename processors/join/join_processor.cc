#include "processors/join/join_processor.h"

#include <spdlog/spdlog.h>

#include <unordered_set>

#include "core/event_json.h"
#include "core/json_writer.h"
#include "core/time_format.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "processors/route/router.h"
#include "state/store.h"
#include "state/write_batch.h"

namespace tracefeed::join {

JoinProcessor::JoinProcessor(JoinProcessorOptions options, kafka::ClientOptions client, state::Store& store,
                             kafka::Producer* producer, route::Router* router, Clock& clock)
    : _options(std::move(options)),
      _client(std::move(client)),
      _store(store),
      _producer(producer),
      _router(router),
      _clock(clock) {}

JoinProcessor::~JoinProcessor() { stop(); }

Status JoinProcessor::start() {
  if (_options.cluster_id.empty()) return Status::invalid_argument("join: cluster_id is required");
  int64_t pending = 0;
  TF_RETURN_IF_ERROR(_store.scan_prefix(state::Family::pending, "", [&](std::string_view, std::string_view) {
    ++pending;
    return true;
  }));
  _stats.pending_assessments = pending;

  kafka::ConsumerOptions co;
  co.client = _client;
  co.client.client_id = "tracefeed-join";
  co.group_id = _options.group_id;
  TF_ASSIGN_OR_RETURN(_consumer, kafka::Consumer::create(co));
  kafka::RebalanceHandlers handlers;
  // Runs on the owner thread inside poll_batch: resume each partition from the offset stored
  // with the state it produced, never from the group's (advisory) commit.
  handlers.on_assign = [this](std::span<const kafka::TopicPartition> parts) {
    std::vector<kafka::TopicPartitionOffset> out;
    auto stored = _store.stored_offsets(_options.cluster_id);
    if (!stored.is_ok()) {
      spdlog::error("join: reading stored offsets: {}", stored.status().to_string());
      return out;
    }
    for (const auto& p : parts) {
      auto it = stored->find(state::TopicPartition{p.topic, p.partition});
      // No stored offset for this cluster: start from the beginning of the log, not from a
      // group commit that may belong to state we no longer have.
      out.push_back({p.topic, p.partition, it != stored->end() ? it->second : kafka::kOffsetBeginning});
    }
    spdlog::info("join: assigned {} partitions", parts.size());
    return out;
  };
  TF_RETURN_IF_ERROR(_consumer->subscribe({_options.topics.traces, _options.topics.assessments}, std::move(handlers)));
  _stopping = false;
  _thread = std::thread([this] { run(); });
  return Status::ok();
}

void JoinProcessor::stop() {
  _stopping = true;
  if (_thread.joinable()) _thread.join();
  if (_consumer) {
    (void)_consumer->close();
    _consumer.reset();
  }
}

int64_t JoinProcessor::applied_offset(const std::string& topic, int32_t partition) const {
  std::lock_guard lock(_mu);
  auto it = _applied.find({topic, partition});
  return it == _applied.end() ? 0 : it->second;
}

Status JoinProcessor::last_error() const {
  std::lock_guard lock(_mu);
  return _error;
}

void JoinProcessor::run() {
  while (!_stopping) {
    auto polled = _consumer->poll_batch(_options.max_batch, _options.poll_timeout);
    if (!polled.is_ok()) {
      // Consumer errors (e.g. a broker going away) are transient for librdkafka: log and go on.
      spdlog::warn("join: poll: {}", polled.status().to_string());
      continue;
    }
    if (polled->empty()) continue;
    if (Status s = process(*polled); !s.is_ok()) {
      // A state write failed: stop rather than skip events. The stored offsets still point at
      // this batch, so a restart retries it.
      spdlog::critical("join: stopping: {}", s.to_string());
      std::lock_guard lock(_mu);
      _error = s;
      return;
    }
  }
}

Status JoinProcessor::process(std::vector<kafka::Message>& records) {
  state::WriteBatch batch(_store);
  // Keyed by views into the records' topic names (the records outlive this function's use of
  // them): no allocation per record, only per partition when offsets are stored.
  std::map<std::pair<std::string_view, int32_t>, int64_t> next_offsets;
  int64_t pending_delta = 0;
  uint64_t applied = 0, duplicates = 0, malformed = 0, unapplied = 0;
  std::vector<std::string> touched;  // traces whose state changed, in first-touch order
  std::unordered_set<std::string> touched_set;
  int64_t last_time_ns = 0;
  for (const auto& m : records) {
    next_offsets[{m.topic(), m.partition()}] = m.offset() + 1;
    if (Status s = _parser.parse_envelope(m.value(), _envelope); !s.is_ok()) {
      ++malformed;
      dead_letter(m, s);
      continue;
    }
    const int64_t record_time_ns = m.timestamp_ms() > 0 ? m.timestamp_ms() * 1'000'000 : 0;
    ApplyResult r = _joiner.apply(_envelope, record_time_ns, batch);
    switch (r.kind) {
      case ApplyResult::Kind::applied:
        ++applied;
        last_time_ns = _envelope.time != 0 ? _envelope.time : record_time_ns;
        if (touched_set.insert(_envelope.trace_id()).second) touched.push_back(_envelope.trace_id());
        break;
      case ApplyResult::Kind::duplicate: ++duplicates; break;
      case ApplyResult::Kind::rejected:
        if (r.error.code() == ErrorCode::io_error || r.error.code() == ErrorCode::corruption) return r.error;
        ++unapplied;
        dead_letter(m, r.error);
        break;
    }
    pending_delta += r.pending_delta;
  }
  if (_router && !touched.empty()) TF_RETURN_IF_ERROR(route_touched(touched, last_time_ns, batch));
  for (const auto& [tp, offset] : next_offsets) batch.set_offset(_options.cluster_id, tp.first, tp.second, offset);
  TF_RETURN_IF_ERROR(_store.write(batch));

  _stats.applied += applied;
  _stats.duplicates += duplicates;
  _stats.rejected_malformed += malformed;
  _stats.rejected_apply += unapplied;
  _stats.pending_assessments += pending_delta;
  ++_stats.batches;
  {
    std::lock_guard lock(_mu);
    for (const auto& [tp, offset] : next_offsets) _applied[{std::string(tp.first), tp.second}] = offset;
  }
  const int64_t now = _clock.monotonic_ns();
  if (now - _last_commit_ns > 1'000'000'000) {
    _last_commit_ns = now;
    std::vector<kafka::TopicPartitionOffset> commits;
    for (const auto& [tp, offset] : next_offsets) commits.push_back({std::string(tp.first), tp.second, offset});
    if (Status s = _consumer->commit(commits); !s.is_ok()) spdlog::debug("join: advisory commit: {}", s.to_string());
  }
  return Status::ok();
}

Status JoinProcessor::route_touched(const std::vector<std::string>& touched, int64_t time_ns, state::WriteBatch& batch) {
  std::vector<route::Output> outputs;
  Trace joined;
  for (const auto& trace_id : touched) {
    bool present = false;
    TF_RETURN_IF_ERROR(_joiner.load_joined(batch, trace_id, joined, present));
    TF_RETURN_IF_ERROR(_router->route(joined, present, time_ns, batch, outputs));
  }
  if (outputs.empty() || !_producer) return Status::ok();
  std::vector<kafka::ProduceRecord> records;
  records.reserve(outputs.size());
  for (const auto& o : outputs) records.push_back({o.topic, o.key, o.value, std::nullopt});
  // At-least-once: outputs are acknowledged before the decisions and offsets are written. While
  // Kafka refuses them, wait and retry (backpressure on the join) — never drop and move on.
  for (int attempt = 0;; ++attempt) {
    auto reports = _producer->produce_batch(records, std::chrono::seconds(30));
    std::vector<kafka::ProduceRecord> failed;
    Status first_error;
    for (size_t i = 0; i < reports.size(); ++i) {
      if (!reports[i].status.is_ok()) {
        failed.push_back(records[i]);
        if (first_error.is_ok()) first_error = reports[i].status;
      }
    }
    if (failed.empty()) break;
    if (_stopping) return Status::unavailable("join: stopping with unacknowledged outputs: " + first_error.to_string());
    spdlog::warn("join: {} routed outputs not acknowledged ({}); retrying", failed.size(), first_error.to_string());
    records = std::move(failed);
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(1000, 50 << std::min(attempt, 4))));
  }
  _stats.routed_outputs += outputs.size();
  return Status::ok();
}

void JoinProcessor::dead_letter(const kafka::Message& m, const Status& why) {
  if (!_producer) return;
  std::string record;
  JsonWriter w(record);
  w.begin_object();
  w.field("reason", error_code_name(why.code()));
  w.field("message", why.message());
  w.field("source_topic", m.topic());
  w.field_int("source_partition", m.partition());
  w.field_int("source_offset", m.offset());
  w.field("time", format_rfc3339(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     _clock.now().time_since_epoch()).count()));
  // The raw record, truncated: enough to find and fix the producer, bounded in size.
  std::string_view raw = m.value().substr(0, 4096);
  if (is_valid_utf8(raw)) w.field("raw", raw);
  w.end_object();
  if (Status s = _producer->produce(_options.topics.dead_letter, m.key(), record); !s.is_ok()) {
    spdlog::warn("join: dead-letter: {}", s.to_string());
  }
}

}  // namespace tracefeed::join
