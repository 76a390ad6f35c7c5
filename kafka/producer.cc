#include "kafka/producer.h"

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "kafka/consumer.h"
#include "kafka/rdkafka_config.h"

namespace tracefeed::kafka {
namespace {

using namespace std::chrono_literals;

int to_ms(std::chrono::milliseconds d) { return static_cast<int>(std::max<std::int64_t>(0, d.count())); }

// What a message's opaque points to. deliver() runs exactly once, on the poll thread (or the
// thread inside flush/close serving the queue), and may free the target.
struct DeliveryTarget {
  virtual void deliver(const DeliveryReport& report) = 0;

 protected:
  ~DeliveryTarget() = default;
};

// One produce() call with a callback; deletes itself after the callback.
struct CallbackTarget final : DeliveryTarget {
  explicit CallbackTarget(DeliveryCallback cb) : callback(std::move(cb)) {}
  void deliver(const DeliveryReport& report) override {
    callback(report);
    delete this;
  }
  DeliveryCallback callback;
};

// Shared by produce_batch's caller and its messages' delivery reports. Lives until both the
// caller returned and the last report arrived (`keepalive` holds it while reports are pending).
struct BatchState {
  struct Slot final : DeliveryTarget {
    BatchState* state = nullptr;
    std::size_t index = 0;
    void deliver(const DeliveryReport& report) override { state->complete(index, report); }
  };

  explicit BatchState(std::size_t n) : reports(n), done(n, 0), slots(n), pending(n) {
    for (std::size_t i = 0; i < n; ++i) {
      slots[i].state = this;
      slots[i].index = i;
    }
  }

  // Thread: poll thread or the caller. May destroy *this when it drops the last reference, so
  // nothing touches members after the lock is released.
  void complete(std::size_t index, const DeliveryReport& report) {
    std::shared_ptr<BatchState> release;  // destroyed after `lock` (declared first)
    std::lock_guard lock(mu);
    reports[index] = report;
    done[index] = 1;
    if (--pending == 0) {
      cv.notify_all();
      release = std::move(keepalive);
    }
  }

  std::mutex mu;
  std::condition_variable cv;
  std::vector<DeliveryReport> reports;
  std::vector<char> done;
  std::vector<Slot> slots;
  std::size_t pending;
  std::shared_ptr<BatchState> keepalive;
};

DeliveryReport report_from(const rd_kafka_message_t* m) {
  DeliveryReport r;
  r.topic = m->rkt != nullptr ? rd_kafka_topic_name(m->rkt) : "";
  r.partition = m->partition;
  r.offset = m->offset;
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    r.status = detail::status_from_err(m->err, "delivery to " + r.topic + "/" + std::to_string(r.partition));
  }
  return r;
}

// librdkafka delivery-report callback; runs on whichever thread serves rd_kafka_poll/flush.
void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  if (m->_private != nullptr) static_cast<DeliveryTarget*>(m->_private)->deliver(report_from(m));
}

}  // namespace

struct Producer::Impl {
  ProducerOptions options;
  detail::HandlePtr rk;
  std::thread poll_thread;
  std::atomic<bool> stop{false};
  std::atomic<bool> closed{false};

  // Thread: the poll thread. Serves delivery reports until close().
  void run_poll_loop() {
    while (!stop.load(std::memory_order_acquire)) rd_kafka_poll(rk.get(), 50);
  }

  Status enqueue(std::string_view topic, std::string_view key, std::string_view value,
                 std::optional<std::int32_t> partition, void* opaque) {
    if (closed.load(std::memory_order_acquire)) return Status::unavailable("kafka producer: closed");
    // rd_kafka_producev needs a NUL-terminated topic; a per-thread buffer avoids an allocation
    // per message.
    thread_local std::string topic_buf;
    topic_buf.assign(topic);
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        rk.get(), RD_KAFKA_V_TOPIC(topic_buf.c_str()),
        RD_KAFKA_V_PARTITION(partition.value_or(RD_KAFKA_PARTITION_UA)),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(key.empty() ? nullptr : const_cast<char*>(key.data()), key.size()),
        RD_KAFKA_V_VALUE(value.empty() ? nullptr : const_cast<char*>(value.data()), value.size()),
        RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      return Status::unavailable("kafka producer: local queue full (" + std::to_string(options.max_queued_messages) +
                                 " messages / " + std::to_string(options.max_queued_kbytes) +
                                 " KiB); retry later");
    }
    return detail::status_from_err(err, "kafka produce to " + topic_buf);
  }
};

Result<std::unique_ptr<Producer>> Producer::create(ProducerOptions options) {
  if (options.max_queued_messages <= 0) return Status::invalid_argument("kafka producer max_queued_messages: must be > 0");
  std::vector<std::pair<std::string, std::string>> defaults = {
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"partitioner", "murmur2_random"},
      {"queue.buffering.max.messages", std::to_string(options.max_queued_messages)},
      {"queue.buffering.max.kbytes", std::to_string(options.max_queued_kbytes)},
      {"linger.ms", std::to_string(options.linger_ms)},
      {"message.timeout.ms", std::to_string(options.message_timeout_ms)},
  };
  if (!options.transactional_id.empty()) {
    defaults.emplace_back("transactional.id", options.transactional_id);
    defaults.emplace_back("transaction.timeout.ms", std::to_string(options.transaction_timeout_ms));
  }
  TF_ASSIGN_OR_RETURN(detail::ConfPtr conf, detail::make_conf(options.client, defaults));
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &on_delivery);
  TF_ASSIGN_OR_RETURN(detail::HandlePtr rk, detail::make_handle(RD_KAFKA_PRODUCER, std::move(conf)));

  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->rk = std::move(rk);
  impl->poll_thread = std::thread([p = impl.get()] { p->run_poll_loop(); });
  return std::unique_ptr<Producer>(new Producer(std::move(impl)));
}

