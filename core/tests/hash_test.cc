#include "core/hash.h"

#include <gtest/gtest.h>

#include <string>

namespace tracefeed {
namespace {

// Reference values from xxHash's own implementation (Python xxhash.xxh64_intdigest).
TEST(Xxh64, MatchesTheReference) {
  EXPECT_EQ(xxh64(""), 0xEF46DB3751D8E999ULL);
  EXPECT_EQ(xxh64("abc"), 0x44BC2CF5AD770999ULL);
  EXPECT_EQ(xxh64("The quick brown fox jumps over the lazy dog"), 0x0B242D361FDA71BCULL);
  EXPECT_EQ(xxh64("", 1), 0xd5afba1336a3be4bULL);
  EXPECT_EQ(xxh64("abc", 0x6d6c666c6f77ULL), 0x2b328e0beb95c19bULL);
  EXPECT_EQ(xxh64("0123456789abcdef0123456789abcdef-tail", 42), 0x1ce52ea36d3b7728ULL);  // a full stripe + tail
  EXPECT_EQ(xxh64("ev-1", 0x5eed), 0x623194d7b3c45efaULL);
}

TEST(Xxh64, EmptyViewsAreFine) {
  Xxh64 h(3);
  h.update(std::string_view());  // data() is null: must not reach memcpy (UBSan checks)
  h.update("abc");
  h.update(std::string_view());
  EXPECT_EQ(h.digest(), xxh64("abc", 3));
}

TEST(Xxh64, StreamingEqualsOneShot) {
  const std::string data(100, 'x');
  for (size_t cut = 0; cut <= data.size(); cut += 7) {
    Xxh64 h(9);
    h.update(std::string_view(data).substr(0, cut));
    h.update(std::string_view(data).substr(cut));
    EXPECT_EQ(h.digest(), xxh64(data, 9)) << cut;
  }
}

}  // namespace
}  // namespace tracefeed
