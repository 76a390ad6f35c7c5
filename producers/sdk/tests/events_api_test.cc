#include "producers/sdk/events_api.h"

#include <gtest/gtest.h>

namespace tracefeed {
namespace {

using namespace std::chrono_literals;

TEST(EventsApi, ParsesAcceptedAndRejected) {
  auto ok = parse_events_response(R"({"accepted": 3})");
  ASSERT_TRUE(ok.is_ok());
  EXPECT_EQ(ok->accepted, 3u);
  EXPECT_TRUE(ok->rejected.empty());
  auto partial = parse_events_response(
      R"({"accepted":1,"rejected":[{"index":1,"error_code":"INVALID_PARAMETER_VALUE","message":"assessment.assessment_name: must not contain '.'"}]})");
  ASSERT_TRUE(partial.is_ok()) << partial.status().to_string();
  ASSERT_EQ(partial->rejected.size(), 1u);
  EXPECT_EQ(partial->rejected[0].index, 1u);
  EXPECT_EQ(partial->rejected[0].error_code, "INVALID_PARAMETER_VALUE");
  EXPECT_FALSE(parse_events_response("nope").is_ok());
  EXPECT_FALSE(parse_events_response(R"({"rejected":[]})").is_ok());
}

TEST(EventsApi, RetryAfterAndRetriableStatuses) {
  EXPECT_EQ(parse_retry_after("2"), std::optional(2000ms));
  EXPECT_EQ(parse_retry_after(" 0.5 "), std::optional(500ms));
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), std::nullopt);
  EXPECT_TRUE(is_retriable_http_status(503));
  EXPECT_TRUE(is_retriable_http_status(429));
  EXPECT_TRUE(is_retriable_http_status(502));
  EXPECT_FALSE(is_retriable_http_status(400));
  EXPECT_FALSE(is_retriable_http_status(413));
  EXPECT_FALSE(is_retriable_http_status(501));
}

TEST(EventsApi, BaseUrls) {
  auto a = parse_base_url("http://127.0.0.1:8080");
  ASSERT_TRUE(a.is_ok());
  EXPECT_EQ(a->scheme_host_port, "http://127.0.0.1:8080");
  EXPECT_EQ(a->path_prefix, "");
  auto b = parse_base_url("http://gw:80/tracefeed/");
  ASSERT_TRUE(b.is_ok());
  EXPECT_EQ(b->scheme_host_port, "http://gw:80");
  EXPECT_EQ(b->path_prefix, "/tracefeed");
  EXPECT_FALSE(parse_base_url("https://x").is_ok());
  EXPECT_FALSE(parse_base_url("http://").is_ok());
  EXPECT_EQ(error_body_message(R"({"error_code":"X","message":"m"})"), "X: m");
  EXPECT_EQ(error_body_message("plain\n"), "plain");
}

}  // namespace
}  // namespace tracefeed
