#include "kafka/admin.h"

#include <librdkafka/rdkafka.h>

#include "kafka/rdkafka_config.h"

namespace tracefeed::kafka {
namespace {

int to_ms(std::chrono::milliseconds d) { return static_cast<int>(std::max<std::int64_t>(0, d.count())); }

struct QueueDeleter {
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};
struct EventDeleter {
  void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); }
};
struct AdminOptionsDeleter {
  void operator()(rd_kafka_AdminOptions_t* o) const { rd_kafka_AdminOptions_destroy(o); }
};
struct NewTopicDeleter {
  void operator()(rd_kafka_NewTopic_t* t) const { rd_kafka_NewTopic_destroy(t); }
};
struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* m) const { rd_kafka_metadata_destroy(m); }
};

}  // namespace

struct Admin::Impl {
  detail::HandlePtr rk;
};

Result<std::unique_ptr<Admin>> Admin::create(ClientOptions options) {
  TF_ASSIGN_OR_RETURN(detail::ConfPtr conf, detail::make_conf(options, {{"allow.auto.create.topics", "false"}}));
  auto impl = std::make_unique<Impl>();
  TF_ASSIGN_OR_RETURN(impl->rk, detail::make_handle(RD_KAFKA_PRODUCER, std::move(conf)));
  return std::unique_ptr<Admin>(new Admin(std::move(impl)));
}

Admin::Admin(std::unique_ptr<Impl> impl) : _impl(std::move(impl)) {}
Admin::~Admin() = default;

Status Admin::create_topics(const std::vector<TopicSpec>& topics, std::chrono::milliseconds timeout) {
  if (topics.empty()) return Status::ok();
  rd_kafka_t* rk = _impl->rk.get();
  std::vector<std::unique_ptr<rd_kafka_NewTopic_t, NewTopicDeleter>> owned;
  std::vector<rd_kafka_NewTopic_t*> raw;
  char errstr[512];
  for (const TopicSpec& spec : topics) {
    rd_kafka_NewTopic_t* nt =
        rd_kafka_NewTopic_new(spec.name.c_str(), spec.partitions, spec.replication_factor, errstr, sizeof(errstr));
    if (nt == nullptr) return Status::invalid_argument("kafka create topic '" + spec.name + "': " + errstr);
    owned.emplace_back(nt);
    raw.push_back(nt);
    for (const auto& [k, v] : spec.config) {
      TF_RETURN_IF_ERROR(detail::status_from_err(rd_kafka_NewTopic_set_config(nt, k.c_str(), v.c_str()),
                                                 "kafka create topic '" + spec.name + "' config '" + k + "'"));
    }
  }
  std::unique_ptr<rd_kafka_AdminOptions_t, AdminOptionsDeleter> opts(
      rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS));
  (void)rd_kafka_AdminOptions_set_request_timeout(opts.get(), to_ms(timeout), errstr, sizeof(errstr));
  (void)rd_kafka_AdminOptions_set_operation_timeout(opts.get(), to_ms(timeout), errstr, sizeof(errstr));
  std::unique_ptr<rd_kafka_queue_t, QueueDeleter> queue(rd_kafka_queue_new(rk));
  rd_kafka_CreateTopics(rk, raw.data(), raw.size(), opts.get(), queue.get());
  // The result event always arrives (librdkafka enforces the request timeout); the margin covers
  // scheduling.
  std::unique_ptr<rd_kafka_event_t, EventDeleter> ev(rd_kafka_queue_poll(queue.get(), to_ms(timeout) + 5000));
  if (!ev) return Status::timeout("kafka create_topics: no result within timeout");
  TF_RETURN_IF_ERROR(detail::status_from_err(rd_kafka_event_error(ev.get()), "kafka create_topics"));
  const rd_kafka_CreateTopics_result_t* res = rd_kafka_event_CreateTopics_result(ev.get());
  if (res == nullptr) return Status::internal("kafka create_topics: unexpected event");
  size_t n = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(res, &n);
  for (size_t i = 0; i < n; ++i) {
    const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) continue;
    const char* detail = rd_kafka_topic_result_error_string(results[i]);
    Status s = detail::status_from_err(err, std::string("kafka create topic '") + rd_kafka_topic_result_name(results[i]) +
                                                "'" + (detail != nullptr ? std::string(" (") + detail + ")" : ""));
    return s;
  }
  return Status::ok();
}

Result<int> Admin::describe_topic_partitions(const std::string& topic, std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* raw = nullptr;
  // All-topics metadata: asking for one topic by name could auto-create it on brokers that allow it.
  TF_RETURN_IF_ERROR(detail::status_from_err(rd_kafka_metadata(_impl->rk.get(), 1, nullptr, &raw, to_ms(timeout)),
                                             "kafka metadata"));
  std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter> md(raw);
  for (int i = 0; i < md->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = md->topics[i];
    if (topic != t.topic) continue;
    TF_RETURN_IF_ERROR(detail::status_from_err(t.err, "kafka metadata for topic '" + topic + "'"));
    return t.partition_cnt;
  }
  return Status::not_found("kafka topic '" + topic + "': does not exist");
}

Result<std::string> Admin::cluster_id(std::chrono::milliseconds timeout) {
  char* id = rd_kafka_clusterid(_impl->rk.get(), to_ms(timeout));
  if (id == nullptr) return Status::unavailable("kafka cluster_id: the cluster reported none within timeout");
  std::string out(id);
  rd_kafka_mem_free(_impl->rk.get(), id);
  return out;
}

}  // namespace tracefeed::kafka
