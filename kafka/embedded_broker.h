#pragma once
// An in-process Kafka "cluster" for component tests and single-process demos: librdkafka's mock
// cluster. It listens on random 127.0.0.1 ports, so other processes (kcat, Python clients, a
// second tracefeed process) can connect once they know bootstrap_servers().
//
// Limits (see kafka/README.md): volatile (memory only); keeps at most ~5 MiB per partition and
// silently drops older data; transactions return OK but guarantee nothing (read_committed
// consumers see aborted data, offsets sent in a transaction are not stored). Exactly-once tests
// need the real broker (scripts/kafka/).
//
// Thread model: thread-safe; the cluster runs on librdkafka's own mock thread. The cluster lives
// until the EmbeddedBroker is destroyed — clients connected to it must be closed first.

#include <memory>
#include <string>

#include "core/result.h"

namespace tracefeed::kafka {

struct EmbeddedBrokerOptions {
  // Number of mock brokers. Default: 1.
  int num_brokers = 1;
};

class EmbeddedBroker {
 public:
  [[nodiscard]] static Result<std::unique_ptr<EmbeddedBroker>> start(EmbeddedBrokerOptions options = {});
  ~EmbeddedBroker();
  EmbeddedBroker(const EmbeddedBroker&) = delete;
  EmbeddedBroker& operator=(const EmbeddedBroker&) = delete;

  // "127.0.0.1:PORT[,...]".
  [[nodiscard]] const std::string& bootstrap_servers() const { return _bootstrap; }

  // An id of this cluster's log, unique per start. Use it where a cluster id keys stored state
  // (offsets): the mock's own cluster id is derived from a memory address and can repeat, while
  // every start is a new, empty log.
  [[nodiscard]] const std::string& log_id() const { return _log_id; }

  // Creates `topic` with `partitions` partitions (replication factor capped at num_brokers).
  [[nodiscard]] Status create_topic(const std::string& topic, int partitions, int replication_factor = 1);

  struct Impl;

 private:
  EmbeddedBroker(std::unique_ptr<Impl> impl, std::string bootstrap);
  std::unique_ptr<Impl> _impl;
  std::string _bootstrap;
  std::string _log_id;
};

}  // namespace tracefeed::kafka
