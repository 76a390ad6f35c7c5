#include "config/value_format.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <vector>

namespace tracefeed::config {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool is_host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

// host = hostname | IPv4 | [IPv6]
std::string check_host(std::string_view host) {
  if (host.empty()) return "missing host";
  if (host.front() == '[') {
    if (host.back() != ']' || host.size() < 3) return "malformed IPv6 address (use [addr])";
    for (char c : host.substr(1, host.size() - 2)) {
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') {
        return "malformed IPv6 address";
      }
    }
    return "";
  }
  if (host.size() > 253) return "host name longer than 253 characters";
  for (char c : host) {
    if (!is_host_char(c)) return "invalid character in host '" + std::string(host) + "'";
  }
  return "";
}

std::string check_port(std::string_view port, bool allow_zero) {
  if (port.empty()) return "missing port";
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size()) {
    return "port '" + std::string(port) + "' is not a number";
  }
  if (value > 65535 || (!allow_zero && value == 0)) {
    return "port " + std::string(port) + " out of range " + (allow_zero ? "0" : "1") + "..65535";
  }
  return "";
}

std::string check_host_port_impl(std::string_view text, bool allow_zero_port) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return "expected host:port";
  std::string_view host = text.substr(0, colon);
  if (!host.empty() && host.front() != '[' && host.find(':') != std::string_view::npos) {
    return "IPv6 addresses must be in brackets, e.g. [::1]:8080";
  }
  if (auto e = check_host(host); !e.empty()) return e;
  return check_port(text.substr(colon + 1), allow_zero_port);
}

}  // namespace

std::optional<uint64_t> parse_size(std::string_view text) noexcept {
  text = trim(text);
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  if (i == 0) return std::nullopt;
  double number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + i, number);
  if (ec != std::errc() || end != text.data() + i || !std::isfinite(number)) return std::nullopt;
  std::string_view unit = trim(text.substr(i));
  struct Unit {
    std::string_view name;
    double factor;
  };
  static constexpr Unit kUnits[] = {
      {"", 1},
      {"B", 1},
      {"KB", 1e3},
      {"MB", 1e6},
      {"GB", 1e9},
      {"TB", 1e12},
      {"KiB", 1024.0},
      {"MiB", 1048576.0},
      {"GiB", 1073741824.0},
      {"TiB", 1099511627776.0},
  };
  for (const Unit& u : kUnits) {
    if (iequals(unit, u.name)) {
      double bytes = std::floor(number * u.factor);
      if (bytes > 9.2e18) return std::nullopt;
      return static_cast<uint64_t>(bytes);
    }
  }
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) noexcept {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  int64_t total = 0;
  while (!text.empty()) {
    int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || value < 0) return std::nullopt;
    text.remove_prefix(static_cast<std::size_t>(end - text.data()));
    std::size_t n = 0;
    while (n < text.size() && std::isalpha(static_cast<unsigned char>(text[n]))) ++n;
    std::string_view unit = text.substr(0, n);
    text.remove_prefix(n);
    int64_t factor = 0;
    if (unit == "ms")
      factor = 1;
    else if (unit == "s")
      factor = 1000;
    else if (unit == "m")
      factor = 60'000;
    else if (unit == "h")
      factor = 3'600'000;
    else if (unit == "d")
      factor = 86'400'000;
    else
      return std::nullopt;
    if (value > (int64_t{1} << 40)) return std::nullopt;
    total += value * factor;
  }
  return std::chrono::milliseconds(total);
}

std::string format_size(uint64_t bytes) {
  static constexpr std::string_view kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  std::size_t unit = 0;
  while (unit + 1 < std::size(kUnits) && bytes != 0 && bytes % 1024 == 0) {
    bytes /= 1024;
    ++unit;
  }
  return std::to_string(bytes) + std::string(kUnits[unit]);
}

std::string format_duration(std::chrono::milliseconds duration) {
  int64_t ms = duration.count();
  struct Unit {
    std::string_view name;
    int64_t factor;
  };
  static constexpr Unit kUnits[] = {
      {"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1000}};
  for (const Unit& u : kUnits) {
    if (ms != 0 && ms % u.factor == 0) return std::to_string(ms / u.factor) + std::string(u.name);
  }
  return std::to_string(ms) + "ms";
}

std::string check_name(std::string_view text) {
  if (text.empty()) return "must not be empty";
  if (text.size() > 256) return "longer than 256 characters";
  if (text.find('.') != std::string_view::npos) return "must not contain '.'";
  if (text.find('/') != std::string_view::npos) return "must not contain '/'";
  if (is_space(text.front()) || is_space(text.back()))
    return "must not start or end with whitespace";
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return "must not contain control characters";
  }
  return "";
}

std::string check_host_port(std::string_view text) {
  return check_host_port_impl(text, true);
}

std::string check_brokers(std::string_view text) {
  if (text == "embedded") return "";
  if (trim(text).empty()) return "expected \"embedded\" or host:port[,host:port...]";
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view broker = trim(text.substr(start, comma - start));
    if (broker.empty()) return "empty broker in list";
    if (auto e = check_host_port_impl(broker, false); !e.empty()) {
      return "broker '" + std::string(broker) + "': " + e +
             " (or \"embedded\" for the in-process cluster)";
    }
    start = comma + 1;
  }
  return "";
}

std::string check_http_url(std::string_view text) {
  std::string_view rest;
  if (text.starts_with("https://")) {
    rest = text.substr(8);
  } else if (text.starts_with("http://")) {
    rest = text.substr(7);
  } else {
    return "expected an http:// or https:// URL";
  }
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      return "URL must not contain spaces or control characters";
  }
  std::size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  if (auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (authority.empty()) return "URL has no host";
  // host[:port]; a bare IPv6 in brackets may contain ':'.
  std::size_t close = authority.rfind(']');
  std::size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && (close == std::string_view::npos || colon > close)) {
    if (auto e = check_host(authority.substr(0, colon)); !e.empty()) return "URL " + e;
    if (auto e = check_port(authority.substr(colon + 1), false); !e.empty()) return "URL " + e;
    return "";
  }
  if (auto e = check_host(authority); !e.empty()) return "URL " + e;
  return "";
}

std::string check_env_var_name(std::string_view text) {
  if (text.empty()) return "must not be empty";
  if (std::isdigit(static_cast<unsigned char>(text.front()))) {
    return "environment variable names must not start with a digit";
  }
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') {
      return "environment variable names contain only letters, digits and '_'";
    }
  }
  return "";
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace tracefeed::config
