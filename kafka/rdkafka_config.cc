#include "kafka/rdkafka_config.h"

#include <span>

namespace tracefeed::kafka::detail {

Status set_property(rd_kafka_conf_t* conf, const std::string& name, const std::string& value) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
    return Status::invalid_argument("kafka property '" + name + "': " + errstr);
  }
  return Status::ok();
}

Result<ConfPtr> make_conf(const ClientOptions& options,
                          const std::vector<std::pair<std::string, std::string>>& defaults) {
  if (options.brokers.empty()) return Status::invalid_argument("kafka brokers: must not be empty");
  ConfPtr conf(rd_kafka_conf_new());
  TF_RETURN_IF_ERROR(set_property(conf.get(), "bootstrap.servers", options.brokers));
  TF_RETURN_IF_ERROR(set_property(conf.get(), "client.id", options.client_id));
  for (const auto& [k, v] : defaults) TF_RETURN_IF_ERROR(set_property(conf.get(), k, v));
  for (const auto& [k, v] : options.properties) TF_RETURN_IF_ERROR(set_property(conf.get(), k, v));
  return conf;
}

Result<HandlePtr> make_handle(rd_kafka_type_t type, ConfPtr conf) {
  char errstr[512];
  // rd_kafka_new takes the conf only on success.
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), errstr, sizeof(errstr));
  if (rk == nullptr) return Status::invalid_argument(std::string("kafka client: ") + errstr);
  (void)conf.release();
  return HandlePtr(rk);
}

Status status_from_err(rd_kafka_resp_err_t err, std::string_view what) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::ok();
  std::string msg = std::string(what) + ": " + rd_kafka_err2str(err) + " (" + rd_kafka_err2name(err) + ")";
  switch (err) {
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
    case RD_KAFKA_RESP_ERR__DESTROY:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
      return Status::unavailable(std::move(msg));
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
      return Status::timeout(std::move(msg));
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
      return {ErrorCode::payload_too_large, std::move(msg)};
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
      return Status::not_found(std::move(msg));
    case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:
      return Status::already_exists(std::move(msg));
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
      return {ErrorCode::permission_denied, std::move(msg)};
    case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR__FENCED:
    case RD_KAFKA_RESP_ERR_PRODUCER_FENCED:
    case RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH:
      return Status::conflict(std::move(msg));
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR__STATE:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
      return Status::invalid_argument(std::move(msg));
    default:
      return Status::internal(std::move(msg));
  }
}

Status status_from_error(rd_kafka_error_t* raw, std::string_view what) {
  if (raw == nullptr) return Status::ok();
  ErrorPtr error(raw);
  const rd_kafka_resp_err_t code = rd_kafka_error_code(error.get());
  std::string detail = std::string(what) + ": " + rd_kafka_error_string(error.get()) + " (" +
                       rd_kafka_error_name(error.get()) + ")";
  if (rd_kafka_error_is_fatal(error.get())) return Status::internal("fatal: " + detail);
  if (rd_kafka_error_txn_requires_abort(error.get())) return Status::conflict("abortable: " + detail);
  if (rd_kafka_error_is_retriable(error.get())) {
    if (code == RD_KAFKA_RESP_ERR__TIMED_OUT) return Status::timeout("retriable: " + detail);
    return Status::unavailable("retriable: " + detail);
  }
  if (code == RD_KAFKA_RESP_ERR__TIMED_OUT) return Status::timeout(detail);
  return Status::invalid_argument(detail);
}

PartitionListPtr to_list(std::span<const TopicPartitionOffset> offsets) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& tpo : offsets) {
    rd_kafka_topic_partition_list_add(list.get(), tpo.topic.c_str(), tpo.partition)->offset = tpo.offset;
  }
  return list;
}

std::vector<TopicPartitionOffset> from_list(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartitionOffset> out;
  if (list == nullptr) return out;
  out.reserve(static_cast<std::size_t>(list->cnt));
  for (int i = 0; i < list->cnt; ++i) {
    const auto& e = list->elems[i];
    out.push_back({e.topic, e.partition, e.offset});
  }
  return out;
}

}  // namespace tracefeed::kafka::detail
