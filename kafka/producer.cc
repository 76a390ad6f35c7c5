#include "kafka/producer.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
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

// A message's opaque is either a DeliveryTarget* (aligned, low bit 0), a cookie of the fast path
// stored as (cookie << 1) | 1, or null (no callback). Tagging keeps the fast path free of any
// per-message allocation: the cookie travels inside librdkafka's own message.
constexpr std::uintptr_t kCookieTag = 1;
static_assert(sizeof(std::uintptr_t) >= sizeof(std::uint64_t), "cookies need 64-bit pointers");

void* cookie_opaque(std::uint64_t cookie) {
  return reinterpret_cast<void*>(static_cast<std::uintptr_t>(cookie << 1) | kCookieTag);
}

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

}  // namespace

// One resolved topic; owned by Producer::Impl, never moved (handles point at it).
struct TopicHandle::Entry {
  std::string name;
  rd_kafka_topic_t* rkt = nullptr;
};

const std::string& TopicHandle::name() const noexcept {
  static const std::string empty;
  return _topic != nullptr ? _topic->name : empty;
}

struct Producer::Impl {
  ProducerOptions options;
  detail::HandlePtr rk;
  rd_kafka_queue_t* main_queue = nullptr;  // where librdkafka puts delivery-report events
  std::thread poll_thread;
  std::atomic<bool> stop{false};
  std::atomic<bool> closed{false};
  std::mutex topics_mu;  // guards `topics` (growth only; entries never move)
  std::vector<std::unique_ptr<TopicHandle::Entry>> topics;
  std::vector<CookieDelivery> cookie_batch;  // reused by whichever thread serves the queue
  int log_level = 6;                         // the client's log_level property

  // Thread: the poll thread. Serves delivery reports until close().
  void run_poll_loop() {
    while (!stop.load(std::memory_order_acquire)) serve(50);
  }

  // Serves the events waiting in the main queue, waiting up to `timeout_ms` for the first.
  // Thread: the poll thread, or close() after it stopped (never both at once).
  void serve(int timeout_ms) {
    for (rd_kafka_event_t* ev = rd_kafka_queue_poll(main_queue, timeout_ms); ev != nullptr;
         ev = rd_kafka_queue_poll(main_queue, 0)) {
      handle(ev);
      // Destroying a delivery-report event frees its messages, which is what rd_kafka_flush
      // counts down to zero: every callback above ran before flush() can return.
      rd_kafka_event_destroy(ev);
    }
  }

  void handle(rd_kafka_event_t* ev) {
    switch (rd_kafka_event_type(ev)) {
      case RD_KAFKA_EVENT_DR: {
        cookie_batch.clear();
        while (const rd_kafka_message_t* m = rd_kafka_event_message_next(ev)) {
          const auto opaque = reinterpret_cast<std::uintptr_t>(m->_private);
          if (opaque == 0) continue;
          if ((opaque & kCookieTag) != 0) {
            CookieDelivery& d = cookie_batch.emplace_back();
            d.cookie = static_cast<std::uint64_t>(opaque >> 1);
            if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) d.status = report_from(m).status;
          } else {
            static_cast<DeliveryTarget*>(m->_private)->deliver(report_from(m));
          }
        }
        if (!cookie_batch.empty() && options.listener != nullptr) options.listener->on_delivered(cookie_batch);
        break;
      }
      case RD_KAFKA_EVENT_ERROR: {
        // With delivery reports as events, librdkafka hands errors over as events too instead of
        // logging them itself; log them the way it would have (its own stderr sink).
        const std::string line = std::string(rd_kafka_err2name(rd_kafka_event_error(ev))) + ": " +
                                 rd_kafka_event_error_string(ev);
        const int level = rd_kafka_event_error_is_fatal(ev) ? 2 : 3;  // LOG_CRIT / LOG_ERR
        if (level <= log_level) rd_kafka_log_print(rk.get(), level, "ERROR", line.c_str());
        break;
      }
      default:
        break;  // nothing else is enabled
    }
  }

  Status queue_full() const {
    return Status::unavailable("kafka producer: local queue full (" + std::to_string(options.max_queued_messages) +
                               " messages / " + std::to_string(options.max_queued_kbytes) + " KiB); retry later");
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
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) return queue_full();
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
  // Delivery reports as events: the poll thread takes a whole produce response's reports at once
  // (one listener call per batch), and rd_kafka_flush then waits for the poll thread to have
  // handled them rather than serving callbacks itself on the caller's thread.
  rd_kafka_conf_set_events(conf.get(), RD_KAFKA_EVENT_DR);
  TF_ASSIGN_OR_RETURN(detail::HandlePtr rk, detail::make_handle(RD_KAFKA_PRODUCER, std::move(conf)));

  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->rk = std::move(rk);
  impl->main_queue = rd_kafka_queue_get_main(impl->rk.get());
  char level[16];
  size_t level_size = sizeof(level);
  if (rd_kafka_conf_get(rd_kafka_conf(impl->rk.get()), "log_level", level, &level_size) == RD_KAFKA_CONF_OK) {
    impl->log_level = std::atoi(level);
  }
  impl->poll_thread = std::thread([p = impl.get()] {
    pthread_setname_np(pthread_self(), "tf:kafka-poll");  // findable in top -H / perf
    p->run_poll_loop();
  });
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

