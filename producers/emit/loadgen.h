#pragma once
// `tracefeed loadgen`: realistic traffic (see traffic.h) at a target rate (token bucket) or as fast
// as possible, for a duration or an event count, through the SDK's transports: to the gateway
// (HttpTransport, default) or straight to Kafka (KafkaTransport, --kafka). Prints achieved
// events/s and enqueue→ack latency percentiles. With --output FILE it writes the NDJSON instead
// of sending, so `tracefeed emit FILE` can replay it.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include "core/clock.h"
#include "core/result.h"
#include "producers/emit/traffic.h"

namespace tracefeed::emit {

struct LoadgenOptions {
  // Gateway base URL (used unless kafka_brokers or output is set). Default: "http://127.0.0.1:8080".
  std::string url = "http://127.0.0.1:8080";
  // Send straight to Kafka instead. Default: empty.
  std::string kafka_brokers;
  // Kafka topic prefix. Default: "tracefeed.".
  std::string topic_prefix = "tracefeed.";
  // Write NDJSON here instead of sending ("-" = stdout). Default: empty.
  std::string output;
  // Target events/s; 0 = as fast as possible. Default: 1000.
  double rate = 1000;
  // Stop after this long... Default: 10 s.
  std::chrono::milliseconds duration = std::chrono::seconds(10);
  // ...or after this many events, when > 0 (then duration is ignored). Default: 0.
  uint64_t count = 0;
  // Events per HTTP request. Default: 500.
  size_t http_batch_size = 500;
  // What to generate.
  TrafficOptions traffic;
};

struct LoadgenReport {
  uint64_t generated = 0;  // events produced by the generator (incl. duplicates)
  uint64_t sent = 0;       // taken by the transport / written
  uint64_t acknowledged = 0;
  uint64_t failed = 0;
  double seconds = 0;      // first send → last ack (or last write)
  double events_per_second = 0;
  int64_t p50_ns = 0, p90_ns = 0, p99_ns = 0, max_ns = 0;  // enqueue → ack
  TrafficCounts traffic;
  std::string first_error;
};

[[nodiscard]] Result<LoadgenReport> run_loadgen_report(const LoadgenOptions& options, const Clock& clock);

// The CLI entry point: prints the report to stderr; 0 when every event was acknowledged.
int run_loadgen(const LoadgenOptions& options);

}  // namespace tracefeed::emit
