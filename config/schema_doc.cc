// Renders docs/configuration.md from the key table in schema.cc.

#include <chrono>
#include <cstdio>
#include <limits>
#include <string>

#include "config/schema.h"
#include "config/value_format.h"

namespace tracefeed::config {
namespace {

constexpr std::string_view kIntro = R"(# Configuration reference

<!-- Generated from config/schema.cc by `tracefeed_config_doc`. Do not edit by hand:
     regenerate with `cmake --build <build-dir> --target docs-config`. -->

tracefeed reads one YAML file: `tracefeed run --config FILE` (default
`config/tracefeed.yaml`, the documented default configuration). Check a file without
starting anything with `tracefeed validate-config FILE`.

- **Strict.** Unknown keys are errors (with a did-you-mean suggestion when a known key is
  close), as are wrong types, out-of-range values, unknown enum values, bad addresses and
  URLs, duplicate names and references to undefined schemas or sessions.
- **All errors at once.** Loading collects every problem before failing; each one names the
  file, line and column (1-based) and the key path:
  `config/tracefeed.yaml:12:18: rules[0].sample_rate: expected a number between 0 and 1, got 1.5`.
  Errors about a value point at the value; a missing key points at its enclosing mapping.
- **Defaults.** Every key below except those marked *required* may be left out; a section
  left out entirely takes all its defaults, and a key written with no value (`kafka:`) is
  the same as an empty section or list.
- **Sizes** are bytes or a number with a unit: `B`, `KB`, `MB`, `GB`, `TB` (powers of 1000)
  or `KiB`, `MiB`, `GiB`, `TiB` (powers of 1024), e.g. `512MiB`.
- **Durations** are integers with units `ms`, `s`, `m`, `h`, `d`, combinable: `1h30m`.
- **Secrets** never appear by value where avoidable: keys ending in `_env` name an
  environment variable that tracefeed reads when it needs the value. No other
  environment-variable expansion takes place.
- **Names** of label schemas, labeling sessions, rules and datasets are non-empty, at most
  256 characters, contain no `.` or `/` and no control characters.

## Example

```yaml
kafka:
  brokers: embedded          # or "host1:9092,host2:9092"
state:
  dir: ./data/tracefeed
http:
  listen: "127.0.0.1:8080"
label_schemas:
  - name: response_accuracy
    type: feedback
    title: Is the response factually accurate?
    input: {categorical: {options: [Accurate, Partially Accurate, Inaccurate]}}
labeling_sessions:
  - name: quickstart_review
    label_schemas: [response_accuracy]
rules:
  - name: thumbs_down_to_review
    filter: "feedback.user_feedback = false"
    sample_rate: 1.0
    actions: [{labeling_session: quickstart_review}]
```

`kafka.brokers: embedded` runs librdkafka's in-process mock cluster: it is for trying
tracefeed on one machine. Its log is volatile (lost when the process exits), so use a real
Kafka cluster for anything you want to keep.

Keys are written as paths: `rules[].actions[].webhook` is the `webhook` key of each action
of each rule.
)";

std::string escape_cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n')
      out += ' ';
    else
      out += c;
  }
  return out;
}

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

std::string bound(const KeySpec& s, double v) {
  if (s.type == KeyType::size) return format_size(static_cast<uint64_t>(v));
  if (s.type == KeyType::duration)
    return format_duration(std::chrono::milliseconds(static_cast<int64_t>(v)));
  return number(v);
}

std::string constraints(const KeySpec& s) {
  std::string out;
  auto add = [&out](std::string part) {
    if (!out.empty()) out += "; ";
    out += part;
  };
  if (s.min && s.max)
    add(bound(s, *s.min) + " .. " + bound(s, *s.max));
  else if (s.min)
    add("≥ " + bound(s, *s.min));
  else if (s.max)
    add("≤ " + bound(s, *s.max));
  if (s.type == KeyType::enumeration) {
    std::string values;
    for (std::string_view v : s.allowed)
      values += (values.empty() ? "`" : ", `") + std::string(v) + "`";
    add(values);
  }
  switch (s.format) {
    case KeyFormat::none:
      break;
    case KeyFormat::non_empty:
      add("non-empty");
      break;
    case KeyFormat::name:
      add("a name (see above)");
      break;
    case KeyFormat::brokers:
      add("`embedded` or `host:port,...`");
      break;
    case KeyFormat::host_port:
      add("`host:port`");
      break;
    case KeyFormat::http_url:
      add("`http://` or `https://` URL");
      break;
    case KeyFormat::env_var:
      add("environment variable name");
      break;
    case KeyFormat::user:
      add("a user id (e-mail addresses are fine); ≤ 256 chars");
      break;
    case KeyFormat::env_var_or_empty:
      add("environment variable name, or `\"\"` for none");
      break;
    case KeyFormat::url_path:
      add("starts with `/`");
      break;
    case KeyFormat::topic_prefix:
      add("letters, digits, `.` `_` `-`; ≤ 200 chars");
      break;
  }
  bool bounded_items = s.max_items != std::numeric_limits<std::size_t>::max();
  if (bounded_items) {
    add(std::to_string(s.min_items) + " to " + std::to_string(s.max_items) + " items");
  } else if (s.min_items > 0) {
    add("at least " + std::to_string(s.min_items) + " item" + (s.min_items == 1 ? "" : "s"));
  }
  if (s.unique_items) add("distinct");
  if (s.exactly_one_child) add("exactly one key");
  return out.empty() ? "" : out;
}

std::string default_cell(const KeySpec& s) {
  if (s.required) return "*required*";
  if (s.default_yaml.empty()) return s.type == KeyType::mapping ? "" : "*unset*";
  return "`" + std::string(s.default_yaml) + "`";
}

}  // namespace

std::string render_configuration_markdown() {
  std::string out(kIntro);
  for (const KeySpec& section : config_schema()) {
    std::string_view name = section.path;
    if (name.find_first_of(".[") != std::string_view::npos) continue;
    out += "\n## `" + std::string(name) + "`\n\n";
    out += std::string(section.description) + "\n\n";
    out += "Type: " + std::string(key_type_name(section.type));
    if (section.type == KeyType::list) out += " of mappings";
    if (!section.default_yaml.empty())
      out += ", default `" + std::string(section.default_yaml) + "`";
    out += ".\n\n";
    out += "| Key | Type | Default | Allowed | Description |\n";
    out += "|---|---|---|---|---|\n";
    for (const KeySpec& s : config_schema()) {
      std::string_view p = s.path;
      if (!p.starts_with(name) || p.size() == name.size() ||
          (p[name.size()] != '.' && p[name.size()] != '[')) {
        continue;
      }
      std::string type(key_type_name(s.type));
      if (s.type == KeyType::list) type += " of mappings";
      out += "| `" + std::string(p) + "` | " + type + " | " + escape_cell(default_cell(s)) + " | " +
             escape_cell(constraints(s)) + " | " + escape_cell(s.description) + " |\n";
    }
  }
  return out;
}

}  // namespace tracefeed::config
