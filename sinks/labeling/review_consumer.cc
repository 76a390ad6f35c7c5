#include "sinks/labeling/review_consumer.h"

#include <spdlog/spdlog.h>

#include <vector>

#include "kafka/advisory_commit.h"
#include "kafka/consumer.h"
#include "sinks/labeling/labeling_service.h"
#include "state/store.h"

namespace tracefeed::labeling {

ReviewConsumer::ReviewConsumer(ReviewConsumerOptions options, kafka::ClientOptions client,
                               state::Store& store, LabelingService& service)
    : _options(std::move(options)), _client(std::move(client)), _store(store), _service(service) {}

ReviewConsumer::~ReviewConsumer() {
  stop();
}

Status ReviewConsumer::start() {
  if (_options.topic.empty()) return Status::invalid_argument("labeling: review topic is required");
  if (_options.cluster_id.empty())
    return Status::invalid_argument("labeling: cluster_id is required");
  kafka::ConsumerOptions co;
  co.client = _client;
  co.client.client_id = "tracefeed-labeling";
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
  // Runs on the owner thread inside poll_batch: resume from the offsets stored with the items.
  handlers.on_assign = [this](std::span<const kafka::TopicPartition> parts) {
    std::vector<kafka::TopicPartitionOffset> out;
    auto stored = _store.stored_offsets(_options.cluster_id);
    if (!stored.is_ok()) {
      spdlog::error("labeling: reading stored offsets: {}", stored.status().to_string());
      return out;
    }
    for (const auto& p : parts) {
      auto it = stored->find(state::TopicPartition{p.topic, p.partition});
      // Nothing stored for this cluster: read the whole retained log (items are idempotent), not
      // from a group commit that may belong to state we no longer have.
      out.push_back(
          {p.topic, p.partition, it != stored->end() ? it->second : kafka::kOffsetBeginning});
    }
    spdlog::info("labeling: assigned {} partitions of {}", parts.size(), _options.topic);
    return out;
  };
  TF_RETURN_IF_ERROR(_consumer->subscribe({_options.topic}, std::move(handlers)));
  _stopping = false;
  _thread = std::thread([this] { run(); });
  return Status::ok();
}

void ReviewConsumer::stop() {
  _stopping = true;
  if (_thread.joinable()) _thread.join();
  if (_consumer) {
    (void)_consumer->close();
    _committer.reset();
    _consumer.reset();
  }
}

int64_t ReviewConsumer::applied_offset(int32_t partition) const {
  std::lock_guard lock(_mu);
  auto it = _applied.find(partition);
  return it == _applied.end() ? 0 : it->second;
}

Status ReviewConsumer::last_error() const {
  std::lock_guard lock(_mu);
  return _error;
}

void ReviewConsumer::run() {
  while (!_stopping) {
    auto polled = _consumer->poll_batch(_options.max_batch, _options.poll_timeout);
    if (!polled.is_ok()) {
      // Consumer errors (a broker going away, the topic not created yet) are transient.
      spdlog::warn("labeling: poll: {}", polled.status().to_string());
      continue;
    }
    if (polled->empty()) {
      advisory_commit(true);
      continue;
    }
    if (Status s = process(*polled); !s.is_ok()) {
      spdlog::critical("labeling: review consumer stopping: {}", s.to_string());
      std::lock_guard lock(_mu);
      _error = s;
      return;
    }
  }
}

Status ReviewConsumer::process(std::vector<kafka::Message>& records) {
  std::vector<RoutedItem> items;
  items.reserve(records.size());
  std::map<int32_t, int64_t> next;
  uint64_t malformed = 0;
  for (const auto& m : records) {
    next[m.partition()] = m.offset() + 1;
    auto item = parse_routed_item(m.value());
    if (!item.is_ok()) {
      ++malformed;
      spdlog::warn("labeling: refusing review record at {}[{}]@{}: {}", m.topic(), m.partition(),
                   m.offset(), item.status().message());
      if (_options.dead_letter)
        _options.dead_letter("invalid_review_item", item.status(), m.value());
      continue;
    }
    items.push_back(std::move(item).value());
  }
  std::vector<ConsumedOffset> offsets;
  for (const auto& [partition, offset] : next)
    offsets.push_back({_options.topic, partition, offset});
  TF_RETURN_IF_ERROR(_service.apply_routed(items, _options.cluster_id, offsets));

  _stats.records += items.size();
  _stats.malformed += malformed;
  ++_stats.batches;
  {
    std::lock_guard lock(_mu);
    for (const auto& [partition, offset] : next) _applied[partition] = offset;
  }
  for (const auto& [partition, offset] : next) _committer->applied(_options.topic, partition, offset);
  advisory_commit(false);
  return Status::ok();
}

void ReviewConsumer::advisory_commit(bool idle) {
  if (Status s = _committer->maybe_commit(idle); !s.is_ok()) spdlog::debug("labeling: advisory commit: {}", s.to_string());
}

}  // namespace tracefeed::labeling
