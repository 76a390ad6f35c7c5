#pragma once
// The declarative key table of tracefeed's configuration (librdkafka style).
//
// Every key the loader accepts is one row here, with its type, default, range and description.
// The loader checks unknown keys, types, ranges, enums, formats and defaults against this table,
// and render_configuration_markdown() turns the same table into docs/configuration.md, so the
// reference cannot drift from the code (a unit test fails when the committed doc is stale, and
// another that default-constructed structs equal the table's defaults).

#include <cstddef>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tracefeed::config {

enum class KeyType {
  mapping,  // a section or a list element with its own keys
  list,     // a list of mappings (its element has path "<path>[]")
  string,
  boolean,  // true | false
  integer,
  number,       // integer or decimal
  size,         // bytes: 1048576, 512MiB, 1.5GB (units B KB MB GB TB KiB MiB GiB TiB)
  duration,     // 500ms, 30s, 15m, 2h, 1d, 1h30m
  enumeration,  // one of `allowed`
  string_list,
  number_list,
  string_map,  // string -> scalar (kept as text)
};

// Extra checks on a string (or each item of a string_list).
enum class KeyFormat {
  none,
  non_empty,
  name,          // non-empty, <= 256 chars, no '.', no '/', no control chars or edge whitespace
  brokers,       // "embedded" or host:port[,host:port...]
  host_port,     // host:port, host = name | IPv4 | [IPv6], port 0..65535
  http_url,      // http:// or https:// URL with a host
  env_var,       // [A-Za-z_][A-Za-z0-9_]*
  env_var_or_empty,  // env_var, or "" (none)
  user,          // a reviewer / user id: non-empty, <= 256 chars, no control chars (e-mails are fine)
  url_path,      // starts with '/'
  topic_prefix,  // [A-Za-z0-9._-]{0,200}
};

struct KeySpec {
  // Generic key path: "kafka.partitions", "rules[].actions[].webhook" ("[]" = each element).
  std::string_view path;
  KeyType type = KeyType::string;
  // YAML text of the default, parsed by the loader exactly like a user's value when the key is
  // absent. Empty: no default (the field stays unset/empty, or the key is required).
  std::string_view default_yaml;
  std::string_view description;
  bool required = false;
  // Inclusive bounds for integer, number, size (bytes), duration (milliseconds) and every item
  // of a number_list.
  std::optional<double> min;
  std::optional<double> max;
  std::span<const std::string_view> allowed;  // enumeration values
  KeyFormat format = KeyFormat::none;
  // Bounds on the number of items of a list / string_list / number_list.
  std::size_t min_items = 0;
  std::size_t max_items = std::numeric_limits<std::size_t>::max();
  bool unique_items = false;  // string_list items must be distinct
  // mapping: exactly one of its keys must be present (a tagged union).
  bool exactly_one_child = false;
};

// All keys, parents before children, in documentation order.
[[nodiscard]] std::span<const KeySpec> config_schema() noexcept;
// The row for a generic path, or nullptr.
[[nodiscard]] const KeySpec* find_key_spec(std::string_view path) noexcept;
// Names of the keys directly under a mapping path ("" = top level, "rules[]" = a rule).
[[nodiscard]] std::vector<std::string_view> child_keys(std::string_view mapping_path);

[[nodiscard]] std::string_view key_type_name(KeyType type) noexcept;

// The full text of docs/configuration.md.
[[nodiscard]] std::string render_configuration_markdown();

}  // namespace tracefeed::config
