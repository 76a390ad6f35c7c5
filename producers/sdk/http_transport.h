#pragma once
// HttpTransport: the SDK to the gateway's POST /api/v1/events, for apps that cannot reach Kafka.
// send() copies the envelope into a bounded EventQueue; one background sender thread takes
// batches (up to max_batch_events / max_batch_bytes, waiting up to `linger` to fill one), posts
// them as NDJSON over a keep-alive connection and waits for the answer before the next batch.
//
// Delivery: 202 → every event acknowledged except those listed in "rejected" (failed: they can
// never succeed). 429/5xx and connection errors → the same batch is retried after the server's
// Retry-After (capped at max_retry_after) or an exponential back-off (initial_backoff doubling up
// to max_backoff), until retry_timeout has passed since the first attempt; then the batch fails.
// Retrying is safe: every envelope carries its event_id and the gateway applies it once.
// Any other 4xx → the batch fails. Failures are counted, observed and kept in stats().first_error.
//
// Buffer full: BufferFullPolicy::block waits up to block_timeout for room, ::error fails at once.
//
// Threads: send/flush/close/stats are thread-safe; the AckObserver runs on the sender thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "producers/sdk/event_queue.h"
#include "producers/sdk/transport.h"

namespace tracefeed {

struct HttpTransportOptions {
  // Gateway base URL (http only). Default: "http://127.0.0.1:8080".
  std::string url = "http://127.0.0.1:8080";
  // Bound on events buffered locally. Default: 100000.
  size_t max_buffered_events = 100000;
  // Bound on their bytes. Default: 64 MiB.
  size_t max_buffered_bytes = 64u << 20;
  // What send() does when the buffer is full. Default: block.
  BufferFullPolicy on_full = BufferFullPolicy::block;
  // How long send() blocks for room under BufferFullPolicy::block. Default: 5 s.
  std::chrono::milliseconds block_timeout = std::chrono::seconds(5);
  // Events per request. Default: 500.
  size_t max_batch_events = 500;
  // Bytes per request (keep well under the gateway's body limit, 16 MiB by default). Default: 4 MiB.
  size_t max_batch_bytes = 4u << 20;
  // How long to wait for a batch to fill once an event is queued. Default: 5 ms.
  std::chrono::milliseconds linger = std::chrono::milliseconds(5);
  // Back-off when the server gives no Retry-After. Defaults: 100 ms doubling up to 5 s.
  std::chrono::milliseconds initial_backoff = std::chrono::milliseconds(100);
  std::chrono::milliseconds max_backoff = std::chrono::seconds(5);
  // Cap on a server's Retry-After. Default: 30 s.
  std::chrono::milliseconds max_retry_after = std::chrono::seconds(30);
  // Give up on a batch this long after its first attempt. Default: 120 s.
  std::chrono::milliseconds retry_timeout = std::chrono::seconds(120);
  // Connect / read timeout of one request. Default: 10 s.
  std::chrono::milliseconds request_timeout = std::chrono::seconds(10);
  // Optional; see transport.h.
  AckObserver on_ack;
};

class HttpTransport final : public Transport {
 public:
  [[nodiscard]] static Result<std::unique_ptr<HttpTransport>> create(HttpTransportOptions options,
                                                                     const Clock& clock = SystemClock::instance());
  ~HttpTransport() override;  // close(10 s)

  [[nodiscard]] Status send(const OutgoingEvent& event) override;
  [[nodiscard]] Status flush(std::chrono::milliseconds timeout) override;
  Status close(std::chrono::milliseconds timeout) override;
  [[nodiscard]] TransportStats stats() const override;

 private:
  HttpTransport(HttpTransportOptions options, const Clock& clock, std::string host, std::string path);
  void run_sender();                                  // Thread: the sender thread.
  void deliver(std::vector<QueuedEvent>& batch);      // Thread: the sender thread.
  void finish(QueuedEvent& e, const Status& status);  // Thread: the sender thread (or close()).
  // Waits `d` unless aborted; false when aborted. Thread: the sender thread.
  bool wait_or_abort(std::chrono::milliseconds d);

  const HttpTransportOptions _options;
  const Clock& _clock;
  const std::string _host;  // scheme://host:port
  const std::string _path;  // prefix + /api/v1/events
  EventQueue _queue;

  std::atomic<uint64_t> _enqueued{0}, _acknowledged{0}, _failed{0}, _retries{0};
  std::atomic<int64_t> _last_retry_delay_ms{-1};
  std::atomic<bool> _abort{false};  // close() timed out: stop retrying, fail what is left

  mutable std::mutex _mu;          // guards _first_error, _closed; pairs with _progress and _abort_cv
  std::condition_variable _progress;  // a batch finished (flush waits here)
  std::condition_variable _abort_cv;  // back-off waits here
  std::string _first_error;
  bool _closed = false;

  std::thread _sender;  // last: started after everything above is constructed
};

}  // namespace tracefeed
