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
