#include "kafka/consumer.h"

#include <librdkafka/rdkafka.h>

#include <cstdio>
#include <cstring>
#include <random>

#include "kafka/rdkafka_config.h"

namespace tracefeed::kafka {
namespace {

int to_ms(std::chrono::milliseconds d) { return static_cast<int>(std::max<std::int64_t>(0, d.count())); }

const rd_kafka_message_t* as_msg(void* p) { return static_cast<const rd_kafka_message_t*>(p); }

std::vector<TopicPartition> partitions_of(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartition> out;
  out.reserve(static_cast<std::size_t>(list->cnt));
  for (int i = 0; i < list->cnt; ++i) out.push_back({list->elems[i].topic, list->elems[i].partition});
  return out;
}

}  // namespace

// ---- Message ----

Message::~Message() {
  if (_msg != nullptr) rd_kafka_message_destroy(static_cast<rd_kafka_message_t*>(_msg));
}
Message::Message(Message&& other) noexcept
    : _msg(std::exchange(other._msg, nullptr)), _owner(std::move(other._owner)) {}
Message& Message::operator=(Message&& other) noexcept {
  if (this != &other) {
    if (_msg != nullptr) rd_kafka_message_destroy(static_cast<rd_kafka_message_t*>(_msg));
    _msg = std::exchange(other._msg, nullptr);
    _owner = std::move(other._owner);
  }
  return *this;
}
std::string_view Message::topic() const { return rd_kafka_topic_name(as_msg(_msg)->rkt); }
std::int32_t Message::partition() const { return as_msg(_msg)->partition; }
std::int64_t Message::offset() const { return as_msg(_msg)->offset; }
std::string_view Message::key() const {
  const auto* m = as_msg(_msg);
  return m->key == nullptr ? std::string_view() : std::string_view(static_cast<const char*>(m->key), m->key_len);
}
std::string_view Message::value() const {
  const auto* m = as_msg(_msg);
  return m->payload == nullptr ? std::string_view()
                               : std::string_view(static_cast<const char*>(m->payload), m->len);
}
std::int64_t Message::timestamp_ms() const {
  rd_kafka_timestamp_type_t type;
  return rd_kafka_message_timestamp(as_msg(_msg), &type);
}

// ---- ConsumerGroupMetadata ----

ConsumerGroupMetadata::~ConsumerGroupMetadata() {
  if (_handle != nullptr) rd_kafka_consumer_group_metadata_destroy(static_cast<rd_kafka_consumer_group_metadata_t*>(_handle));
}
ConsumerGroupMetadata::ConsumerGroupMetadata(ConsumerGroupMetadata&& other) noexcept
    : _handle(std::exchange(other._handle, nullptr)) {}
ConsumerGroupMetadata& ConsumerGroupMetadata::operator=(ConsumerGroupMetadata&& other) noexcept {
  if (this != &other) {
    if (_handle != nullptr) rd_kafka_consumer_group_metadata_destroy(static_cast<rd_kafka_consumer_group_metadata_t*>(_handle));
    _handle = std::exchange(other._handle, nullptr);
  }
  return *this;
}

// ---- Consumer ----

struct Consumer::Impl {
  ConsumerOptions options;
  // Shared with every Message handed out (see Message): rd_kafka_destroy runs when both the
  // Consumer is closed and the last Message is gone.
  std::shared_ptr<rd_kafka_t> rk;
  RebalanceHandlers handlers;
  // An error seen by the rebalance callback or after messages were already collected; returned
  // by the next poll_batch so it is never lost.
  Status pending_error;
  bool closed = false;

