#include "core/json_writer.h"

#include <gtest/gtest.h>

namespace tracefeed {
namespace {

TEST(JsonWriter, PlacesCommasAndEscapes) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.field("a", "x\"y\\z\n\x01");
  w.key("list");
  w.begin_array();
  w.int64(-3);
  w.boolean(true);
  w.null();
  w.begin_object();
  w.end_object();
  w.number(0.5);
  w.end_array();
  w.field_raw("raw", "{\"k\":1}");
  w.field_int("n", 7);
  w.end_object();
  EXPECT_EQ(out, R"({"a":"x\"y\\z\n\u0001","list":[-3,true,null,{},0.5],"raw":{"k":1},"n":7})");
}

TEST(JsonWriter, NonFiniteNumbersBecomeNull) {
  std::string out;
  JsonWriter w(out);
  w.begin_array();
  w.number(1.0 / 0.0);
  w.number(1e300);
  w.end_array();
  EXPECT_EQ(out, "[null,1e+300]");
}

}  // namespace
}  // namespace tracefeed

namespace tracefeed {
namespace {

std::string reference_escape(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out + "\"";
}

// The word-at-a-time scan must agree with a byte-at-a-time reference for every byte value at
// every position (false positives are allowed internally, false negatives are not).
TEST(JsonWriter, EscapingMatchesAReferenceAtEveryPosition) {
  for (int c = 0; c < 256; ++c) {
    for (size_t len = 1; len <= 24; ++len) {
      for (size_t pos = 0; pos < len; ++pos) {
        std::string s(len, 'a');
        s[pos] = static_cast<char>(c);
        std::string out;
        JsonWriter::append_escaped(out, s);
        ASSERT_EQ(out, reference_escape(s)) << "byte " << c << " at " << pos << " of " << len;
      }
    }
  }
}

}  // namespace
}  // namespace tracefeed
