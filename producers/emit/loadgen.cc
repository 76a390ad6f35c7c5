#include "producers/emit/loadgen.h"

#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "producers/emit/latency_histogram.h"
#include "producers/emit/token_bucket.h"
#include "producers/sdk/http_transport.h"
#include "producers/sdk/kafka_transport.h"

namespace tracefeed::emit {
namespace {

using namespace std::chrono_literals;

}  // namespace

Result<LoadgenReport> run_loadgen_report(const LoadgenOptions& o, const Clock& clock) {
  if (o.rate < 0) return Status::invalid_argument("loadgen: --rate must be >= 0");
  if (o.count == 0 && o.duration.count() <= 0) return Status::invalid_argument("loadgen: --duration or --count is required");

  LatencyHistogram latency;  // written on the transport's thread, read after flush
  auto on_ack = [&latency](const Status&, int64_t ns) { latency.record(ns); };

  std::unique_ptr<Transport> transport;
  std::ofstream file;
  std::ostream* out = nullptr;
  if (!o.output.empty()) {
    if (o.output == "-") {
      out = &std::cout;
    } else {
      file.open(o.output, std::ios::binary | std::ios::trunc);
      if (!file) return Status::io_error(o.output + ": cannot open for writing");
      out = &file;
    }
  } else if (!o.kafka_brokers.empty()) {
    KafkaTransportOptions ko;
    ko.brokers = o.kafka_brokers;
    ko.topic_prefix = o.topic_prefix;
    ko.client_id = "tracefeed-loadgen";
    ko.on_ack = on_ack;
    TF_ASSIGN_OR_RETURN(auto t, KafkaTransport::create(std::move(ko), clock));
    transport = std::move(t);
  } else {
    HttpTransportOptions ho;
    ho.url = o.url;
    ho.max_batch_events = o.http_batch_size;
    ho.on_ack = on_ack;
    TF_ASSIGN_OR_RETURN(auto t, HttpTransport::create(std::move(ho), clock));
    transport = std::move(t);
  }

  TrafficGenerator gen(o.traffic, clock);
  std::optional<TokenBucket> bucket;
  // A burst of ~10 ms of traffic keeps the pacing smooth without a sleep per event.
  if (o.rate > 0) bucket.emplace(o.rate, std::max(1.0, o.rate / 100), clock);

  LoadgenReport report;
  const int64_t start = clock.monotonic_ns();
  const int64_t end = start + std::chrono::duration_cast<std::chrono::nanoseconds>(o.duration).count();
  std::vector<GeneratedEvent> events;
  bool done = false;
  Status send_error;
  while (!done) {
    events.clear();
    gen.next_interaction(events);
    for (const auto& e : events) {
      if (o.count > 0 ? report.generated >= o.count : clock.monotonic_ns() >= end) {
        done = true;
        break;
      }
      if (bucket) {
        while (!bucket->try_take()) std::this_thread::sleep_for(std::chrono::nanoseconds(bucket->wait_ns()));
      }
      ++report.generated;
      if (out != nullptr) {
        *out << e.json << '\n';
        ++report.sent;
        continue;
      }
      Status s = transport->send({e.type, e.event_id, e.trace_id, e.json});
      if (!s.is_ok()) {
        send_error = s;  // block policy timed out: the sink is not keeping up or is down
        done = true;
        break;
      }
      ++report.sent;
    }
  }
  if (out != nullptr) {
    out->flush();
    if (!*out) return Status::io_error(o.output + ": write failed");
  } else {
    Status f = transport->flush(120s);
    (void)transport->close(10s);
    const auto st = transport->stats();
    report.acknowledged = st.acknowledged;
    report.failed = st.failed;
    report.first_error = !send_error.is_ok() ? send_error.to_string() : st.first_error;
    if (!f.is_ok() && report.first_error.empty()) report.first_error = f.to_string();
  }
  report.seconds = static_cast<double>(clock.monotonic_ns() - start) / 1e9;
  const uint64_t done_events = out != nullptr ? report.sent : report.acknowledged;
  report.events_per_second = report.seconds > 0 ? static_cast<double>(done_events) / report.seconds : 0;
  report.p50_ns = latency.percentile_ns(50);
  report.p90_ns = latency.percentile_ns(90);
  report.p99_ns = latency.percentile_ns(99);
  report.max_ns = latency.max_ns();
  report.traffic = gen.counts();
  return report;
}

int run_loadgen(const LoadgenOptions& options) {
  auto r = run_loadgen_report(options, SystemClock::instance());
  if (!r.is_ok()) {
    std::fprintf(stderr, "loadgen: %s\n", r.status().to_string().c_str());
    return 2;
  }
  const LoadgenReport& rep = *r;
  const auto& t = rep.traffic;
  const char* target = !options.output.empty() ? options.output.c_str()
                       : !options.kafka_brokers.empty() ? options.kafka_brokers.c_str()
                                                        : options.url.c_str();
  std::fprintf(stderr,
               "loadgen → %s: %llu events (%llu traces, %llu spans, %llu feedback of which %llu thumbs-down, "
               "%llu feedback-first, %llu duplicates)\n",
               target, static_cast<unsigned long long>(rep.generated), static_cast<unsigned long long>(t.traces),
               static_cast<unsigned long long>(t.spans), static_cast<unsigned long long>(t.feedback),
               static_cast<unsigned long long>(t.thumbs_down), static_cast<unsigned long long>(t.feedback_first),
               static_cast<unsigned long long>(t.duplicates));
  if (options.output.empty()) {
    std::fprintf(stderr,
                 "  sent %llu, acknowledged %llu, failed %llu in %.2f s: %.0f events/s acknowledged\n"
                 "  enqueue→ack latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
                 static_cast<unsigned long long>(rep.sent), static_cast<unsigned long long>(rep.acknowledged),
                 static_cast<unsigned long long>(rep.failed), rep.seconds, rep.events_per_second, rep.p50_ns / 1e6,
                 rep.p90_ns / 1e6, rep.p99_ns / 1e6, rep.max_ns / 1e6);
  } else {
    std::fprintf(stderr, "  wrote %llu events in %.2f s (%.0f events/s)\n", static_cast<unsigned long long>(rep.sent),
                 rep.seconds, rep.events_per_second);
  }
  if (!rep.first_error.empty()) std::fprintf(stderr, "  first error: %s\n", rep.first_error.c_str());
  const bool ok = options.output.empty() ? rep.failed == 0 && rep.acknowledged == rep.sent && rep.first_error.empty()
                                         : true;
  return ok ? 0 : 1;
}

}  // namespace tracefeed::emit
