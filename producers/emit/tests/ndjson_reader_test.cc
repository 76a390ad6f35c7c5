#include "producers/emit/ndjson_reader.h"

#include <gtest/gtest.h>

#include <sstream>

namespace tracefeed::emit {
namespace {

TEST(NdjsonReader, SkipsBlankLinesAndCountsLines) {
  std::istringstream in("{\"a\":1}\n\n   \n{\"b\":2}\r\n{\"c\":3}");
  NdjsonReader r(in, "events.ndjson");
  std::string line;
  ASSERT_TRUE(r.next(line).is_ok());
  EXPECT_EQ(line, R"({"a":1})");
  EXPECT_EQ(r.line_number(), 1u);
  ASSERT_TRUE(r.next(line).is_ok());
  EXPECT_EQ(line, R"({"b":2})") << "CR dropped";
  EXPECT_EQ(r.line_number(), 4u);
  ASSERT_TRUE(r.next(line).is_ok());
  EXPECT_EQ(line, R"({"c":3})") << "last line without newline";
  EXPECT_EQ(r.line_number(), 5u);
  EXPECT_EQ(r.next(line).code(), ErrorCode::not_found);
}

TEST(NdjsonReader, OverlongLinesAreErrorsWithTheirLineNumber) {
  std::istringstream in("{}\n" + std::string(100, 'x') + "\n{}\n");
  NdjsonReader r(in, "f.ndjson", 50);
  std::string line;
  ASSERT_TRUE(r.next(line).is_ok());
  Status s = r.next(line);
  EXPECT_EQ(s.code(), ErrorCode::invalid_argument);
  EXPECT_EQ(s.message().rfind("f.ndjson:2: ", 0), 0u) << s.message();
  ASSERT_TRUE(r.next(line).is_ok()) << "reading goes on after a bad line";
  EXPECT_EQ(r.line_number(), 3u);
}

TEST(NdjsonReader, InvalidEnvelopesNameFileLineAndField) {
  std::istringstream in(
      "not json\n"
      R"({"event_id":"e1","type":"assessment","assessment":{"trace_id":"tr-0123456789abcdef0123456789abcdef","assessment_name":"a.b","feedback":{"value":true}}})"
      "\n"
      R"({"event_id":"e2","type":"assessment","assessment":{"trace_id":"tr-0123456789abcdef0123456789abcdef","assessment_name":"ok","feedback":{"value":true}}})"
      "\n");
  NdjsonReader r(in, "x.ndjson");
  EventParser parser;
  std::string line;
  ASSERT_TRUE(r.next(line).is_ok());
  Status s1 = check_envelope_line(parser, r, line);
  EXPECT_EQ(s1.code(), ErrorCode::invalid_argument);
  EXPECT_EQ(s1.message().rfind("x.ndjson:1: ", 0), 0u) << s1.message();
  ASSERT_TRUE(r.next(line).is_ok());
  Status s2 = check_envelope_line(parser, r, line);
  EXPECT_EQ(s2.message().rfind("x.ndjson:2: assessment.assessment_name", 0), 0u) << s2.message();
  ASSERT_TRUE(r.next(line).is_ok());
  EXPECT_TRUE(check_envelope_line(parser, r, line).is_ok());
}

}  // namespace
}  // namespace tracefeed::emit
