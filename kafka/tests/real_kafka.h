#pragma once
// Test support for kafka/ and the modules above it: where the real broker is, unique topic
// names, and waiting on a condition with a deadline (tests never sleep to synchronise).
//
// Real broker resolution, first match wins:
//   1. env TRACEFEED_TEST_KAFKA_BOOTSTRAP (an external broker, e.g. in CI);
//   2. the ctest fixture's file <build>/kafka-testbed/bootstrap (kafka_broker_start);
//   3. start one with scripts/kafka/start.sh into <build>/kafka-testbed-direct, stopped at process
//      exit — so a test binary run by hand works too.

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace tracefeed::kafka::testing {

// Thread-safe; starts the broker at most once per process.
[[nodiscard]] Result<std::string> real_kafka_bootstrap();

// "tf-<prefix>-<pid>-<n>-<random>": unique across tests, processes and reruns against one broker.
[[nodiscard]] std::string unique_name(std::string_view prefix);

// Calls `condition` until it returns true or `timeout` passes; returns the last result.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval = std::chrono::milliseconds(10));

// Base fixture for tests against the real broker: fails (not skips) the test if there is none.
class RealKafkaTest : public ::testing::Test {
 protected:
  void SetUp() override;
  const std::string& bootstrap() const { return _bootstrap; }
  // A fresh topic name for this test.
  std::string topic(std::string_view suffix = "t");

 private:
  std::string _bootstrap;
};

}  // namespace tracefeed::kafka::testing
