// order_by for search: MLflow's accepted forms, tie-breakers, errors with columns.
#include "processors/filter/order_by.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace tracefeed::filter {
namespace {

struct Valid {
  const char* text;
  SortField field;
  const char* key;
  bool ascending;
};

class ValidOrderBy : public ::testing::TestWithParam<Valid> {};

TEST_P(ValidOrderBy, Parses) {
  const Valid& v = GetParam();
  auto k = parse_order_by_clause(v.text);
  ASSERT_TRUE(k.is_ok()) << v.text << " -> " << k.status().to_string();
  EXPECT_EQ(k->field, v.field) << v.text;
  EXPECT_EQ(k->key, v.key) << v.text;
  EXPECT_EQ(k->ascending, v.ascending) << v.text;
}

INSTANTIATE_TEST_SUITE_P(
    Forms, ValidOrderBy,
    ::testing::Values(Valid{"timestamp_ms DESC", SortField::timestamp_ms, "", false},
                      Valid{"timestamp_ms", SortField::timestamp_ms, "", true},
                      Valid{"timestamp desc", SortField::timestamp_ms, "", false},
                      Valid{"trace.timestamp_ms", SortField::timestamp_ms, "", true},
                      Valid{"attributes.timestamp_ms Desc", SortField::timestamp_ms, "", false},
                      Valid{"execution_time_ms ASC", SortField::execution_time_ms, "", true},
                      Valid{"execution_time", SortField::execution_time_ms, "", true},
                      Valid{"trace.end_time_ms DESC", SortField::end_time_ms, "", false},
                      Valid{"status ASC", SortField::status, "", true},
                      Valid{"request_id", SortField::request_id, "", true},
                      Valid{"trace.trace_id DESC", SortField::request_id, "", false},
                      Valid{"name", SortField::name, "", true},
                      Valid{"run_id", SortField::metadata, "mlflow.sourceRun", true},
                      Valid{"tag.env DESC", SortField::tag, "env", false},
                      Valid{"tags.`mlflow.traceName`", SortField::tag, "mlflow.traceName", true},
                      Valid{"metadata.`mlflow.trace.user` ASC", SortField::metadata,
                            "mlflow.trace.user", true},
                      Valid{"experiment_id", SortField::experiment_id, "", true},
                      Valid{"  timestamp_ms   DESC  ", SortField::timestamp_ms, "", false}));

struct Invalid {
  const char* text;
  const char* message;
  int column;
};

class InvalidOrderBy : public ::testing::TestWithParam<Invalid> {};

TEST_P(InvalidOrderBy, Fails) {
  const Invalid& v = GetParam();
  ErrorPosition pos;
  auto k = parse_order_by_clause(v.text, &pos);
  ASSERT_FALSE(k.is_ok()) << v.text;
  EXPECT_EQ(k.status().code(), ErrorCode::invalid_argument);
  EXPECT_EQ(k.status().message(), v.message) << v.text;
  EXPECT_EQ(pos.column, v.column) << v.text;
}

INSTANTIATE_TEST_SUITE_P(
    Errors, InvalidOrderBy,
    ::testing::Values(
        Invalid{"timestamp_ms DOWN",
                "order_by: column 14: expected ASC or DESC after \"timestamp_ms\", got \"DOWN\"",
                14},
        Invalid{"timestamp_ms DESC NULLS",
                "order_by: column 19: expected the end of the order_by clause after "
                "\"timestamp_ms DESC\", got \"NULLS\"",
                19},
        Invalid{"",
                "order_by: column 1: expected a field (timestamp_ms, execution_time_ms, "
                "end_time_ms, status, "
                "request_id, client_request_id, name, run_id, tag.<key> or metadata.<key>), got "
                "end of order_by",
                1},
        Invalid{"foo",
                "order_by: column 1: cannot order by \"foo\": expected timestamp_ms, "
                "execution_time_ms, "
                "end_time_ms, status, request_id, client_request_id, name, run_id, tag.<key> or "
                "metadata.<key>",
                1},
        Invalid{"trace.foo DESC",
                "order_by: column 7: cannot order by \"trace.foo\": expected timestamp_ms, "
                "execution_time_ms, end_time_ms, status, request_id, client_request_id, name, "
                "run_id, tag.<key> or metadata.<key>",
                7},
        Invalid{"feedback.x DESC",
                "order_by: column 1: cannot order by \"feedback.x\": expected timestamp_ms, "
                "execution_time_ms, end_time_ms, status, request_id, client_request_id, name, "
                "run_id, tag.<key> or metadata.<key>",
                1},
        Invalid{"tag.`x DESC", "order_by: column 5: unterminated `quoted` key: missing closing `",
                5},
        Invalid{"tag. DESC", "order_by: column 5: expected a key after \"tag.\"", 5},
        Invalid{"timestamp_ms, name",
                "order_by: column 13: expected ASC or DESC after \"timestamp_ms\", got \",\"",
                13}));

Trace make(std::string id, int64_t ts_ms, int64_t exec_ms, std::string env = "") {
  Trace t;
  t.trace_info.trace_id = std::move(id);
  t.trace_info.request_time = ts_ms * 1'000'000;
  t.trace_info.execution_duration_ns = exec_ms * 1'000'000;
  if (!env.empty()) t.trace_info.tags.push_back({"env", env});
  return t;
}

std::vector<std::string> sorted_ids(std::vector<Trace> traces, const OrderBy& order) {
  std::sort(traces.begin(), traces.end(), order);
  std::vector<std::string> ids;
  for (const auto& t : traces) ids.push_back(t.trace_info.trace_id);
  return ids;
}

TEST(OrderBy, DefaultIsNewestFirstThenRequestId) {
  std::vector<Trace> ts{make("tr-b", 100, 5), make("tr-a", 100, 9), make("tr-c", 200, 1)};
  EXPECT_EQ(sorted_ids(ts, OrderBy()), (std::vector<std::string>{"tr-c", "tr-a", "tr-b"}));
  auto empty = parse_order_by(std::vector<std::string>{});
  ASSERT_TRUE(empty.is_ok());
  EXPECT_EQ(sorted_ids(ts, *empty), (std::vector<std::string>{"tr-c", "tr-a", "tr-b"}));
}

TEST(OrderBy, ClausesThenTieBreakers) {
  std::vector<Trace> ts{make("tr-b", 100, 5), make("tr-a", 100, 5), make("tr-c", 200, 1),
                        make("tr-d", 50, 9)};
  auto o = parse_order_by(std::vector<std::string>{"execution_time_ms ASC"});
  ASSERT_TRUE(o.is_ok());
  ASSERT_EQ(o->keys().size(), 3u);  // + timestamp_ms DESC, request_id ASC
  EXPECT_EQ(sorted_ids(ts, *o), (std::vector<std::string>{"tr-c", "tr-a", "tr-b", "tr-d"}));
  auto o2 = parse_order_by(std::vector<std::string>{"timestamp_ms ASC", "request_id DESC"});
  ASSERT_TRUE(o2.is_ok());
  EXPECT_EQ(o2->keys().size(), 2u);
  EXPECT_EQ(sorted_ids(ts, *o2), (std::vector<std::string>{"tr-d", "tr-b", "tr-a", "tr-c"}));
}

TEST(OrderBy, AbsentTagsSortLastBothWays) {
  std::vector<Trace> ts{make("tr-1", 1, 1), make("tr-2", 1, 1, "prod"), make("tr-3", 1, 1, "dev")};
  auto asc = parse_order_by(std::vector<std::string>{"tag.env ASC"});
  auto desc = parse_order_by(std::vector<std::string>{"tag.env DESC"});
  ASSERT_TRUE(asc.is_ok() && desc.is_ok());
  EXPECT_EQ(sorted_ids(ts, *asc), (std::vector<std::string>{"tr-3", "tr-2", "tr-1"}));
  EXPECT_EQ(sorted_ids(ts, *desc), (std::vector<std::string>{"tr-2", "tr-3", "tr-1"}));
}

TEST(OrderBy, ListErrorsNameTheClause) {
  ErrorPosition pos;
  size_t index = 99;
  auto o =
      parse_order_by(std::vector<std::string>{"timestamp_ms DESC", "name sideways"}, &pos, &index);
  ASSERT_FALSE(o.is_ok());
  EXPECT_EQ(o.status().message(),
            "order_by[1]: column 6: expected ASC or DESC after \"name\", got \"sideways\"");
  EXPECT_EQ(index, 1u);
  EXPECT_EQ(pos.column, 6);
}

}  // namespace
}  // namespace tracefeed::filter
