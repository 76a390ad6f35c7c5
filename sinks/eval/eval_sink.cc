#include "sinks/eval/eval_sink.h"

#include <spdlog/spdlog.h>

#include <map>

#include "core/event_json.h"
#include "core/ids.h"
#include "core/json_tree.h"
#include "core/json_writer.h"
#include "core/time_format.h"
#include "kafka/advisory_commit.h"
#include "kafka/consumer.h"
#include "kafka/dead_letter.h"
#include "kafka/producer.h"
#include "state/store.h"

namespace tracefeed::eval {

Result<EvalAdd> parse_eval_record(std::string_view json) {
  auto v = parse_json(json);
  if (!v.is_ok()) return v.status();
  if (!v->is_object()) return Status::invalid_argument("eval record: expected a JSON object");
  const JsonTree* type = v->find("type");
  if (!type || !type->is_string() || type->as_string() != "eval_record") {
    return Status::invalid_argument("type: expected \"eval_record\"");
  }
  const JsonTree* dataset = v->find("dataset");
  if (!dataset || !dataset->is_string()) return Status::invalid_argument("dataset: required string");
  TF_RETURN_IF_ERROR(validate_dataset_name(dataset->as_string(), "dataset"));
  const JsonTree* trace_id = v->find("trace_id");
  if (!trace_id || !trace_id->is_string() || !is_trace_id(trace_id->as_string())) {
    return Status::invalid_argument("trace_id: expected \"tr-\" + 32 lowercase hex");
  }
  EvalAdd add;
  add.dataset = dataset->as_string();
  add.trace_id = trace_id->as_string();
  add.origin.via = RecordOrigin::Via::eval_topic;
  if (const JsonTree* rule = v->find("rule"); rule && rule->is_string()) add.origin.rule = rule->as_string();
  return add;
}

EvalSink::EvalSink(EvalSinkOptions options, kafka::ClientOptions client, DatasetStore& datasets, state::Store& store,
                   kafka::Producer* producer, Clock& clock)
    : _options(std::move(options)),
      _client(std::move(client)),
      _datasets(datasets),
      _store(store),
      _producer(producer),
      _clock(clock) {}

EvalSink::~EvalSink() { stop(); }

Status EvalSink::start() {
  if (_options.topic.empty()) return Status::invalid_argument("eval sink: topic is required");
  if (_options.cluster_id.empty()) return Status::invalid_argument("eval sink: cluster_id is required");
  kafka::ConsumerOptions co;
  co.client = _client;
  co.client.client_id = "tracefeed-eval-sink";
  co.group_id = _options.group_id;
  co.read_committed = true;
  TF_ASSIGN_OR_RETURN(_consumer, kafka::Consumer::create(co));
  // The group's offsets serve the lag metric only (RocksDB holds the real ones).
  _committer = std::make_unique<kafka::AdvisoryCommitter>(*_consumer, /*commit_watermark_when_idle=*/true);
  kafka::RebalanceHandlers handlers;
  // Owner thread, inside poll_batch: a revoked partition's offsets are its new owner's to commit.
  handlers.on_revoke = [this](std::span<const kafka::TopicPartition> parts) {
    for (const auto& p : parts) _committer->forget(p.topic, p.partition);
  };
  // Runs on the owner thread inside poll_batch: resume from the offsets stored with the
  // datasets they produced, never from the group's advisory commit.
  handlers.on_assign = [this](std::span<const kafka::TopicPartition> parts) {
    std::vector<kafka::TopicPartitionOffset> out;
    auto stored = _store.stored_offsets(_options.cluster_id);
    if (!stored.is_ok()) {
      spdlog::error("eval sink: reading stored offsets: {}", stored.status().to_string());
      return out;
    }
    for (const auto& p : parts) {
      auto it = stored->find(state::TopicPartition{p.topic, p.partition});
      out.push_back({p.topic, p.partition, it != stored->end() ? it->second : kafka::kOffsetBeginning});
    }
    return out;
  };
  TF_RETURN_IF_ERROR(_consumer->subscribe({_options.topic}, std::move(handlers)));
  _stopping = false;
  _thread = std::thread([this] { run(); });
  return Status::ok();
}

void EvalSink::stop() {
  _stopping = true;
  if (_thread.joinable()) _thread.join();
  if (_consumer) {
    (void)_consumer->close();
    _committer.reset();
    _consumer.reset();
  }
}

Status EvalSink::last_error() const {
  std::lock_guard lock(_mu);
  return _error;
}

void EvalSink::fail(const Status& s) {
  spdlog::critical("eval sink: stopping: {}", s.to_string());
  std::lock_guard lock(_mu);
  _error = s;
}

void EvalSink::run() {
  while (!_stopping) {
    auto polled = _consumer->poll_batch(_options.max_batch, _options.poll_timeout);
    if (!polled.is_ok()) {
      // Consumer errors (a broker going away) are transient for librdkafka: log and go on.
      spdlog::warn("eval sink: poll: {}", polled.status().to_string());
    } else if (!polled->empty()) {
      if (Status s = process(*polled); !s.is_ok()) return fail(s);
    } else {
      advisory_commit(true);
    }
    // Traces that changed after they joined a dataset (marked by the join's batch writer).
    auto refreshed = _datasets.refresh_dirty();
    if (!refreshed.is_ok()) return fail(refreshed.status());
  }
}

Status EvalSink::process(std::vector<kafka::Message>& records) {
  std::vector<EvalAdd> adds;
  adds.reserve(records.size());
  std::map<std::pair<std::string_view, int32_t>, int64_t> next_offsets;
  uint64_t rejected = 0;
  for (const auto& m : records) {
    next_offsets[{m.topic(), m.partition()}] = m.offset() + 1;
    auto add = parse_eval_record(m.value());
    if (!add.is_ok()) {
      ++rejected;
      dead_letter(m, add.status());
      continue;
    }
    add->origin.topic = std::string(m.topic());
    add->origin.partition = m.partition();
    add->origin.offset = m.offset();
    adds.push_back(std::move(add).value());
  }
  std::vector<ConsumedOffset> offsets;
  for (const auto& [tp, offset] : next_offsets) offsets.push_back({std::string(tp.first), tp.second, offset});
  TF_ASSIGN_OR_RETURN(auto changes, _datasets.apply_eval_batch(adds, _options.cluster_id, offsets));
  _stats.consumed += records.size();
  _stats.applied += adds.size();
  _stats.rejected += rejected;
  ++_stats.batches;
  for (const auto& c : changes) {
    if (c.changed) spdlog::debug("eval sink: dataset {} version {}: +{} ~{}", c.dataset, c.version, c.added, c.updated);
  }

  for (const auto& o : offsets) _committer->applied(o.topic, o.partition, o.next_offset);
  advisory_commit(false);
  return Status::ok();
}

void EvalSink::advisory_commit(bool idle) {
  if (Status s = _committer->maybe_commit(idle); !s.is_ok()) spdlog::debug("eval sink: advisory commit: {}", s.to_string());
}

void EvalSink::dead_letter(const kafka::Message& m, const Status& why) {
  spdlog::debug("eval sink: rejected {}/{}@{}: {}", m.topic(), m.partition(), m.offset(), why.to_string());
  if (!_producer || _options.dead_letter_topic.empty()) return;
  const std::string record = kafka::dead_letter_record(
      m, why, std::chrono::duration_cast<std::chrono::nanoseconds>(_clock.now().time_since_epoch()).count());
  if (Status s = _producer->produce(_options.dead_letter_topic, m.key(), record); !s.is_ok()) {
    spdlog::warn("eval sink: dead-letter: {}", s.to_string());
  }
}

}  // namespace tracefeed::eval
