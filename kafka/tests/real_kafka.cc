#include "kafka/tests/real_kafka.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

namespace tracefeed::kafka::testing {
namespace {

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (in) std::getline(in, line);
  return line;
}

std::string self_started_dir() { return std::string(TRACEFEED_KAFKA_TESTBED_DIR) + "-direct"; }

void stop_self_started() {
  const std::string cmd = std::string(TRACEFEED_KAFKA_SCRIPTS_DIR) + "/stop.sh '" + self_started_dir() + "'";
  (void)std::system(cmd.c_str());
}

Result<std::string> resolve() {
  if (const char* env = std::getenv("TRACEFEED_TEST_KAFKA_BOOTSTRAP"); env != nullptr && *env != '\0') {
    return std::string(env);
  }
  std::string from_fixture = read_first_line(std::string(TRACEFEED_KAFKA_TESTBED_DIR) + "/bootstrap");
  if (!from_fixture.empty()) return from_fixture;

  const std::string dir = self_started_dir();
  const std::string cmd = std::string(TRACEFEED_KAFKA_SCRIPTS_DIR) + "/start.sh '" + dir + "' >/dev/null";
  if (std::system(cmd.c_str()) != 0) {
    return Status::unavailable("real kafka: " + cmd + " failed (see " + dir + ")");
  }
  std::atexit(&stop_self_started);
  std::string started = read_first_line(dir + "/bootstrap");
  if (started.empty()) return Status::unavailable("real kafka: no bootstrap file in " + dir);
  return started;
}

}  // namespace

Result<std::string> real_kafka_bootstrap() {
  static std::once_flag once;
  static Result<std::string> result = Status::internal("unset");
  std::call_once(once, [] { result = resolve(); });
  return result;
}

std::string unique_name(std::string_view prefix) {
  static std::atomic<int> counter{0};
  static const unsigned salt = std::random_device{}();
  char buf[64];
  std::snprintf(buf, sizeof(buf), "-%d-%d-%08x", static_cast<int>(::getpid()), counter.fetch_add(1), salt);
  return "tf-" + std::string(prefix) + buf;
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(interval);
  }
}

void RealKafkaTest::SetUp() {
  Result<std::string> b = real_kafka_bootstrap();
  ASSERT_TRUE(b.is_ok()) << b.status().to_string();
  _bootstrap = *b;
}

std::string RealKafkaTest::topic(std::string_view suffix) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(info->name()) + "-" + std::string(suffix);
  for (char& c : name) {
    if (c == '/') c = '.';
  }
  return unique_name(name);
}

}  // namespace tracefeed::kafka::testing