  // Thread: owner thread, inside rd_kafka_consumer_poll / rd_kafka_consumer_close.
  void on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) {
    const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk.get()), "COOPERATIVE") == 0;
    Status s;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      if (handlers.on_assign) {
        const std::vector<TopicPartition> assigned = partitions_of(parts);
        for (const TopicPartitionOffset& start : handlers.on_assign(assigned)) {
          rd_kafka_topic_partition_t* e =
              rd_kafka_topic_partition_list_find(parts, start.topic.c_str(), start.partition);
          if (e != nullptr) e->offset = start.offset;
        }
      }
      s = cooperative ? detail::status_from_error(rd_kafka_incremental_assign(rk.get(), parts), "kafka incremental_assign")
                      : detail::status_from_err(rd_kafka_assign(rk.get(), parts), "kafka assign");
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
      if (handlers.on_revoke) handlers.on_revoke(partitions_of(parts));
      s = cooperative ? detail::status_from_error(rd_kafka_incremental_unassign(rk.get(), parts),
                                                  "kafka incremental_unassign")
                      : detail::status_from_err(rd_kafka_assign(rk.get(), nullptr), "kafka unassign");
    } else {
      s = detail::status_from_err(err, "kafka rebalance");
      (void)rd_kafka_assign(rk.get(), nullptr);
    }
    if (!s.is_ok() && pending_error.is_ok()) pending_error = std::move(s);
  }

  static void rebalance_cb(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                           void* opaque) {
    static_cast<Impl*>(opaque)->on_rebalance(err, parts);
  }

  Status check_open() const { return closed ? Status::unavailable("kafka consumer: closed") : Status::ok(); }
};

Result<std::unique_ptr<Consumer>> Consumer::create(ConsumerOptions options) {
  std::vector<std::pair<std::string, std::string>> defaults = {
      {"partition.assignment.strategy", options.assignment_strategy},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "false"},
      {"isolation.level", options.read_committed ? "read_committed" : "read_uncommitted"},
      {"fetch.wait.max.ms", std::to_string(options.fetch_wait_max_ms)},
      {"fetch.min.bytes", std::to_string(options.fetch_min_bytes)},
      {"auto.offset.reset", options.auto_offset_reset},
      {"session.timeout.ms", std::to_string(options.session_timeout_ms)},
      {"queued.max.messages.kbytes", std::to_string(options.queued_max_kbytes)},
      {"max.poll.interval.ms", std::to_string(options.max_poll_interval_ms)},
  };
  if (!options.group_instance_id.empty()) defaults.emplace_back("group.instance.id", options.group_instance_id);
  // librdkafka's consumer needs a group even to assign(); an assign-only consumer gets a private,
  // never-joined one.
  if (options.group_id.empty()) {
    std::random_device rd;
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%08x%08x", rd(), rd());
    defaults.emplace_back("group.id", std::string("tracefeed-assign-only-") + buf);
  } else {
    defaults.emplace_back("group.id", options.group_id);
  }
  TF_ASSIGN_OR_RETURN(detail::ConfPtr conf, detail::make_conf(options.client, defaults));

  auto impl = std::make_unique<Impl>();
  rd_kafka_conf_set_opaque(conf.get(), impl.get());
  rd_kafka_conf_set_rebalance_cb(conf.get(), &Impl::rebalance_cb);
  TF_ASSIGN_OR_RETURN(detail::HandlePtr handle, detail::make_handle(RD_KAFKA_CONSUMER, std::move(conf)));
  impl->rk = std::shared_ptr<rd_kafka_t>(std::move(handle));
  impl->options = std::move(options);
  // Route the main queue (errors, rebalances) to rd_kafka_consumer_poll.
  TF_RETURN_IF_ERROR(detail::status_from_err(rd_kafka_poll_set_consumer(impl->rk.get()), "kafka consumer"));
  return std::unique_ptr<Consumer>(new Consumer(std::move(impl)));
}

Consumer::Consumer(std::unique_ptr<Impl> impl) : _impl(std::move(impl)) {}

Consumer::~Consumer() { (void)close(); }

