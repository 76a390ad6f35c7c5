#include "processors/filter/order_by.h"

#include <optional>

#include "processors/filter/filter_lexer.h"

namespace tracefeed::filter {

using detail::Token;
using detail::TokenKind;

namespace {

struct SortName {
  std::string_view name;
  SortField field;
  std::string_view key;
};
constexpr SortName kSortAttributes[] = {
    {"timestamp_ms", SortField::timestamp_ms, ""},
    {"timestamp", SortField::timestamp_ms, ""},
    {"execution_time_ms", SortField::execution_time_ms, ""},
    {"execution_time", SortField::execution_time_ms, ""},
    {"end_time_ms", SortField::end_time_ms, ""},
    {"end_time", SortField::end_time_ms, ""},
    {"status", SortField::status, ""},
    {"state", SortField::status, ""},
    {"request_id", SortField::request_id, ""},
    {"trace_id", SortField::request_id, ""},
    {"client_request_id", SortField::client_request_id, ""},
    {"name", SortField::name, ""},
    {"run_id", SortField::metadata, "mlflow.sourceRun"},
    {"experiment_id", SortField::experiment_id, ""},
};
constexpr std::string_view kSortList =
    "timestamp_ms, execution_time_ms, end_time_ms, status, request_id, client_request_id, name, "
    "run_id, "
    "tag.<key> or metadata.<key>";

struct Failure {
  size_t offset;
  std::string message;
};

std::optional<Failure> parse_clause(std::string_view text, SortKey& out) {
  std::vector<Token> tokens = detail::tokenize(text);
  auto got = [&](const Token& t) { return detail::describe(text, t, "end of order_by"); };
  const Token& f = tokens[0];
  if (f.kind == TokenKind::bad) return Failure{f.begin, f.value};
  if (f.kind != TokenKind::word)
    return Failure{f.begin, "expected a field (" + std::string(kSortList) + "), got " + got(f)};
  std::string field_text(text.substr(f.begin, f.end - f.begin));
  const auto& parts = f.parts;
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].empty())
      return Failure{f.part_begins[i],
                     "expected a key after \"" +
                         std::string(text.substr(f.begin, f.part_begins[i] - f.begin)) + "\""};
  }
  auto attribute = [&](const std::string& name, size_t at) -> std::optional<Failure> {
    for (const auto& a : kSortAttributes) {
      if (a.name == name) {
        out.field = a.field;
        out.key = std::string(a.key);
        return std::nullopt;
      }
    }
    return Failure{at,
                   "cannot order by \"" + field_text + "\": expected " + std::string(kSortList)};
  };
  std::string rest;
  for (size_t i = 1; i < parts.size(); ++i) {
    if (i > 1) rest.push_back('.');
    rest += parts[i];
  }
  if (parts.size() == 1) {
    if (auto e = attribute(parts[0], f.begin)) return e;
  } else if (parts[0] == "trace" || parts[0] == "attribute" || parts[0] == "attributes") {
    if (parts.size() != 2)
      return Failure{f.part_begins[1],
                     "cannot order by \"" + field_text + "\": expected " + std::string(kSortList)};
    if (auto e = attribute(parts[1], f.part_begins[1])) return e;
  } else if (parts[0] == "tag" || parts[0] == "tags") {
    out.field = SortField::tag;
    out.key = rest;
  } else if (parts[0] == "metadata" || parts[0] == "request_metadata") {
    out.field = SortField::metadata;
    out.key = rest;
  } else {
    return Failure{f.begin,
                   "cannot order by \"" + field_text + "\": expected " + std::string(kSortList)};
  }
  out.ascending = true;
  size_t i = 1;
  if (tokens[i].is_keyword("ASC")) {
    ++i;
  } else if (tokens[i].is_keyword("DESC")) {
    out.ascending = false;
    ++i;
  } else if (tokens[i].kind != TokenKind::end) {
    if (tokens[i].kind == TokenKind::bad) return Failure{tokens[i].begin, tokens[i].value};
    return Failure{tokens[i].begin,
                   "expected ASC or DESC after \"" + field_text + "\", got " + got(tokens[i])};
  }
  if (tokens[i].kind != TokenKind::end) {
    if (tokens[i].kind == TokenKind::bad) return Failure{tokens[i].begin, tokens[i].value};
    return Failure{tokens[i].begin,
                   "expected the end of the order_by clause after \"" +
                       std::string(text.substr(f.begin, tokens[i - 1].end - f.begin)) + "\", got " +
                       got(tokens[i])};
  }
  return std::nullopt;
}

