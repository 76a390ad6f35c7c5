#include "producers/sdk/http_transport.h"

#include <httplib.h>

#include <algorithm>

#include "producers/sdk/events_api.h"

namespace tracefeed {

using namespace std::chrono_literals;

Result<std::unique_ptr<HttpTransport>> HttpTransport::create(HttpTransportOptions options, const Clock& clock) {
  TF_ASSIGN_OR_RETURN(BaseUrl base, parse_base_url(options.url));
  if (options.max_batch_events == 0) return Status::invalid_argument("http transport max_batch_events: must be > 0");
  if (options.max_buffered_events == 0) return Status::invalid_argument("http transport max_buffered_events: must be > 0");
  return std::unique_ptr<HttpTransport>(new HttpTransport(std::move(options), clock, std::move(base.scheme_host_port),
                                                          base.path_prefix + std::string(kEventsPath)));
}

HttpTransport::HttpTransport(HttpTransportOptions options, const Clock& clock, std::string host, std::string path)
    : _options(std::move(options)),
      _clock(clock),
      _host(std::move(host)),
      _path(std::move(path)),
      _queue(_options.max_buffered_events, _options.max_buffered_bytes) {
  _sender = std::thread([this] { run_sender(); });
}

HttpTransport::~HttpTransport() { (void)close(10s); }

Status HttpTransport::send(const OutgoingEvent& event) {
  Status s = _queue.push(event.json, _clock.monotonic_ns(), _options.on_full, _options.block_timeout);
  if (s.is_ok()) _enqueued.fetch_add(1, std::memory_order_relaxed);
  return s;
}

void HttpTransport::finish(QueuedEvent& e, const Status& status) {
  if (status.is_ok()) {
    _acknowledged.fetch_add(1, std::memory_order_relaxed);
  } else {
    _failed.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(_mu);
    if (_first_error.empty()) _first_error = status.to_string();
  }
  if (_options.on_ack) _options.on_ack(status, _clock.monotonic_ns() - e.enqueued_ns);
}

bool HttpTransport::wait_or_abort(std::chrono::milliseconds d) {
  std::unique_lock lock(_mu);
  return !_abort_cv.wait_for(lock, d, [this] { return _abort.load(); });
}

void HttpTransport::run_sender() {
  std::vector<QueuedEvent> batch;
  batch.reserve(_options.max_batch_events);
  while (!_abort.load()) {  // aborted: close() fails whatever is left
    batch.clear();
    const size_t n = _queue.pop_batch(batch, _options.max_batch_events, _options.max_batch_bytes, 100ms, _options.linger);
    if (n == 0) {
      if (_queue.closed() && _queue.size() == 0) return;
      continue;
    }
    deliver(batch);
    {
      std::lock_guard lock(_mu);  // so a flush() between its check and its wait cannot miss this
    }
    _progress.notify_all();
  }
}

void HttpTransport::deliver(std::vector<QueuedEvent>& batch) {
  // One client per sender thread (= per transport), reused across batches; keep-alive and TCP_NODELAY (PLATFORM.md: without it
  // cpp-httplib manages ~300 req/s).
  thread_local std::unique_ptr<httplib::Client> client;
  if (!client) {
    client = std::make_unique<httplib::Client>(_host);
    client->set_keep_alive(true);
    client->set_tcp_nodelay(true);
    const auto t = _options.request_timeout;
    client->set_connection_timeout(std::chrono::duration_cast<std::chrono::seconds>(t).count(),
                                   static_cast<time_t>((t % 1s).count() * 1000));
    client->set_read_timeout(std::chrono::duration_cast<std::chrono::seconds>(t).count(),
                             static_cast<time_t>((t % 1s).count() * 1000));
    client->set_write_timeout(std::chrono::duration_cast<std::chrono::seconds>(t).count(),
                              static_cast<time_t>((t % 1s).count() * 1000));
  }
  std::string body;
  size_t total = 0;
  for (const auto& e : batch) total += e.json.size() + 1;
  body.reserve(total);
  for (const auto& e : batch) {
    body += e.json;
    body += '\n';
  }

  const auto first_attempt = std::chrono::steady_clock::now();
  auto backoff = _options.initial_backoff;
  while (true) {
    Status retriable;
    std::optional<std::chrono::milliseconds> retry_after;
    auto res = client->Post(_path, body, std::string(kNdjsonContentType));
    if (!res) {
      retriable = Status::unavailable("POST " + _host + _path + ": " + httplib::to_string(res.error()));
    } else if (res->status == 200 || res->status == 202) {
      auto parsed = parse_events_response(res->body);
      if (!parsed.is_ok()) {
        // The gateway answered success; we cannot tell which item failed, so count all as
        // delivered and record the anomaly.
        std::lock_guard lock(_mu);
        if (_first_error.empty()) _first_error = parsed.status().to_string();
        for (auto& e : batch) finish(e, Status::ok());
        return;
      }
      std::vector<const RejectedEvent*> rejected_at(batch.size(), nullptr);
      for (const auto& r : parsed->rejected) {
        if (r.index < batch.size()) rejected_at[r.index] = &r;
      }
      for (size_t i = 0; i < batch.size(); ++i) {
        if (rejected_at[i] != nullptr) {
          finish(batch[i], Status::invalid_argument("rejected by gateway: " + rejected_at[i]->error_code + ": " +
                                                    rejected_at[i]->message));
        } else {
          finish(batch[i], Status::ok());
        }
      }
      return;
    } else if (is_retriable_http_status(res->status)) {
      retriable = Status::unavailable("POST " + _host + _path + ": HTTP " + std::to_string(res->status) + ": " +
                                      error_body_message(res->body));
      if (res->has_header("Retry-After")) retry_after = parse_retry_after(res->get_header_value("Retry-After"));
    } else {
      const Status s(res->status == 413 ? ErrorCode::payload_too_large : ErrorCode::invalid_argument,
                     "POST " + _host + _path + ": HTTP " + std::to_string(res->status) + ": " +
                         error_body_message(res->body));
      for (auto& e : batch) finish(e, s);
      return;
    }

    // Retriable failure.
    const auto delay = retry_after ? std::min(*retry_after, _options.max_retry_after) : backoff;
    if (!retry_after) backoff = std::min(backoff * 2, _options.max_backoff);
    if (std::chrono::steady_clock::now() + delay - first_attempt > _options.retry_timeout) {
      const Status s = Status::unavailable("gave up after retrying for " + std::to_string(_options.retry_timeout.count()) +
                                           " ms: " + retriable.message());
      for (auto& e : batch) finish(e, s);
      return;
    }
    _last_retry_delay_ms.store(delay.count());
    _retries.fetch_add(1);
    if (!wait_or_abort(delay)) {
      const Status s = Status::unavailable("transport closed before delivery: " + retriable.message());
      for (auto& e : batch) finish(e, s);
      return;
    }
  }
}

Status HttpTransport::flush(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  _queue.add_urgent(1);
  std::unique_lock lock(_mu);
  const bool done = _progress.wait_until(lock, deadline, [this] {
    return _acknowledged.load() + _failed.load() >= _enqueued.load();
  });
  lock.unlock();
  _queue.add_urgent(-1);
  if (!done) {
    return Status::timeout("http transport flush: " +
                           std::to_string(_enqueued.load() - _acknowledged.load() - _failed.load()) +
                           " events still pending after " + std::to_string(timeout.count()) + " ms");
  }
  return Status::ok();
}

Status HttpTransport::close(std::chrono::milliseconds timeout) {
  {
    std::lock_guard lock(_mu);
    if (_closed) return Status::ok();
    _closed = true;
  }
  Status flushed = flush(timeout);
  _queue.close();
  if (!flushed.is_ok()) {
    {
      std::lock_guard lock(_mu);
      _abort.store(true);
    }
    _abort_cv.notify_all();
  }
  if (_sender.joinable()) _sender.join();
  // The sender stops only once the queue is empty unless aborted; account for any leftovers.
  auto left = _queue.take_all();
  const Status dropped = Status::unavailable("transport closed before delivery");
  for (auto& e : left) finish(e, dropped);
  if (!flushed.is_ok() || !left.empty()) {
    return Status::unavailable("http transport closed with undelivered events: " + flushed.message());
  }
  return Status::ok();
}

TransportStats HttpTransport::stats() const {
  TransportStats st;
  st.enqueued = _enqueued.load();
  st.acknowledged = _acknowledged.load();
  st.failed = _failed.load();
  st.retries = _retries.load();
  st.last_retry_delay_ms = _last_retry_delay_ms.load();
  std::lock_guard lock(_mu);
  st.first_error = _first_error;
  return st;
}

}  // namespace tracefeed
