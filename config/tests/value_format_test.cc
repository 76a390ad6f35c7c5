#include "config/value_format.h"

#include <gtest/gtest.h>

namespace tracefeed::config {
namespace {

TEST(ValueFormat, Sizes) {
  EXPECT_EQ(parse_size("1024"), 1024u);
  EXPECT_EQ(parse_size("512MiB"), 512ull << 20);
  EXPECT_EQ(parse_size("16 mib"), 16ull << 20);
  EXPECT_EQ(parse_size("1.5GiB"), 3ull << 29);
  EXPECT_EQ(parse_size("10MB"), 10'000'000u);
  EXPECT_EQ(parse_size("1B"), 1u);
  EXPECT_FALSE(parse_size(""));
  EXPECT_FALSE(parse_size("MiB"));
  EXPECT_FALSE(parse_size("12XB"));
  EXPECT_FALSE(parse_size("-1"));
  EXPECT_FALSE(parse_size("99999999TiB"));
  EXPECT_EQ(format_size(512ull << 20), "512MiB");
  EXPECT_EQ(format_size(1000), "1000B");
  EXPECT_EQ(format_size(0), "0B");
}

TEST(ValueFormat, Durations) {
  using namespace std::chrono_literals;
  EXPECT_EQ(parse_duration("500ms"), 500ms);
  EXPECT_EQ(parse_duration("30s"), 30s);
  EXPECT_EQ(parse_duration("15m"), 15min);
  EXPECT_EQ(parse_duration("1h30m"), 90min);
  EXPECT_EQ(parse_duration("1d"), 24h);
  EXPECT_FALSE(parse_duration(""));
  EXPECT_FALSE(parse_duration("30"));
  EXPECT_FALSE(parse_duration("1w"));
  EXPECT_FALSE(parse_duration("-5s"));
  EXPECT_EQ(format_duration(15min), "15m");
  EXPECT_EQ(format_duration(1500ms), "1500ms");
}

TEST(ValueFormat, Addresses) {
  EXPECT_EQ(check_host_port("127.0.0.1:8080"), "");
  EXPECT_EQ(check_host_port("[::1]:0"), "");
  EXPECT_EQ(check_host_port("localhost:80"), "");
  EXPECT_NE(check_host_port("localhost"), "");
  EXPECT_NE(check_host_port("::1:80"), "");
  EXPECT_NE(check_host_port(":80"), "");
  EXPECT_NE(check_host_port("a b:80"), "");
  EXPECT_EQ(check_brokers("embedded"), "");
  EXPECT_EQ(check_brokers("a:9092,b:9093"), "");
  EXPECT_NE(check_brokers("a:9092,"), "");
  EXPECT_NE(check_brokers("a:0"), "");
  EXPECT_EQ(check_http_url("https://x.example.com/hook"), "");
  EXPECT_EQ(check_http_url("http://user:pw@localhost:8080"), "");
  EXPECT_EQ(check_http_url("http://[::1]:8080/x"), "");
  EXPECT_NE(check_http_url("https://"), "");
  EXPECT_NE(check_http_url("https://x y"), "");
  EXPECT_NE(check_http_url("x.example.com"), "");
  EXPECT_NE(check_http_url("http://x:99999"), "");
}

TEST(ValueFormat, NamesAndEnvVars) {
  EXPECT_EQ(check_name("response_accuracy"), "");
  EXPECT_EQ(check_name("Partially Accurate"), "");
  EXPECT_NE(check_name(""), "");
  EXPECT_NE(check_name("a.b"), "");
  EXPECT_NE(check_name("a/b"), "");
  EXPECT_NE(check_name(" a"), "");
  EXPECT_NE(check_name(std::string(257, 'a')), "");
  EXPECT_EQ(check_env_var_name("OPENAI_API_KEY"), "");
  EXPECT_NE(check_env_var_name("1X"), "");
  EXPECT_NE(check_env_var_name("A-B"), "");
  EXPECT_EQ(edit_distance("partitons", "partitions"), 1u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
}

}  // namespace
}  // namespace tracefeed::config