Result<TopicHandle> Producer::topic(std::string_view name) {
  if (name.empty()) return Status::invalid_argument("kafka producer topic: must not be empty");
  if (_impl->closed.load(std::memory_order_acquire)) return Status::unavailable("kafka producer: closed");
  std::lock_guard lock(_impl->topics_mu);
  for (const auto& t : _impl->topics) {
    if (t->name == name) return TopicHandle(t.get());
  }
  auto entry = std::make_unique<TopicHandle::Entry>();
  entry->name.assign(name);
  entry->rkt = rd_kafka_topic_new(_impl->rk.get(), entry->name.c_str(), nullptr);
  if (entry->rkt == nullptr) {
    return detail::status_from_err(rd_kafka_last_error(), "kafka producer topic " + entry->name);
  }
  _impl->topics.push_back(std::move(entry));
  return TopicHandle(_impl->topics.back().get());
}

Status Producer::produce(const TopicHandle& topic, std::string_view key, std::string_view value,
                         std::uint64_t cookie, std::int64_t timestamp_ms) {
  if (!topic.valid()) return Status::invalid_argument("kafka produce: invalid topic handle");
  if (cookie >> 63 != 0) return Status::invalid_argument("kafka produce: cookie must be < 2^63");
  if (_impl->closed.load(std::memory_order_acquire)) return Status::unavailable("kafka producer: closed");
  // A resolved topic (no lookup by name). MSG_F_COPY puts the value and key in the same
  // allocation as librdkafka's message header: one malloc per message, cheaper than handing over
  // a buffer of our own (F_FREE: two). A given timestamp spares librdkafka a clock read.
  const rd_kafka_resp_err_t err = rd_kafka_producev(
      _impl->rk.get(), RD_KAFKA_V_RKT(topic._topic->rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_KEY(key.empty() ? nullptr : const_cast<char*>(key.data()), key.size()),
      RD_KAFKA_V_VALUE(value.empty() ? nullptr : const_cast<char*>(value.data()), value.size()),
      RD_KAFKA_V_OPAQUE(cookie_opaque(cookie)), RD_KAFKA_V_TIMESTAMP(timestamp_ms), RD_KAFKA_V_END);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::ok();
  if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) return _impl->queue_full();
  return detail::status_from_err(err, "kafka produce to " + topic.name());
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
  _impl->serve(0);  // reports that raced with the poll thread's exit
  {
    std::lock_guard lock(_impl->topics_mu);
    for (const auto& t : _impl->topics) {
      rd_kafka_topic_destroy(t->rkt);  // queued messages held their own references
      t->rkt = nullptr;
    }
    // Entries stay allocated: a TopicHandle kept past close() still names its topic.
  }
  rd_kafka_queue_destroy(_impl->main_queue);
  _impl->main_queue = nullptr;
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
