#include "producers/otlp/gzip.h"

#include <gtest/gtest.h>

namespace tracefeed::otlp {
namespace {

TEST(GzipTest, RoundTrip) {
  const std::string text = "hello OTLP " + std::string(10000, 'x');
  auto z = gzip(text);
  ASSERT_TRUE(z.is_ok());
  EXPECT_TRUE(is_gzip(*z));
  auto back = gunzip(*z, 1 << 20);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(*back, text);
}

TEST(GzipTest, EmptyAndConcatenatedMembers) {
  auto a = gzip("");
  auto b = gzip("abc");
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  auto back = gunzip(*a + *b + *b, 100);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(*back, "abcabc");
}

TEST(GzipTest, ExactlyAtTheLimitIsAccepted) {
  auto z = gzip(std::string(4096, 'a'));
  ASSERT_TRUE(z.is_ok());
  auto ok = gunzip(*z, 4096);
  ASSERT_TRUE(ok.is_ok());
  EXPECT_EQ(ok->size(), 4096u);
  auto over = gunzip(*z, 4095);
  ASSERT_FALSE(over.is_ok());
  EXPECT_EQ(over.status().code(), ErrorCode::payload_too_large);
}

TEST(GzipTest, ZipBombStopsAtTheLimit) {
  // 64 MiB of zeros compress to ~64 KiB; the limit is 1 MiB.
  auto z = gzip(std::string(64u << 20, '\0'));
  ASSERT_TRUE(z.is_ok());
  EXPECT_LT(z->size(), 100u << 10);
  auto r = gunzip(*z, 1u << 20);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::payload_too_large);
  EXPECT_NE(r.status().message().find("inflates to more than the limit of 1048576 bytes"), std::string::npos);
}

TEST(GzipTest, CorruptAndTruncatedInputs) {
  auto z = gzip(std::string(1000, 'q') + "tail");
  ASSERT_TRUE(z.is_ok());
  auto truncated = gunzip(std::string_view(*z).substr(0, z->size() / 2), 1 << 20);
  ASSERT_FALSE(truncated.is_ok());
  EXPECT_EQ(truncated.status().code(), ErrorCode::invalid_argument);
  std::string corrupt = *z;
  corrupt[12] ^= 0x5a;
  corrupt[13] ^= 0x5a;
  EXPECT_FALSE(gunzip(corrupt, 1 << 20).is_ok());
  EXPECT_FALSE(gunzip("not gzip", 1 << 20).is_ok());
  EXPECT_FALSE(gunzip(*z + "trailing garbage", 1 << 20).is_ok());
}

}  // namespace
}  // namespace tracefeed::otlp
