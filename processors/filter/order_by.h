#pragma once
// `order_by` of search_traces (MLflow: SearchTraceUtils.parse_order_by_for_search_traces):
// each clause is `<field> [ASC|DESC]`, e.g. "timestamp_ms DESC", "trace.execution_time_ms ASC",
// "tag.`mlflow.traceName`". parse_order_by() turns a list of clauses into a comparator and,
// like MLflow, appends the tie-breakers `timestamp_ms DESC` and `request_id ASC` unless the
// list already orders by them, so paging over equal keys is stable.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"
#include "core/result.h"
#include "processors/filter/filter.h"

namespace tracefeed::filter {

enum class SortField : uint8_t {
  timestamp_ms,
  execution_time_ms,
  end_time_ms,
  status,
  request_id,
  client_request_id,
  name,           // tag mlflow.traceName, else the root span's name
  tag,            // tag.<key>
  metadata,       // metadata.<key>
  experiment_id,  // accepted for MLflow clients; one experiment per deployment, so a no-op
};

struct SortKey {
  SortField field = SortField::timestamp_ms;
  std::string key;  // tag / metadata key
  bool ascending = true;
};

class OrderBy {
 public:
  OrderBy() = default;  // MLflow's default: timestamp_ms DESC, request_id ASC
  explicit OrderBy(std::vector<SortKey> keys) : _keys(std::move(keys)) {}

  // <0 when a sorts before b, 0 when equal on every key, >0 after. Absent values (a missing tag,
  // a trace without a name) sort last whatever the direction.
  [[nodiscard]] int compare(const Trace& a, const Trace& b) const;
  [[nodiscard]] bool operator()(const Trace& a, const Trace& b) const { return compare(a, b) < 0; }

  [[nodiscard]] const std::vector<SortKey>& keys() const noexcept { return _keys; }

 private:
  std::vector<SortKey> _keys{{SortField::timestamp_ms, "", false},
                             {SortField::request_id, "", true}};
};

// One clause. Errors: invalid_argument "order_by: column 14: expected ASC or DESC after
// \"timestamp_ms\", got \"DOWN\"".
[[nodiscard]] Result<SortKey> parse_order_by_clause(std::string_view clause,
                                                    ErrorPosition* error_position = nullptr);

// A list of clauses (MLflow sends a list); errors name the clause: "order_by[1]: column 1: ...".
// error_index (when given) receives the index of the failing clause.
[[nodiscard]] Result<OrderBy> parse_order_by(std::span<const std::string> clauses,
                                             ErrorPosition* error_position = nullptr,
                                             size_t* error_index = nullptr);

}  // namespace tracefeed::filter
