// gateway_test_server: the gateway as `tracefeed run` will serve it (embedded broker, real
// Producer, KafkaEventSink, Gateway on an http::Server), for driving the real MLflow client from
// tests/python/test_gateway_mlflow.py before the gateway is wired into the `tracefeed` binary.
//
// Prints "ready at http://127.0.0.1:PORT" once serving. On SIGTERM/SIGINT it stops, then prints
// one line "records traces=N assessments=M dead_letter=K ingested trace=.. assessment=..
// assessment_update=.. assessment_delete=.." read from the topics' watermarks, so a test can
// check what reached Kafka.

#include <csignal>
#include <cstdio>
#include <semaphore>

#include "kafka/consumer.h"
#include "kafka/embedded_broker.h"
#include "kafka/producer.h"
#include "producers/gateway/gateway.h"
#include "producers/publish/kafka_event_sink.h"

namespace {
std::binary_semaphore g_stop{0};
void on_signal(int) { g_stop.release(); }
}  // namespace

int main() {
  using namespace tracefeed;
  auto broker = kafka::EmbeddedBroker::start();
  if (!broker.is_ok()) return std::fprintf(stderr, "%s\n", broker.status().to_string().c_str()), 1;
  const Topics topics = Topics::with_prefix("tracefeed.");
  for (const auto& t : topics.all()) {
    if (Status s = (*broker)->create_topic(t, 2); !s.is_ok()) return std::fprintf(stderr, "%s\n", s.to_string().c_str()), 1;
  }
  kafka::ProducerOptions po;
  po.client.brokers = (*broker)->bootstrap_servers();
  auto producer = kafka::Producer::create(po);
  if (!producer.is_ok()) return std::fprintf(stderr, "%s\n", producer.status().to_string().c_str()), 1;
  publish::KafkaEventSink sink(**producer, topics, SystemClock::instance());
  gateway::Gateway gw(gateway::GatewayOptions{}, sink, SystemClock::instance(), &sink);
  http::Server server(http::ServerOptions{.listen = "127.0.0.1:0", .threads = 2});
  gw.register_routes(server);
  server.route("GET", "/healthz", [](const http::Request&, http::Response& res) { res.json(200, R"({"status":"ok"})"); });
  if (Status s = server.start(); !s.is_ok()) return std::fprintf(stderr, "%s\n", s.to_string().c_str()), 1;
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  std::printf("ready at %s\n", server.base_url().c_str());
  std::fflush(stdout);
  g_stop.acquire();
  server.stop();
  (void)(*producer)->flush(std::chrono::seconds(5));

  auto consumer = kafka::Consumer::create(kafka::ConsumerOptions{.client = {.brokers = (*broker)->bootstrap_servers()}});
  auto records = [&](const std::string& topic) -> long long {
    long long n = 0;
    for (int p = 0; p < 2 && consumer.is_ok(); ++p) {
      auto w = (*consumer)->watermark_offsets({topic, p}, std::chrono::seconds(5));
      if (w.is_ok()) n += w->high - w->low;
    }
    return n;
  };
  const auto& st = gw.stats();
  std::printf("records traces=%lld assessments=%lld dead_letter=%lld ingested trace=%llu assessment=%llu assessment_update=%llu "
              "assessment_delete=%llu\n",
              records(topics.traces), records(topics.assessments), records(topics.dead_letter),
              static_cast<unsigned long long>(st.ingested(EventType::trace)),
              static_cast<unsigned long long>(st.ingested(EventType::assessment)),
              static_cast<unsigned long long>(st.ingested(EventType::assessment_update)),
              static_cast<unsigned long long>(st.ingested(EventType::assessment_delete)));
  std::fflush(stdout);
  if (consumer.is_ok()) (void)(*consumer)->close();
  (void)(*producer)->close(std::chrono::seconds(5));
  return 0;
}
