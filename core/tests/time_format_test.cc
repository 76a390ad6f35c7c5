#include "core/time_format.h"

#include <gtest/gtest.h>

namespace tracefeed {
namespace {

TEST(TimeFormat, ParsesRfc3339) {
  EXPECT_EQ(parse_rfc3339_ns("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_rfc3339_ns("2025-06-01T12:00:00.250Z"), 1748779200250000000LL);
  EXPECT_EQ(parse_rfc3339_ns("2025-06-01T14:00:00.250+02:00"), 1748779200250000000LL);
  EXPECT_EQ(parse_rfc3339_ns("2025-06-01T12:00:00.123456789Z"), 1748779200123456789LL);
  EXPECT_FALSE(parse_rfc3339_ns("2025-06-01"));
  EXPECT_FALSE(parse_rfc3339_ns("2025-13-01T12:00:00Z"));
  EXPECT_FALSE(parse_rfc3339_ns("2025-06-01T12:00:00"));  // no zone
  EXPECT_FALSE(parse_rfc3339_ns("2025-06-01T12:00:00Zjunk"));
}

TEST(TimeFormat, FormatsLikeProtobuf) {
  EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(1748779200250000000LL), "2025-06-01T12:00:00.250Z");
  EXPECT_EQ(format_rfc3339(1748779200000001000LL), "2025-06-01T12:00:00.000001Z");
  for (int64_t ns : {0LL, 1LL, 1748779200123456789LL, 951782400000000000LL /* 2000-02-29 */}) {
    EXPECT_EQ(parse_rfc3339_ns(format_rfc3339(ns)), ns);
  }
}

TEST(TimeFormat, Durations) {
  EXPECT_EQ(parse_duration_ns("1.250s"), 1'250'000'000);
  EXPECT_EQ(parse_duration_ns("3s"), 3'000'000'000);
  EXPECT_EQ(parse_duration_ns("-0.5s"), -500'000'000);
  EXPECT_EQ(parse_duration_ns(".5s"), 500'000'000);
  EXPECT_FALSE(parse_duration_ns("1.250"));
  EXPECT_FALSE(parse_duration_ns("s"));
  EXPECT_FALSE(parse_duration_ns("1.2.3s"));
  EXPECT_EQ(format_duration(1'250'000'000), "1.250s");
  EXPECT_EQ(format_duration(3'000'000'000), "3s");
}

}  // namespace
}  // namespace tracefeed
