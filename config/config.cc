// The YAML loader. Every key goes through the table in schema.cc (unknown keys, types, ranges,
// enums, formats, defaults); the code here adds structure (which struct field a key fills) and
// the checks that span several keys (exactly-one-of, uniqueness, cross references).
//
// yaml-cpp reports errors by throwing; every exception is caught in this file and turned into a
// ConfigError, so none crosses the module boundary.

#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "config/schema.h"
#include "config/value_format.h"

namespace tracefeed::config {

std::string ConfigError::to_string() const {
  std::string out = source;
  if (mark.known()) {
    out += ':' + std::to_string(mark.line) + ':' + std::to_string(mark.column);
  }
  out += ": ";
  if (!path.empty()) out += path + ": ";
  out += message;
  return out;
}

Status errors_to_status(const std::vector<ConfigError>& errors) {
  if (errors.empty()) return Status::ok();
  if (errors.size() == 1) return Status::invalid_argument(errors.front().to_string());
  std::string message = errors.front().source + ": " + std::to_string(errors.size()) + " errors";
  for (const ConfigError& e : errors) message += "\n" + e.to_string();
  return Status::invalid_argument(std::move(message));
}

std::string_view label_schema_type_name(LabelSchemaType type) noexcept {
  return type == LabelSchemaType::feedback ? "feedback" : "expectation";
}

std::string_view action_kind_name(ActionKind kind) noexcept {
  switch (kind) {
    case ActionKind::labeling_session:
      return "labeling_session";
    case ActionKind::eval:
      return "eval";
    case ActionKind::webhook:
      return "webhook";
  }
  return "?";
}

const LabelSchema* Config::find_label_schema(std::string_view name) const noexcept {
  for (const auto& s : label_schemas) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const LabelingSession* Config::find_labeling_session(std::string_view name) const noexcept {
  for (const auto& s : labeling_sessions) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const Rule* Config::find_rule(std::string_view name) const noexcept {
  for (const auto& r : rules) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

namespace {

Mark to_mark(const YAML::Mark& m) {
  if (m.is_null() || m.line < 0) return {};
  return {m.line + 1, m.column + 1};
}

std::string mark_text(Mark m) {
  return std::to_string(m.line) + ":" + std::to_string(m.column);
}

std::string format_number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

bool is_quoted(const YAML::Node& n) {
  return n.Tag() == "!";
}

// How a value is shown after "got ".
std::string describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return "nothing (null)";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      return is_quoted(n) ? "\"" + n.Scalar() + "\"" : n.Scalar();
  }
  return "?";
}

std::string bound_text(const KeySpec& s, double v) {
  if (s.type == KeyType::size) return format_size(static_cast<uint64_t>(v));
  if (s.type == KeyType::duration) {
    return format_duration(std::chrono::milliseconds(static_cast<int64_t>(v)));
  }
  return format_number(v);
}

std::string range_text(const KeySpec& s) {
  if (s.min && s.max) return " between " + bound_text(s, *s.min) + " and " + bound_text(s, *s.max);
  if (s.min) return " of at least " + bound_text(s, *s.min);
  if (s.max) return " of at most " + bound_text(s, *s.max);
  return "";
}

std::string join(const std::vector<std::string_view>& items, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += sep;
    out += items[i];
  }
  return out;
}

// What a key of this spec expects, as in "expected <...>, got ...".
std::string expectation(const KeySpec& s) {
  switch (s.type) {
    case KeyType::mapping:
      return "a mapping";
    case KeyType::list:
      return "a list";
    case KeyType::string:
      return "a string";
    case KeyType::boolean:
      return "true or false";
    case KeyType::integer:
      return "an integer" + range_text(s);
    case KeyType::number:
      return "a number" + range_text(s);
    case KeyType::size:
      return "a size such as 512MiB" + range_text(s);
    case KeyType::duration:
      return "a duration such as 30s or 15m" + range_text(s);
    case KeyType::enumeration:
      return "one of " + join({s.allowed.begin(), s.allowed.end()}, ", ");
    case KeyType::string_list:
      return "a list of strings";
    case KeyType::number_list:
      return "a list of numbers";
    case KeyType::string_map:
      return "a mapping of names to values";
  }
  return "?";
}

// The closest candidate, if it is close enough to be a plausible typo.
std::string suggestion(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::size_t best = std::string::npos;
  std::string_view best_word;
  for (std::string_view c : candidates) {
    std::size_t d = edit_distance(word, c);
    if (d < best) {
      best = d;
      best_word = c;
    }
  }
  std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
  if (best_word.empty() || best > limit) return "";
  return std::string(best_word);
}

// A key path, concrete ("rules[0].sample_rate") for messages and generic ("rules[].sample_rate")
// for the schema table.
struct Path {
  std::string concrete;
  std::string generic;

  Path key(std::string_view k) const {
    if (concrete.empty()) return {std::string(k), std::string(k)};
    return {concrete + "." + std::string(k), generic + "." + std::string(k)};
  }
  Path item(std::size_t i) const {
    return {concrete + "[" + std::to_string(i) + "]", generic + "[]"};
  }
};

struct Entry {
  std::string name;
  YAML::Node key;
  YAML::Node value;
};

// A mapping's entries after unknown and duplicate keys were reported.
struct MapView {
  std::vector<Entry> entries;
  Mark mark;                 // of the mapping (or of its key, when the mapping is null/absent)
  bool present = false;      // the key naming this mapping was in the file
  bool valid = true;         // it was a mapping (or null)
  bool had_unknown = false;  // unknown keys were reported (and left out of `entries`)

  const Entry* find(std::string_view name) const {
    for (const Entry& e : entries) {
      if (e.name == name) return &e;
    }
    return nullptr;
  }
};

// Where a value is: the value itself, or its key when the value is null (yaml-cpp gives a null
// value the position of the next token).
Mark value_mark(const Entry& e) {
  if (!e.value.IsNull()) {
    Mark m = to_mark(e.value.Mark());
    if (m.known()) return m;
  }
  return to_mark(e.key.Mark());
}

struct ListItem {
  YAML::Node node;
  Mark mark;
  Path path;
};

class Loader {
 public:
  Loader(std::string source, std::string_view text) : _source(std::move(source)), _text(text) {}

  Config load(const YAML::Node& root);
  std::vector<ConfigError> take_errors() { return std::move(_errors); }

 private:
  void error(Mark mark, const Path& path, std::string message) {
    _errors.push_back({_source, mark, path.concrete, std::move(message)});
  }

  const KeySpec& spec(const Path& path) {
    _read_paths.insert(path.generic);
    if (const KeySpec* s = find_key_spec(path.generic)) return *s;
    // A bug: the loader reads a key the table does not describe.
    static constexpr KeySpec kMissing{.path = "?"};
    error({}, path, "internal error: key missing from the schema table");
    return kMissing;
  }

  MapView open_map(const YAML::Node& node, Mark where, const Path& path, bool present);
  MapView sub_map(const MapView& parent, const Path& parent_path, std::string_view key);
  std::vector<ListItem> sub_list(const MapView& parent, const Path& parent_path,
                                 std::string_view key);
  // Reports unless exactly one key of `m` is set; returns that key's entry.
  const Entry* one_of(const MapView& m, const Path& path);

  // Reads one key into `out`. Absent: the table's default (or a "missing" error when required).
  // Returns true when `out` holds a value from the file or a default.
  template <typename T>
  bool field(const MapView& m, const Path& parent, std::string_view key, T& out);
  template <typename T>
  bool apply_default(const KeySpec& s, const Path& p, T& out);

  bool convert(const YAML::Node& n, Mark at, const KeySpec& s, const Path& p, std::string& out);
  bool convert(const YAML::Node& n, Mark at, const KeySpec& s, const Path& p, bool& out);
  bool convert(const YAML::Node& n, Mark at, const KeySpec& s, const Path& p, int64_t& out);
  bool convert(const YAML::Node& n, Mark at, const KeySpec& s, const Path& p, int32_t& out);
  bool convert(const YAML::Node& n, Mark at, const KeySpec& s, const Path& p, uint64_t& out);
  bool convert(const YAML::Node& n, Mark at, const KeySpec& s, const Path& p, double& out);
  bool convert(const YAML::Node& n, Mark at, const KeySpec& s, const Path& p,
               std::chrono::milliseconds& out);
  bool convert(const YAML::Node& n, Mark at, const KeySpec& s, const Path& p,
               std::vector<std::string>& out);
  bool convert(const YAML::Node& n, Mark at, const KeySpec& s, const Path& p,
               std::vector<double>& out);
  bool convert(const YAML::Node& n, Mark at, const KeySpec& s, const Path& p,
               std::map<std::string, std::string>& out);
  template <typename T>
  bool convert(const YAML::Node& n, Mark at, const KeySpec& s, const Path& p,
               std::optional<T>& out) {
    T value{};
    if (!convert(n, at, s, p, value)) return false;
    out = value;
    return true;
  }

  bool check_scalar(const YAML::Node& n, Mark at, const KeySpec& s, const Path& p);
  bool check_string_format(std::string_view v, Mark at, const KeySpec& s, const Path& p);
  bool check_range(double v, Mark at, const KeySpec& s, const Path& p, const YAML::Node& n);

  // The position of the first character of a scalar's text (past an opening quote).
  Mark content_mark(const YAML::Node& n, Mark at) const;
  Mark item_mark(const MapView& m, std::string_view key, std::size_t index) const;
  Mark key_mark(const MapView& m, std::string_view key) const;

  void load_kafka(const MapView& m, const Path& p, KafkaOptions& out);
  void load_state(const MapView& m, const Path& p, StateOptions& out);
  void load_join(const MapView& m, const Path& p, JoinOptions& out);
  void load_http(const MapView& m, const Path& p, HttpOptions& out);
  void load_label_schemas(const MapView& root, Config& out);
  void load_labeling_sessions(const MapView& root, Config& out);
  void load_rules(const MapView& root, Config& out);
  void load_evaluation(const MapView& m, const Path& p, EvaluationOptions& out);
  void load_metrics(const MapView& m, const Path& p, MetricsOptions& out);

  // Reports a second definition of `name` (first definitions are remembered in `seen`).
  void check_unique(std::map<std::string, Mark>& seen, const std::string& name, Mark at,
                    const Path& p, std::string_view what);
  void check_reference(const std::map<std::string, Mark>& defined, const std::string& name, Mark at,
                       const Path& p, std::string_view what, std::string_view section);

  std::string _source;
  std::string_view _text;
  std::vector<ConfigError> _errors;
  std::map<std::string, Mark> _schema_names;
  std::map<std::string, Mark> _session_names;
  // Drift guard: every key the table accepted must have been read by some load_* function.
  std::set<std::string> _read_paths;
  std::vector<std::pair<Path, Mark>> _accepted;
};

MapView Loader::open_map(const YAML::Node& node, Mark where, const Path& path, bool present) {
  MapView view;
  view.mark = where;
  view.present = present;
  if (!node.IsDefined() || node.IsNull()) return view;
  if (!node.IsMap()) {
    error(where, path, "expected a mapping, got " + describe(node));
    view.valid = false;
    return view;
  }
  Mark m = to_mark(node.Mark());
  if (m.known()) view.mark = m;
  std::vector<std::string_view> known = child_keys(path.generic);
  for (auto it = node.begin(); it != node.end(); ++it) {
    Mark km = to_mark(it->first.Mark());
    if (!it->first.IsScalar()) {
      error(km, path, "keys must be plain strings, got " + describe(it->first));
      continue;
    }
    Entry e{it->first.Scalar(), it->first, it->second};
    Path kp = path.key(e.name);
    if (std::find(known.begin(), known.end(), e.name) == known.end()) {
      view.had_unknown = true;
      std::string hint = suggestion(e.name, known);
      if (!hint.empty()) {
        error(km, kp, "unknown key (did you mean '" + hint + "'?)");
      } else if (known.empty()) {
        error(km, kp, "unknown key");
      } else {
        error(km, kp, "unknown key; expected one of: " + join(known, ", "));
      }
      continue;
    }
    if (const Entry* first = view.find(e.name)) {
      error(km, kp,
            "duplicate key (first set at line " + mark_text(to_mark(first->key.Mark())) + ")");
      continue;
    }
    _accepted.emplace_back(std::move(kp), km);
    view.entries.push_back(std::move(e));
  }
  return view;
}

MapView Loader::sub_map(const MapView& parent, const Path& parent_path, std::string_view key) {
  Path p = parent_path.key(key);
  const KeySpec& s = spec(p);
  const Entry* e = parent.find(key);
  if (e == nullptr) {
    if (s.required && parent.valid)
      error(parent.mark, p, "missing required key '" + std::string(key) + "'");
    return open_map(YAML::Node(), parent.mark, p, false);
  }
  return open_map(e->value, value_mark(*e), p, true);
}

std::vector<ListItem> Loader::sub_list(const MapView& parent, const Path& parent_path,
                                       std::string_view key) {
  Path p = parent_path.key(key);
  const KeySpec& s = spec(p);
  std::vector<ListItem> items;
  const Entry* e = parent.find(key);
  if (e == nullptr) {
    if (s.required && parent.valid)
      error(parent.mark, p, "missing required key '" + std::string(key) + "'");
    return items;
  }
  Mark at = value_mark(*e);
  if (e->value.IsNull()) {
    // `key:` with nothing is an empty list.
  } else if (!e->value.IsSequence()) {
    error(at, p, "expected a list, got " + describe(e->value));
    return items;
  } else {
    std::size_t i = 0;
    for (const YAML::Node& n : e->value) {
      Mark m = to_mark(n.Mark());
      items.push_back({n, m.known() ? m : at, p.item(i++)});
    }
  }
  if (items.size() < s.min_items || items.size() > s.max_items) {
    std::string want = s.max_items == std::numeric_limits<std::size_t>::max()
                           ? "at least " + std::to_string(s.min_items)
                           : std::to_string(s.min_items) + " to " + std::to_string(s.max_items);
    error(at, p, "expected " + want + " items, got " + std::to_string(items.size()));
  }
  return items;
}

const Entry* Loader::one_of(const MapView& m, const Path& path) {
  if (!m.valid) return nullptr;
  std::vector<std::string_view> kinds = child_keys(path.generic);
  if (m.entries.empty()) {
    if (m.present && !m.had_unknown)
      error(m.mark, path, "expected exactly one of: " + join(kinds, ", "));
    return nullptr;
  }
  for (std::size_t i = 1; i < m.entries.size(); ++i) {
    spec(path.key(m.entries[i].name));  // reported here; not read further
    error(to_mark(m.entries[i].key.Mark()), path.key(m.entries[i].name),
          "only one of " + join(kinds, ", ") + " may be set; '" + m.entries[0].name +
              "' is already set at line " + mark_text(to_mark(m.entries[0].key.Mark())));
  }
  return &m.entries[0];
}

template <typename T>
bool Loader::apply_default(const KeySpec& s, const Path& p, T& out) {
  if (s.default_yaml.empty()) return false;
  YAML::Node node;
  try {
    node = YAML::Load(std::string(s.default_yaml));
  } catch (const YAML::Exception& e) {
    error({}, p, "internal error: the schema default does not parse: " + e.msg);
    return false;
  }
  return convert(node, Mark{}, s, p, out);
}

template <typename T>
bool Loader::field(const MapView& m, const Path& parent, std::string_view key, T& out) {
  Path p = parent.key(key);
  const KeySpec& s = spec(p);
  const Entry* e = m.find(key);
  if (e == nullptr) {
    if (s.required) {
      if (m.valid) error(m.mark, p, "missing required key '" + std::string(key) + "'");
      return false;
    }
    return apply_default(s, p, out);
  }
  return convert(e->value, value_mark(*e), s, p, out);
}

bool Loader::check_scalar(const YAML::Node& n, Mark at, const KeySpec& s, const Path& p) {
  if (n.IsScalar()) return true;
  std::string hint = n.IsNull() ? " (remove the key to use the default)" : "";
  if (s.required) hint.clear();
  error(at, p, "expected " + expectation(s) + ", got " + describe(n) + hint);
  return false;
}

bool Loader::check_string_format(std::string_view v, Mark at, const KeySpec& s, const Path& p) {
  std::string problem;
  switch (s.format) {
    case KeyFormat::none:
      break;
    case KeyFormat::non_empty:
      if (v.empty()) problem = "must not be empty";
      break;
    case KeyFormat::name:
      if (auto e = check_name(v); !e.empty())
        problem = "invalid name '" + std::string(v) + "': " + e;
      break;
    case KeyFormat::brokers:
      if (auto e = check_brokers(v); !e.empty())
        problem = "invalid brokers '" + std::string(v) + "': " + e;
      break;
    case KeyFormat::host_port:
      if (auto e = check_host_port(v); !e.empty()) {
        problem = "invalid address '" + std::string(v) + "': " + e + ", e.g. \"127.0.0.1:8080\"";
      }
      break;
    case KeyFormat::http_url:
      if (auto e = check_http_url(v); !e.empty())
        problem = "invalid URL '" + std::string(v) + "': " + e;
      break;
    case KeyFormat::user:
      if (v.empty()) {
        problem = "must not be empty";
      } else if (v.size() > 256) {
        problem = "longer than 256 characters";
      } else if (std::any_of(v.begin(), v.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
        problem = "must not contain control characters";
      }
      break;
    case KeyFormat::env_var_or_empty:
      if (v.empty()) break;
      [[fallthrough]];
    case KeyFormat::env_var:
      if (auto e = check_env_var_name(v); !e.empty()) {
        problem = "invalid environment variable name '" + std::string(v) + "': " + e;
      }
      break;
    case KeyFormat::url_path:
      if (!v.starts_with('/') || v.find_first_of(" ?#") != std::string_view::npos) {
        problem = "expected a path starting with '/', got '" + std::string(v) + "'";
      }
      break;
    case KeyFormat::topic_prefix:
      if (v.size() > 200) {
        problem = "longer than 200 characters";
      } else if (v.find_first_not_of(
                     "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
                 std::string_view::npos) {
        problem =
            "invalid topic prefix '" + std::string(v) + "': only letters, digits, '.', '_' and '-'";
      }
      break;
  }
  if (problem.empty()) return true;
  error(at, p, std::move(problem));
  return false;
}

bool Loader::check_range(double v, Mark at, const KeySpec& s, const Path& p, const YAML::Node& n) {
  if ((s.min && v < *s.min) || (s.max && v > *s.max)) {
    error(at, p, "expected " + expectation(s) + ", got " + describe(n));
    return false;
  }
  return true;
}

bool Loader::convert(const YAML::Node& n, Mark at, const KeySpec& s, const Path& p,
                     std::string& out) {
  if (!check_scalar(n, at, s, p)) return false;
  const std::string& v = n.Scalar();
  if (s.type == KeyType::enumeration) {
    std::vector<std::string_view> allowed(s.allowed.begin(), s.allowed.end());
    if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
      std::string hint = suggestion(v, allowed);
      error(at, p,
            "expected " + expectation(s) + ", got " + describe(n) +
                (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
      return false;
    }
  }
  if (!check_string_format(v, at, s, p)) return false;
  out = v;
  return true;
}

bool Loader::convert(const YAML::Node& n, Mark at, const KeySpec& s, const Path& p, bool& out) {
  if (!check_scalar(n, at, s, p)) return false;
  const std::string& v = n.Scalar();
  if (!is_quoted(n)) {
    if (v == "true" || v == "True" || v == "TRUE") {
      out = true;
      return true;
    }
    if (v == "false" || v == "False" || v == "FALSE") {
      out = false;
      return true;
    }
  }
  error(at, p, "expected true or false, got " + describe(n));
  return false;
}

bool Loader::convert(const YAML::Node& n, Mark at, const KeySpec& s, const Path& p, int64_t& out) {
  if (!check_scalar(n, at, s, p)) return false;
  const std::string& v = n.Scalar();
  int64_t value = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
  if (is_quoted(n) || v.empty() || ec != std::errc() || end != v.data() + v.size()) {
    error(at, p, "expected " + expectation(s) + ", got " + describe(n));
    return false;
  }
  if (!check_range(static_cast<double>(value), at, s, p, n)) return false;
  out = value;
  return true;
}

bool Loader::convert(const YAML::Node& n, Mark at, const KeySpec& s, const Path& p, int32_t& out) {
  int64_t value = 0;
  if (!convert(n, at, s, p, value)) return false;
  if (value < INT32_MIN || value > INT32_MAX) {
    error(at, p, "expected " + expectation(s) + ", got " + describe(n));
    return false;
  }
  out = static_cast<int32_t>(value);
  return true;
}

bool Loader::convert(const YAML::Node& n, Mark at, const KeySpec& s, const Path& p, uint64_t& out) {
  if (!check_scalar(n, at, s, p)) return false;
  std::optional<uint64_t> bytes = parse_size(n.Scalar());
  if (!bytes) {
    error(at, p,
          "expected " + expectation(s) + " (units B, KB, MB, GB, TB, KiB, MiB, GiB, TiB), got " +
              describe(n));
    return false;
  }
  if (!check_range(static_cast<double>(*bytes), at, s, p, n)) return false;
  out = *bytes;
  return true;
}

bool Loader::convert(const YAML::Node& n, Mark at, const KeySpec& s, const Path& p, double& out) {
  if (!check_scalar(n, at, s, p)) return false;
  const std::string& v = n.Scalar();
  double value = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
  if (is_quoted(n) || v.empty() || ec != std::errc() || end != v.data() + v.size() ||
      !std::isfinite(value)) {
    error(at, p, "expected " + expectation(s) + ", got " + describe(n));
    return false;
  }
  if (!check_range(value, at, s, p, n)) return false;
  out = value;
  return true;
}

bool Loader::convert(const YAML::Node& n, Mark at, const KeySpec& s, const Path& p,
                     std::chrono::milliseconds& out) {
  if (!check_scalar(n, at, s, p)) return false;
  std::optional<std::chrono::milliseconds> d = parse_duration(n.Scalar());
  if (!d) {
    error(at, p, "expected " + expectation(s) + " (units ms, s, m, h, d), got " + describe(n));
    return false;
  }
  if (!check_range(static_cast<double>(d->count()), at, s, p, n)) return false;
  out = *d;
  return true;
}

bool Loader::convert(const YAML::Node& n, Mark at, const KeySpec& s, const Path& p,
                     std::vector<std::string>& out) {
  std::vector<std::string> values;
  bool ok = true;
  if (!n.IsNull()) {
    if (!n.IsSequence()) {
      error(at, p, "expected " + expectation(s) + ", got " + describe(n));
      return false;
    }
    std::map<std::string, std::size_t> seen;
    std::size_t i = 0;
    for (const YAML::Node& item : n) {
      Path ip = p.item(i);
      Mark im = to_mark(item.Mark());
      if (!im.known()) im = at;
      if (!item.IsScalar()) {
        error(im, ip, "expected a string, got " + describe(item));
        ok = false;
      } else if (!check_string_format(item.Scalar(), im, s, ip)) {
        ok = false;
      } else if (auto [it, inserted] = seen.emplace(item.Scalar(), i);
                 s.unique_items && !inserted) {
        error(
            im, ip,
            "duplicate '" + item.Scalar() + "' (same as item " + std::to_string(it->second) + ")");
        ok = false;
      }
      values.push_back(item.IsScalar() ? item.Scalar() : "");
      ++i;
    }
  }
  if (values.size() < s.min_items || values.size() > s.max_items) {
    std::string want = s.max_items == std::numeric_limits<std::size_t>::max()
                           ? "at least " + std::to_string(s.min_items)
                           : std::to_string(s.min_items) + " to " + std::to_string(s.max_items);
    error(at, p, "expected " + want + " items, got " + std::to_string(values.size()));
    ok = false;
  }
  if (ok) out = std::move(values);
  return ok;
}

bool Loader::convert(const YAML::Node& n, Mark at, const KeySpec& s, const Path& p,
                     std::vector<double>& out) {
  if (n.IsNull() || !n.IsSequence()) {
    error(at, p, "expected " + expectation(s) + ", got " + describe(n));
    return false;
  }
  std::vector<double> values;
  bool ok = true;
  KeySpec item_spec = s;
  item_spec.type = KeyType::number;
  std::size_t i = 0;
  for (const YAML::Node& item : n) {
    Mark im = to_mark(item.Mark());
    double v = 0;
    if (convert(item, im.known() ? im : at, item_spec, p.item(i), v)) {
      values.push_back(v);
    } else {
      ok = false;
    }
    ++i;
  }
  if (ok && (values.size() < s.min_items || values.size() > s.max_items)) {
    error(at, p,
          "expected " + std::to_string(s.min_items) + " to " + std::to_string(s.max_items) +
              " items, got " + std::to_string(values.size()));
    ok = false;
  }
  if (ok) out = std::move(values);
  return ok;
}

bool Loader::convert(const YAML::Node& n, Mark at, const KeySpec& s, const Path& p,
                     std::map<std::string, std::string>& out) {
  std::map<std::string, std::string> values;
  if (n.IsNull()) {
    out = std::move(values);
    return true;
  }
  if (!n.IsMap()) {
    error(at, p, "expected " + expectation(s) + ", got " + describe(n));
    return false;
  }
  bool ok = true;
  for (auto it = n.begin(); it != n.end(); ++it) {
    Mark km = to_mark(it->first.Mark());
    if (!it->first.IsScalar() || it->first.Scalar().empty()) {
      error(km, p, "keys must be non-empty strings, got " + describe(it->first));
      ok = false;
      continue;
    }
    Path kp = p.key(it->first.Scalar());
    if (!it->second.IsScalar()) {
      Mark vm = to_mark(it->second.Mark());
      error(it->second.IsNull() || !vm.known() ? km : vm, kp,
            "expected a string, number or boolean, got " + describe(it->second));
      ok = false;
      continue;
    }
    if (!values.emplace(it->first.Scalar(), it->second.Scalar()).second) {
      error(km, kp, "duplicate key");
      ok = false;
    }
  }
  if (ok) out = std::move(values);
  return ok;
}

Mark Loader::content_mark(const YAML::Node& n, Mark at) const {
  YAML::Mark m = n.Mark();
  if (m.is_null() || m.pos < 0 || static_cast<std::size_t>(m.pos) >= _text.size()) return at;
  char c = _text[static_cast<std::size_t>(m.pos)];
  if (c == '"' || c == '\'') return {at.line, at.column + 1};
  return at;
}

Mark Loader::item_mark(const MapView& m, std::string_view key, std::size_t index) const {
  const Entry* e = m.find(key);
  if (e == nullptr) return m.mark;
  if (e->value.IsSequence() && index < e->value.size()) {
    Mark im = to_mark(e->value[index].Mark());
    if (im.known()) return im;
  }
  return value_mark(*e);
}

Mark Loader::key_mark(const MapView& m, std::string_view key) const {
  const Entry* e = m.find(key);
  return e == nullptr ? m.mark : value_mark(*e);
}

void Loader::check_unique(std::map<std::string, Mark>& seen, const std::string& name, Mark at,
                          const Path& p, std::string_view what) {
  auto [it, inserted] = seen.emplace(name, at);
  if (!inserted) {
    error(at, p,
          "duplicate " + std::string(what) + " name '" + name + "' (first defined at line " +
              mark_text(it->second) + ")");
  }
}

void Loader::check_reference(const std::map<std::string, Mark>& defined, const std::string& name,
                             Mark at, const Path& p, std::string_view what,
                             std::string_view section) {
  if (defined.count(name) != 0) return;
  std::vector<std::string_view> names;
  for (const auto& [n, m] : defined) names.push_back(n);
  std::string message = "unknown " + std::string(what) + " '" + name + "'";
  if (std::string hint = suggestion(name, names); !hint.empty()) {
    message += " (did you mean '" + hint + "'?)";
  } else if (names.empty()) {
    message += ": none is defined under " + std::string(section);
  } else {
    message += "; defined under " + std::string(section) + ": " + join(names, ", ");
  }
  error(at, p, std::move(message));
}

// ---- sections ---------------------------------------------------------------------------------

Config Loader::load(const YAML::Node& root) {
  Config c;
  Path top;
  MapView m = open_map(root, Mark{1, 1}, top, true);
  if (!m.valid) return c;
  load_kafka(sub_map(m, top, "kafka"), top.key("kafka"), c.kafka);
  load_state(sub_map(m, top, "state"), top.key("state"), c.state);
  load_join(sub_map(m, top, "join"), top.key("join"), c.join);
  load_http(sub_map(m, top, "http"), top.key("http"), c.http);
  // Order matters: sessions refer to schemas, rules to sessions.
  load_label_schemas(m, c);
  load_labeling_sessions(m, c);
  load_rules(m, c);
  load_evaluation(sub_map(m, top, "evaluation"), top.key("evaluation"), c.evaluation);
  load_metrics(sub_map(m, top, "metrics"), top.key("metrics"), c.metrics);
  for (const auto& [path, mark] : _accepted) {
    if (_read_paths.count(path.generic) == 0) {
      error(mark, path, "internal error: key in the schema table but not read by the loader");
    }
  }
  return c;
}

void Loader::load_kafka(const MapView& m, const Path& p, KafkaOptions& out) {
  field(m, p, "brokers", out.brokers);
  field(m, p, "topic_prefix", out.topic_prefix);
  field(m, p, "partitions", out.partitions);
  field(m, p, "replication_factor", out.replication_factor);
  field(m, p, "exactly_once", out.exactly_once);
  field(m, p, "instance_id", out.instance_id);
  static constexpr std::string_view kOwned[] = {"bootstrap.servers", "metadata.broker.list",
                                                "transactional.id", "group.id",
                                                "enable.idempotence"};
  for (std::string_view key :
       {std::string_view("properties"), std::string_view("properties_env")}) {
    auto& target = key == "properties" ? out.properties : out.properties_env;
    if (!field(m, p, key, target)) continue;
    const Entry* e = m.find(key);
    if (e == nullptr) continue;
    for (auto it = e->value.begin(); it != e->value.end(); ++it) {
      const std::string& name = it->first.Scalar();
      Mark km = to_mark(it->first.Mark());
      if (std::find(std::begin(kOwned), std::end(kOwned), name) != std::end(kOwned)) {
        error(km, p.key(key).key(name),
              name == "bootstrap.servers" || name == "metadata.broker.list"
                  ? "set by tracefeed from kafka.brokers; set kafka.brokers instead"
                  : "set by tracefeed; it cannot be overridden");
      } else if (key == "properties_env") {
        if (auto problem = check_env_var_name(it->second.Scalar()); !problem.empty()) {
          Mark vm = to_mark(it->second.Mark());
          error(vm.known() ? vm : km, p.key(key).key(name),
                "invalid environment variable name '" + it->second.Scalar() + "': " + problem);
        }
      }
    }
  }
}

void Loader::load_state(const MapView& m, const Path& p, StateOptions& out) {
  field(m, p, "dir", out.dir);
  field(m, p, "memory_budget", out.memory_budget_bytes);
  field(m, p, "block_cache_share", out.block_cache_share);
}

void Loader::load_http(const MapView& m, const Path& p, HttpOptions& out) {
  field(m, p, "listen", out.listen);
  field(m, p, "body_limit", out.body_limit_bytes);
  field(m, p, "threads", out.threads);
  for (const ListItem& item : sub_list(m, p, "auth_tokens")) {
    MapView t = open_map(item.node, item.mark, item.path, true);
    if (!t.valid) continue;
    AuthToken token;
    field(t, item.path, "user", token.user);
    field(t, item.path, "token", token.token);
    field(t, item.path, "token_env", token.token_env);
    const Entry* has_token = t.find("token");
    const Entry* has_env = t.find("token_env");
    if (has_token != nullptr && has_env != nullptr) {
      error(to_mark(has_env->key.Mark()), item.path.key("token_env"),
            "set either 'token' or 'token_env', not both");
    } else if (has_token == nullptr && has_env == nullptr) {
      error(t.mark, item.path, "missing 'token' or 'token_env'");
    }
    out.auth_tokens.push_back(std::move(token));
  }
}

void Loader::load_label_schemas(const MapView& root, Config& out) {
  Path top;
  for (const ListItem& item : sub_list(root, top, "label_schemas")) {
    MapView m = open_map(item.node, item.mark, item.path, true);
    if (!m.valid) continue;
    LabelSchema schema;
    if (field(m, item.path, "name", schema.name)) {
      check_unique(_schema_names, schema.name, key_mark(m, "name"), item.path.key("name"),
                   "label schema");
    }
    std::string type;
    if (field(m, item.path, "type", type)) {
      schema.type =
          type == "expectation" ? LabelSchemaType::expectation : LabelSchemaType::feedback;
    }
    field(m, item.path, "title", schema.title);
    field(m, item.path, "instruction", schema.instruction);
    field(m, item.path, "enable_comment", schema.enable_comment);

    Path ip = item.path.key("input");
    MapView input = sub_map(m, item.path, "input");
    if (const Entry* kind = one_of(input, ip)) {
      Path kp = ip.key(kind->name);
      spec(kp);
      MapView k = open_map(kind->value, value_mark(*kind), kp, true);
      if (kind->name == "categorical") {
        CategoricalInput in;
        field(k, kp, "options", in.options);
        schema.input = std::move(in);
      } else if (kind->name == "categorical_list") {
        CategoricalListInput in;
        field(k, kp, "options", in.options);
        schema.input = std::move(in);
      } else if (kind->name == "text") {
        TextInput in;
        field(k, kp, "max_length", in.max_length);
        schema.input = in;
      } else if (kind->name == "text_list") {
        TextListInput in;
        field(k, kp, "max_length_each", in.max_length_each);
        field(k, kp, "max_count", in.max_count);
        schema.input = in;
      } else if (kind->name == "numeric") {
        NumericInput in;
        field(k, kp, "min_value", in.min_value);
        field(k, kp, "max_value", in.max_value);
        if (in.min_value && in.max_value && !(*in.min_value < *in.max_value)) {
          error(key_mark(k, "max_value"), kp.key("max_value"),
                "must be greater than min_value (" + format_number(*in.min_value) + ")");
        }
        schema.input = in;
      } else if (kind->name == "pass_fail") {
        PassFailInput in;
        bool ok = field(k, kp, "positive_label", in.positive_label);
        ok = field(k, kp, "negative_label", in.negative_label) && ok;
        if (ok && in.positive_label == in.negative_label) {
          error(key_mark(k, "negative_label"), kp.key("negative_label"),
                "must differ from positive_label ('" + in.positive_label + "')");
        }
        schema.input = std::move(in);
      }
    }
    out.label_schemas.push_back(std::move(schema));
  }
}

void Loader::load_labeling_sessions(const MapView& root, Config& out) {
  Path top;
  for (const ListItem& item : sub_list(root, top, "labeling_sessions")) {
    MapView m = open_map(item.node, item.mark, item.path, true);
    if (!m.valid) continue;
    LabelingSession session;
    if (field(m, item.path, "name", session.name)) {
      check_unique(_session_names, session.name, key_mark(m, "name"), item.path.key("name"),
                   "labeling session");
    }
    if (field(m, item.path, "label_schemas", session.label_schemas)) {
      for (std::size_t i = 0; i < session.label_schemas.size(); ++i) {
        check_reference(_schema_names, session.label_schemas[i], item_mark(m, "label_schemas", i),
                        item.path.key("label_schemas").item(i), "label schema", "label_schemas");
      }
    }
    field(m, item.path, "assigned_users", session.assigned_users);
    field(m, item.path, "reviews_per_item", session.reviews_per_item);
    field(m, item.path, "lease_duration", session.lease_duration);
    out.labeling_sessions.push_back(std::move(session));
  }
}

void Loader::load_rules(const MapView& root, Config& out) {
  Path top;
  std::map<std::string, Mark> rule_names;
  for (const ListItem& item : sub_list(root, top, "rules")) {
    MapView m = open_map(item.node, item.mark, item.path, true);
    if (!m.valid) continue;
    Rule rule;
    if (field(m, item.path, "name", rule.name)) {
      check_unique(rule_names, rule.name, key_mark(m, "name"), item.path.key("name"), "rule");
    }
    if (field(m, item.path, "filter", rule.filter)) {
      const Entry* e = m.find("filter");
      rule.filter_mark = content_mark(e->value, value_mark(*e));
    }
    field(m, item.path, "sample_rate", rule.sample_rate);
    field(m, item.path, "priority", rule.priority);
    field(m, item.path, "backfill", rule.backfill);
    for (const ListItem& a : sub_list(m, item.path, "actions")) {
      MapView am = open_map(a.node, a.mark, a.path, true);
      const Entry* kind = one_of(am, a.path);
      if (kind == nullptr) continue;
      RuleAction action;
      if (!field(am, a.path, kind->name, action.target)) continue;
      if (kind->name == "labeling_session") {
        action.kind = ActionKind::labeling_session;
        check_reference(_session_names, action.target, value_mark(*kind), a.path.key(kind->name),
                        "labeling session", "labeling_sessions");
      } else if (kind->name == "eval") {
        action.kind = ActionKind::eval;
      } else {
        action.kind = ActionKind::webhook;
      }
      rule.actions.push_back(std::move(action));
    }
    out.rules.push_back(std::move(rule));
  }
}

void Loader::load_evaluation(const MapView& m, const Path& p, EvaluationOptions& out) {
  Path jp = p.key("judge");
  MapView j = sub_map(m, p, "judge");
  field(j, jp, "base_url", out.judge.base_url);
  field(j, jp, "model", out.judge.model);
  field(j, jp, "api_key_env", out.judge.api_key_env);
  field(j, jp, "timeout", out.judge.timeout);
  field(j, jp, "max_retries", out.judge.max_retries);
  field(j, jp, "max_concurrency", out.judge.max_concurrency);
  field(j, jp, "enabled", out.judge.enabled);
  field(j, jp, "cache_entries", out.judge.cache_entries);
  field(j, jp, "ca_cert_file", out.judge.ca_cert_file);
  field(m, p, "prompts_dir", out.prompts_dir);
  field(m, p, "max_concurrent_runs", out.max_concurrent_runs);
  field(m, p, "record_concurrency", out.record_concurrency);
  field(m, p, "max_queued_runs", out.max_queued_runs);
  field(m, p, "max_records", out.max_records);
  field(m, p, "correctness_recall_threshold", out.correctness_recall_threshold);
  field(m, p, "fact_token_threshold", out.fact_token_threshold);
  for (auto [key, limits] : {std::pair{"predict", &out.predict}, {"http_scorer", &out.http_scorer}}) {
    Path lp = p.key(key);
    MapView lm = sub_map(m, p, key);
    field(lm, lp, "timeout", limits->timeout);
    field(lm, lp, "max_retries", limits->max_retries);
    field(lm, lp, "max_concurrency", limits->max_concurrency);
  }
  field(m, p, "score_window", out.score_window);
  field(m, p, "label_wait", out.label_wait);
  std::map<std::string, Mark> rule_names;
  for (const ListItem& item : sub_list(m, p, "rules")) {
    MapView rm = open_map(item.node, item.mark, item.path, true);
    if (!rm.valid) continue;
    EvaluationRule rule;
    rule.mark = item.mark;
    if (field(rm, item.path, "name", rule.name)) {
      check_unique(rule_names, rule.name, key_mark(rm, "name"), item.path.key("name"), "evaluation rule");
    }
    // The session may also be created through the API later, so it is not checked against
    // labeling_sessions here; the evaluator names an unknown one when an item of it completes.
    field(rm, item.path, "labeling_session", rule.labeling_session);
    for (const ListItem& s : sub_list(rm, item.path, "scorers")) {
      ScorerConfig scorer;
      scorer.mark = s.mark;
      if (s.node.IsScalar()) {
        // `scorers: [correctness]`: a name alone.
        std::string name = s.node.Scalar();
        if (name.empty()) {
          error(s.mark, s.path, "expected a scorer name or a mapping {name, type, guidelines, url}");
          continue;
        }
        scorer.name = std::move(name);
        rule.scorers.push_back(std::move(scorer));
        continue;
      }
      MapView sm = open_map(s.node, s.mark, s.path, true);
      if (!sm.valid) continue;
      field(sm, s.path, "name", scorer.name);
      field(sm, s.path, "type", scorer.type);
      field(sm, s.path, "guidelines", scorer.guidelines);
      field(sm, s.path, "url", scorer.url);
      rule.scorers.push_back(std::move(scorer));
    }
    out.rules.push_back(std::move(rule));
  }
}

void Loader::load_join(const MapView& m, const Path& p, JoinOptions& out) {
  field(m, p, "orphan_timeout", out.orphan_timeout);
  field(m, p, "max_input_skew", out.max_input_skew);
}

void Loader::load_metrics(const MapView& m, const Path& p, MetricsOptions& out) {
  field(m, p, "enabled", out.enabled);
  field(m, p, "path", out.path);
  if (field(m, p, "route_latency_buckets", out.route_latency_buckets_seconds)) {
    const auto& b = out.route_latency_buckets_seconds;
    for (std::size_t i = 1; i < b.size(); ++i) {
      if (!(b[i - 1] < b[i])) {
        error(item_mark(m, "route_latency_buckets", i), p.key("route_latency_buckets").item(i),
              "buckets must be strictly increasing; " + format_number(b[i]) + " follows " +
                  format_number(b[i - 1]));
      }
    }
  }
}

}  // namespace

ParsedConfig parse_config_string(std::string_view yaml, std::string_view source_name) {
  ParsedConfig out;
  std::string source(source_name);
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(yaml));
  } catch (const YAML::Exception& e) {
    out.errors.push_back({source, to_mark(e.mark), "", "YAML syntax error: " + e.msg});
  } catch (const std::exception& e) {
    out.errors.push_back({source, {}, "", std::string("cannot parse YAML: ") + e.what()});
  }
  if (out.errors.empty()) {
    if (docs.size() > 1) {
      out.errors.push_back({source, to_mark(docs[1].Mark()), "",
                            "expected one YAML document, found " + std::to_string(docs.size())});
    }
    try {
      Loader loader(source, yaml);
      out.config = loader.load(docs.empty() ? YAML::Node() : docs.front());
      for (ConfigError& e : loader.take_errors()) out.errors.push_back(std::move(e));
    } catch (const YAML::Exception& e) {
      out.errors.push_back({source, to_mark(e.mark), "", "internal error: " + e.msg});
    } catch (const std::exception& e) {
      out.errors.push_back({source, {}, "", std::string("internal error: ") + e.what()});
    }
  }
  std::stable_sort(
      out.errors.begin(), out.errors.end(), [](const ConfigError& a, const ConfigError& b) {
        return std::pair(a.mark.line, a.mark.column) < std::pair(b.mark.line, b.mark.column);
      });
  out.config.source = source;
  return out;
}

ParsedConfig parse_config_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    ParsedConfig out;
    out.config.source = path.string();
    out.errors.push_back({path.string(),
                          {},
                          "",
                          "config file not found (pass --config FILE; the documented default is "
                          "config/tracefeed.yaml)"});
    return out;
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in || in.bad()) {
    ParsedConfig out;
    out.config.source = path.string();
    out.errors.push_back(
        {path.string(), {}, "", std::string("cannot read config file: ") + std::strerror(errno)});
    return out;
  }
  return parse_config_string(text.str(), path.string());
}

Result<Config> load_config_string(std::string_view yaml, std::string_view source_name) {
  ParsedConfig parsed = parse_config_string(yaml, source_name);
  if (!parsed.ok()) return parsed.status();
  return std::move(parsed.config);
}

Result<Config> load_config_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return Status::not_found(path.string() +
                             ": config file not found (pass --config FILE; the documented default "
                             "is config/tracefeed.yaml)");
  }
  ParsedConfig parsed = parse_config_file(path);
  if (!parsed.ok()) return parsed.status();
  return std::move(parsed.config);
}

}  // namespace tracefeed::config