Status Consumer::subscribe(const std::vector<std::string>& topics, RebalanceHandlers handlers) {
  TF_RETURN_IF_ERROR(_impl->check_open());
  if (_impl->options.group_id.empty()) return Status::invalid_argument("kafka subscribe: group_id is required");
  _impl->handlers = std::move(handlers);
  detail::PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
  for (const auto& t : topics) rd_kafka_topic_partition_list_add(list.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  return detail::status_from_err(rd_kafka_subscribe(_impl->rk.get(), list.get()), "kafka subscribe");
}

Status Consumer::assign(std::span<const TopicPartitionOffset> offsets) {
  TF_RETURN_IF_ERROR(_impl->check_open());
  detail::PartitionListPtr list = detail::to_list(offsets);
  return detail::status_from_err(rd_kafka_assign(_impl->rk.get(), list.get()), "kafka assign");
}

Result<std::vector<TopicPartition>> Consumer::assignment() const {
  TF_RETURN_IF_ERROR(_impl->check_open());
  rd_kafka_topic_partition_list_t* raw = nullptr;
  TF_RETURN_IF_ERROR(detail::status_from_err(rd_kafka_assignment(_impl->rk.get(), &raw), "kafka assignment"));
  detail::PartitionListPtr list(raw);
  return partitions_of(list.get());
}

Result<std::vector<Message>> Consumer::poll_batch(std::size_t max_messages, std::chrono::milliseconds timeout) {
  TF_RETURN_IF_ERROR(_impl->check_open());
  if (!_impl->pending_error.is_ok()) return std::exchange(_impl->pending_error, Status::ok());
  std::vector<Message> out;
  out.reserve(std::min<std::size_t>(max_messages, 1024));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < max_messages) {
    // Wait (up to the deadline) only for the first message; then take what is already fetched.
    int wait_ms = 0;
    if (out.empty()) {
      wait_ms = to_ms(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(_impl->rk.get(), wait_ms);
    if (m == nullptr) {
      if (out.empty() && std::chrono::steady_clock::now() < deadline) continue;  // woke for a rebalance
      break;
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::string what = "kafka consume";
      if (m->rkt != nullptr) what += std::string(" ") + rd_kafka_topic_name(m->rkt) + "/" + std::to_string(m->partition);
      Status s = detail::status_from_err(m->err, what);
      rd_kafka_message_destroy(m);
      if (out.empty()) return s;
      _impl->pending_error = std::move(s);
      break;
    }
    out.emplace_back(m, _impl->rk);
    if (!_impl->pending_error.is_ok()) break;  // a rebalance failed: hand out what we have
  }
  return out;
}

Status Consumer::seek(std::span<const TopicPartitionOffset> offsets, std::chrono::milliseconds timeout) {
  TF_RETURN_IF_ERROR(_impl->check_open());
  if (offsets.empty()) return Status::ok();
  detail::PartitionListPtr list = detail::to_list(offsets);
  if (rd_kafka_error_t* e = rd_kafka_seek_partitions(_impl->rk.get(), list.get(), to_ms(timeout)); e != nullptr) {
    detail::ErrorPtr error(e);
    return Status::unavailable(std::string("kafka seek: ") + rd_kafka_error_string(error.get()));
  }
  for (int i = 0; i < list->cnt; ++i) {
    const auto& e = list->elems[i];
    TF_RETURN_IF_ERROR(detail::status_from_err(e.err, std::string("kafka seek ") + e.topic + "/" + std::to_string(e.partition)));
  }
  return Status::ok();
}

namespace {

detail::PartitionListPtr partition_list(std::span<const TopicPartition> partitions) {
  detail::PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const auto& p : partitions) rd_kafka_topic_partition_list_add(list.get(), p.topic.c_str(), p.partition);
  return list;
}

}  // namespace

Status Consumer::pause(std::span<const TopicPartition> partitions) {
  TF_RETURN_IF_ERROR(_impl->check_open());
  if (partitions.empty()) return Status::ok();
  auto list = partition_list(partitions);
  return detail::status_from_err(rd_kafka_pause_partitions(_impl->rk.get(), list.get()), "kafka pause");
}

Status Consumer::resume(std::span<const TopicPartition> partitions) {
  TF_RETURN_IF_ERROR(_impl->check_open());
  if (partitions.empty()) return Status::ok();
  auto list = partition_list(partitions);
  return detail::status_from_err(rd_kafka_resume_partitions(_impl->rk.get(), list.get()), "kafka resume");
}

std::optional<Consumer::FetchProgress> Consumer::fetch_progress(const TopicPartition& partition) const {
  if (_impl->closed) return std::nullopt;
  int64_t low = RD_KAFKA_OFFSET_INVALID, high = RD_KAFKA_OFFSET_INVALID;
  if (rd_kafka_get_watermark_offsets(_impl->rk.get(), partition.topic.c_str(), partition.partition, &low, &high) !=
          RD_KAFKA_RESP_ERR_NO_ERROR ||
      high < 0) {
    return std::nullopt;
  }
  const TopicPartition one[] = {partition};
  auto list = partition_list(one);
  if (rd_kafka_position(_impl->rk.get(), list.get()) != RD_KAFKA_RESP_ERR_NO_ERROR || list->elems[0].offset < 0) {
    return std::nullopt;
  }
  return FetchProgress{list->elems[0].offset, high};
}

Status Consumer::commit(std::span<const TopicPartitionOffset> offsets) {
  TF_RETURN_IF_ERROR(_impl->check_open());
  if (offsets.empty()) return Status::ok();
  detail::PartitionListPtr list = detail::to_list(offsets);
  TF_RETURN_IF_ERROR(detail::status_from_err(rd_kafka_commit(_impl->rk.get(), list.get(), 0), "kafka commit"));
  for (int i = 0; i < list->cnt; ++i) {
    const auto& e = list->elems[i];
    TF_RETURN_IF_ERROR(detail::status_from_err(e.err, std::string("kafka commit ") + e.topic + "/" + std::to_string(e.partition)));
  }
  return Status::ok();
}

Result<std::vector<TopicPartitionOffset>> Consumer::committed(std::span<const TopicPartition> partitions,
                                                              std::chrono::milliseconds timeout) {
  TF_RETURN_IF_ERROR(_impl->check_open());
  auto list = partition_list(partitions);
  TF_RETURN_IF_ERROR(detail::status_from_err(rd_kafka_committed(_impl->rk.get(), list.get(), to_ms(timeout)),
                                             "kafka committed"));
  return detail::from_list(list.get());
}

Result<Watermarks> Consumer::watermark_offsets(const TopicPartition& tp, std::chrono::milliseconds timeout) {
  TF_RETURN_IF_ERROR(_impl->check_open());
  Watermarks w;
  TF_RETURN_IF_ERROR(detail::status_from_err(
      rd_kafka_query_watermark_offsets(_impl->rk.get(), tp.topic.c_str(), tp.partition, &w.low, &w.high, to_ms(timeout)),
      "kafka watermark_offsets " + tp.topic + "/" + std::to_string(tp.partition)));
  return w;
}

Result<std::int64_t> Consumer::lag(const TopicPartition& tp, std::chrono::milliseconds timeout) {
  TF_ASSIGN_OR_RETURN(Watermarks w, watermark_offsets(tp, timeout));
  const TopicPartition one[] = {tp};
  TF_ASSIGN_OR_RETURN(std::vector<TopicPartitionOffset> c, committed(one, timeout));
  const std::int64_t from = (!c.empty() && c[0].offset >= 0) ? c[0].offset : w.low;
  return std::max<std::int64_t>(0, w.high - from);
}

Result<ConsumerGroupMetadata> Consumer::group_metadata() const {
  TF_RETURN_IF_ERROR(_impl->check_open());
  rd_kafka_consumer_group_metadata_t* md = rd_kafka_consumer_group_metadata(_impl->rk.get());
  if (md == nullptr) return Status::invalid_argument("kafka group_metadata: consumer has no group_id");
  return ConsumerGroupMetadata(md);
}

Status Consumer::close() {
  if (_impl->closed) return Status::ok();
  // Not yet marked closed: the revoke handler that rd_kafka_consumer_close runs may commit.
  Status s = detail::status_from_err(rd_kafka_consumer_close(_impl->rk.get()), "kafka consumer close");
  _impl->closed = true;
  _impl->rk.reset();
  return s;
}

}  // namespace tracefeed::kafka