Status make_error(std::string_view prefix, std::string_view text, const Failure& f,
                  ErrorPosition* pos_out) {
  ErrorPosition pos = detail::position_of(text, f.offset);
  if (pos_out) *pos_out = pos;
  return Status::invalid_argument(std::string(prefix) + ": column " + std::to_string(pos.column) +
                                  ": " + f.message);
}

const std::string* find_in(const StringMap& map, std::string_view key) {
  for (const auto& [k, v] : map) {
    if (k == key) return &v;
  }
  return nullptr;
}

const std::string* trace_name(const Trace& t) {
  if (const std::string* tag = find_in(t.trace_info.tags, "mlflow.traceName")) return tag;
  if (const Span* root = t.root_span()) return &root->name;
  return nullptr;
}

template <typename T>
int three_way(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

// Absent sorts last in either direction.
int compare_optional(const std::string* a, const std::string* b, bool ascending) {
  if (a == nullptr || b == nullptr) return (a == nullptr) - (b == nullptr);
  int c = a->compare(*b);
  c = c < 0 ? -1 : (c > 0 ? 1 : 0);
  return ascending ? c : -c;
}

}  // namespace

Result<SortKey> parse_order_by_clause(std::string_view clause, ErrorPosition* error_position) {
  SortKey key;
  if (auto f = parse_clause(clause, key)) return make_error("order_by", clause, *f, error_position);
  return key;
}

Result<OrderBy> parse_order_by(std::span<const std::string> clauses, ErrorPosition* error_position,
                               size_t* error_index) {
  std::vector<SortKey> keys;
  bool has_timestamp = false, has_request_id = false;
  for (size_t i = 0; i < clauses.size(); ++i) {
    SortKey key;
    if (auto f = parse_clause(clauses[i], key)) {
      if (error_index) *error_index = i;
      return make_error("order_by[" + std::to_string(i) + "]", clauses[i], *f, error_position);
    }
    has_timestamp |= key.field == SortField::timestamp_ms;
    has_request_id |= key.field == SortField::request_id;
    keys.push_back(std::move(key));
  }
  if (!has_timestamp) keys.push_back({SortField::timestamp_ms, "", false});
  if (!has_request_id) keys.push_back({SortField::request_id, "", true});
  return OrderBy(std::move(keys));
}

int OrderBy::compare(const Trace& a, const Trace& b) const {
  const TraceInfo& x = a.trace_info;
  const TraceInfo& y = b.trace_info;
  for (const SortKey& k : _keys) {
    int c = 0;
    switch (k.field) {
      case SortField::timestamp_ms:
        c = three_way(x.request_time / 1'000'000, y.request_time / 1'000'000);
        break;
      case SortField::execution_time_ms:
        c = three_way(x.execution_duration_ns / 1'000'000, y.execution_duration_ns / 1'000'000);
        break;
      case SortField::end_time_ms:
        c = three_way(x.request_time / 1'000'000 + x.execution_duration_ns / 1'000'000,
                      y.request_time / 1'000'000 + y.execution_duration_ns / 1'000'000);
        break;
      case SortField::status:
        c = three_way(to_string(x.state), to_string(y.state));
        break;
      case SortField::request_id:
        c = three_way(x.trace_id, y.trace_id);
        break;
      case SortField::client_request_id:
        c = three_way(x.client_request_id, y.client_request_id);
        break;
      case SortField::name:
        c = compare_optional(trace_name(a), trace_name(b), k.ascending);
        break;
      case SortField::tag:
        c = compare_optional(find_in(x.tags, k.key), find_in(y.tags, k.key), k.ascending);
        break;
      case SortField::metadata:
        c = compare_optional(find_in(x.trace_metadata, k.key), find_in(y.trace_metadata, k.key),
                             k.ascending);
        break;
      case SortField::experiment_id:
        c = 0;
        break;
    }
    bool direction_applied =
        k.field == SortField::name || k.field == SortField::tag || k.field == SortField::metadata;
    if (c != 0) return (direction_applied || k.ascending) ? c : -c;
  }
  return 0;
}

}  // namespace tracefeed::filter
