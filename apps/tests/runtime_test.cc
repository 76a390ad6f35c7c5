#include "apps/runtime.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>

namespace tracefeed::apps {
namespace {

namespace fs = std::filesystem;

class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    _dir = fs::temp_directory_path() / ("tracefeed-runtime-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(_dir);
  }
  void TearDown() override { fs::remove_all(_dir); }

  config::Config embedded_config() {
    auto parsed = config::parse_config_string(
        "kafka: {brokers: embedded, partitions: 2}\n"
        "state: {dir: \"" + _dir.string() + "\"}\n"
        "http: {listen: \"127.0.0.1:0\"}\n",
        "test.yaml");
    EXPECT_TRUE(parsed.ok()) << parsed.status().to_string();
    return parsed.config;
  }

  // Polls until /readyz says 200, with a deadline (readiness depends on a broker round trip).
  static bool wait_ready(const std::string& base_url) {
    httplib::Client client(base_url);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = client.Get("/readyz");
      if (r && r->status == 200) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // poll interval, not a synchronisation sleep
    }
    return false;
  }

  fs::path _dir;
  SystemClock& _clock = SystemClock::instance();
};

TEST_F(RuntimeTest, StartsEmbeddedAndServesHealth) {
  auto rt = Runtime::start(embedded_config(), _clock);
  ASSERT_TRUE(rt.is_ok()) << rt.status().to_string();
  EXPECT_TRUE((*rt)->embedded());
  EXPECT_FALSE((*rt)->kafka_bootstrap().empty());
  EXPECT_FALSE((*rt)->cluster_id().empty());
  EXPECT_EQ((*rt)->topics().traces, "tracefeed.traces");
  EXPECT_TRUE(fs::exists(_dir));

  httplib::Client client((*rt)->http_base_url());
  auto health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_TRUE(wait_ready((*rt)->http_base_url()));
  (*rt)->stop();
  (*rt)->stop();  // idempotent
}

TEST_F(RuntimeTest, SecondInstanceOnTheSameStateDirFailsClearly) {
  auto first = Runtime::start(embedded_config(), _clock);
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  auto second = Runtime::start(embedded_config(), _clock);
  ASSERT_FALSE(second.is_ok());
  EXPECT_NE(second.status().message().find(_dir.string()), std::string::npos) << second.status().to_string();
}

TEST_F(RuntimeTest, RestartReopensStateWithANewEmbeddedCluster) {
  std::string first_cluster;
  {
    auto rt = Runtime::start(embedded_config(), _clock);
    ASSERT_TRUE(rt.is_ok()) << rt.status().to_string();
    first_cluster = (*rt)->cluster_id();
  }
  auto rt = Runtime::start(embedded_config(), _clock);
  ASSERT_TRUE(rt.is_ok()) << rt.status().to_string();
  // A restarted embedded broker is a new cluster: its offsets must never be confused with the
  // old one's (they are stored per cluster id).
  EXPECT_FALSE((*rt)->cluster_id().empty());
  EXPECT_NE((*rt)->cluster_id(), first_cluster);
}

TEST_F(RuntimeTest, UnreachableBrokerIsAClearError) {
  auto cfg = embedded_config();
  cfg.kafka.brokers = "127.0.0.1:1";  // nothing listens on port 1
  auto rt = Runtime::start(cfg, _clock);
  ASSERT_FALSE(rt.is_ok());
  EXPECT_NE(rt.status().message().find("kafka"), std::string::npos) << rt.status().to_string();
}

}  // namespace
}  // namespace tracefeed::apps
