#include "kafka/embedded_broker.h"

#include <chrono>
#include <cstdio>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>

#include "kafka/rdkafka_config.h"

namespace tracefeed::kafka {

struct EmbeddedBroker::Impl {
  // The mock cluster runs on this handle: ~Impl destroys the cluster first, then (as a member)
  // the handle.
  detail::HandlePtr rk;
  rd_kafka_mock_cluster_t* mock = nullptr;
  int num_brokers = 1;
  ~Impl() {
    if (mock != nullptr) rd_kafka_mock_cluster_destroy(mock);
  }
};

Result<std::unique_ptr<EmbeddedBroker>> EmbeddedBroker::start(EmbeddedBrokerOptions options) {
  if (options.num_brokers < 1) return Status::invalid_argument("embedded broker num_brokers: must be >= 1");
  detail::ConfPtr conf(rd_kafka_conf_new());
  // The dedicated handle only hosts the mock cluster; silence its "no bootstrap.servers" log.
  TF_RETURN_IF_ERROR(detail::set_property(conf.get(), "log_level", "3"));
  auto impl = std::make_unique<Impl>();
  impl->num_brokers = options.num_brokers;
  TF_ASSIGN_OR_RETURN(impl->rk, detail::make_handle(RD_KAFKA_PRODUCER, std::move(conf)));
  impl->mock = rd_kafka_mock_cluster_new(impl->rk.get(), options.num_brokers);
  if (impl->mock == nullptr) return Status::internal("embedded broker: rd_kafka_mock_cluster_new failed");
  std::string bootstrap = rd_kafka_mock_cluster_bootstraps(impl->mock);
  return std::unique_ptr<EmbeddedBroker>(new EmbeddedBroker(std::move(impl), std::move(bootstrap)));
}

EmbeddedBroker::EmbeddedBroker(std::unique_ptr<Impl> impl, std::string bootstrap)
    : _impl(std::move(impl)), _bootstrap(std::move(bootstrap)) {
  // Address-derived like the mock's id, plus the start time: unique across starts.
  char id[64];
  std::snprintf(id, sizeof id, "embedded-%p-%llx", static_cast<void*>(this),
                static_cast<unsigned long long>(std::chrono::system_clock::now().time_since_epoch().count()));
  _log_id = id;
}

EmbeddedBroker::~EmbeddedBroker() = default;

Status EmbeddedBroker::create_topic(const std::string& topic, int partitions, int replication_factor) {
  if (partitions < 1) return Status::invalid_argument("embedded broker topic '" + topic + "': partitions must be >= 1");
  const int rf = std::clamp(replication_factor, 1, _impl->num_brokers);
  return detail::status_from_err(rd_kafka_mock_topic_create(_impl->mock, topic.c_str(), partitions, rf),
                                 "embedded broker create topic '" + topic + "'");
}

}  // namespace tracefeed::kafka
