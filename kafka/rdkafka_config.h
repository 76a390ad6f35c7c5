#pragma once
// PRIVATE to kafka/: builds librdkafka configurations and maps librdkafka errors to Status.
// Never include from outside kafka/ (it pulls in librdkafka).

#include <librdkafka/rdkafka.h>

#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "kafka/client_options.h"

namespace tracefeed::kafka::detail {

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using HandlePtr = std::unique_ptr<rd_kafka_t, HandleDeleter>;

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
};
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

struct ErrorDeleter {
  void operator()(rd_kafka_error_t* e) const { rd_kafka_error_destroy(e); }
};
using ErrorPtr = std::unique_ptr<rd_kafka_error_t, ErrorDeleter>;

// Sets one property; the error names it: "kafka property 'linger.ms': ...".
[[nodiscard]] Status set_property(rd_kafka_conf_t* conf, const std::string& name, const std::string& value);

// A configuration with bootstrap.servers/client.id from `options`, then `defaults`, then
// options.properties (the caller's pass-through wins).
[[nodiscard]] Result<ConfPtr> make_conf(const ClientOptions& options,
                                        const std::vector<std::pair<std::string, std::string>>& defaults);

// Creates the handle; takes ownership of conf in all cases.
[[nodiscard]] Result<HandlePtr> make_handle(rd_kafka_type_t type, ConfPtr conf);

// rd_kafka_resp_err_t → Status (ok for NO_ERROR). `what` prefixes the message.
[[nodiscard]] Status status_from_err(rd_kafka_resp_err_t err, std::string_view what);

// rd_kafka_error_t (transactional API) → Status using the retriable/abortable/fatal classes
// documented in producer.h. Takes ownership of `error`; nullptr → ok.
[[nodiscard]] Status status_from_error(rd_kafka_error_t* error, std::string_view what);

[[nodiscard]] PartitionListPtr to_list(std::span<const TopicPartitionOffset> offsets);
[[nodiscard]] std::vector<TopicPartitionOffset> from_list(const rd_kafka_topic_partition_list_t* list);

}  // namespace tracefeed::kafka::detail