Producer::Producer(std::unique_ptr<Impl> impl) : _impl(std::move(impl)) {}

Producer::~Producer() { (void)close(); }

Status Producer::produce(std::string_view topic, std::string_view key, std::string_view value,
                         std::optional<std::int32_t> partition, DeliveryCallback on_delivery_cb) {
  CallbackTarget* target = on_delivery_cb ? new CallbackTarget(std::move(on_delivery_cb)) : nullptr;
  Status s = _impl->enqueue(topic, key, value, partition, target);
  if (!s.is_ok()) delete target;  // not enqueued: the callback never runs
  return s;
}

std::vector<DeliveryReport> Producer::produce_batch(std::span<const ProduceRecord> records,
                                                    std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (records.empty()) return {};
  auto state = std::make_shared<BatchState>(records.size());
  state->keepalive = state;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const ProduceRecord& r = records[i];
    Status s = _impl->enqueue(r.topic, r.key, r.value, r.partition, &state->slots[i]);
    if (!s.is_ok()) {
      DeliveryReport failed;
      failed.status = std::move(s);
      failed.topic = std::string(r.topic);
      failed.partition = r.partition.value_or(-1);
      state->complete(i, failed);
    }
  }
  std::unique_lock lock(state->mu);
  state->cv.wait_until(lock, deadline, [&] { return state->pending == 0; });
  std::vector<DeliveryReport> out = state->reports;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (state->done[i] == 0) {
      out[i].topic = std::string(records[i].topic);
      out[i].status = Status::timeout("kafka produce to " + out[i].topic + ": not acknowledged within " +
                                      std::to_string(timeout.count()) + " ms");
    }
  }
  return out;
}

Status Producer::flush(std::chrono::milliseconds timeout) {
  if (_impl->closed.load()) return Status::ok();
  return detail::status_from_err(rd_kafka_flush(_impl->rk.get(), to_ms(timeout)), "kafka producer flush");
}

Status Producer::close(std::chrono::milliseconds timeout) {
  if (_impl->closed.exchange(true)) return Status::ok();
  rd_kafka_t* rk = _impl->rk.get();
  Status flushed = detail::status_from_err(rd_kafka_flush(rk, to_ms(timeout)), "kafka producer close: flush");
  if (!flushed.is_ok()) {
    // Fail what is left so every delivery callback still runs exactly once.
    (void)rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    (void)rd_kafka_flush(rk, 5000);
  }
  _impl->stop.store(true, std::memory_order_release);
  if (_impl->poll_thread.joinable()) _impl->poll_thread.join();
  rd_kafka_poll(rk, 0);  // reports that raced with the poll thread's exit
  _impl->rk.reset();
  return flushed;
}

int Producer::queued() const { return _impl->closed.load() ? 0 : rd_kafka_outq_len(_impl->rk.get()); }

Status Producer::init_transactions(std::chrono::milliseconds timeout) {
  return detail::status_from_error(rd_kafka_init_transactions(_impl->rk.get(), to_ms(timeout)),
                                   "kafka init_transactions");
}

Status Producer::begin_transaction() {
  return detail::status_from_error(rd_kafka_begin_transaction(_impl->rk.get()), "kafka begin_transaction");
}

Status Producer::send_offsets_to_transaction(std::span<const TopicPartitionOffset> offsets,
                                             const ConsumerGroupMetadata& group, std::chrono::milliseconds timeout) {
  if (group.handle() == nullptr) return Status::invalid_argument("kafka send_offsets_to_transaction: no group metadata");
  detail::PartitionListPtr list = detail::to_list(offsets);
  return detail::status_from_error(
      rd_kafka_send_offsets_to_transaction(_impl->rk.get(), list.get(),
                                           static_cast<rd_kafka_consumer_group_metadata_t*>(group.handle()),
                                           to_ms(timeout)),
      "kafka send_offsets_to_transaction");
}

Status Producer::commit_transaction(std::chrono::milliseconds timeout) {
  return detail::status_from_error(rd_kafka_commit_transaction(_impl->rk.get(), to_ms(timeout)),
                                   "kafka commit_transaction");
}

Status Producer::abort_transaction(std::chrono::milliseconds timeout) {
  return detail::status_from_error(rd_kafka_abort_transaction(_impl->rk.get(), to_ms(timeout)),
                                   "kafka abort_transaction");
}

Status Producer::fatal_error() const {
  if (_impl->closed.load()) return Status::ok();
  char buf[512];
  rd_kafka_resp_err_t err = rd_kafka_fatal_error(_impl->rk.get(), buf, sizeof(buf));
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::ok();
  return Status::internal(std::string("fatal: kafka producer: ") + buf);
}

}  // namespace tracefeed::kafka
