#pragma once
// Parsers and checks for the value formats the config uses. Public so that the HTTP API (which
// creates label schemas, sessions and rules at run time) validates exactly like the loader.
// All functions are pure and thread-safe.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tracefeed::config {

// "1048576", "512MiB", "1.5GB", "64 KiB" (units B KB MB GB TB = 1000^n, KiB MiB GiB TiB = 1024^n,
// case-insensitive). nullopt when malformed or above 2^63.
[[nodiscard]] std::optional<uint64_t> parse_size(std::string_view text) noexcept;

// "500ms", "30s", "15m", "2h", "1d", "1h30m" (a sequence of integer+unit). nullopt when malformed.
[[nodiscard]] std::optional<std::chrono::milliseconds> parse_duration(
    std::string_view text) noexcept;

// Renders bytes with the largest exact binary unit ("512MiB", "1000B").
[[nodiscard]] std::string format_size(uint64_t bytes);
// Renders a duration with the largest exact unit ("15m", "1500ms").
[[nodiscard]] std::string format_duration(std::chrono::milliseconds duration);

// Each returns "" when `text` is valid, otherwise what is wrong (no key path, no position).
[[nodiscard]] std::string check_name(std::string_view text);       // schema/session/rule names
[[nodiscard]] std::string check_host_port(std::string_view text);  // "host:port"
[[nodiscard]] std::string check_brokers(std::string_view text);    // "embedded" | host:port,...
[[nodiscard]] std::string check_http_url(std::string_view text);   // http(s)://host[:port][/...]
[[nodiscard]] std::string check_env_var_name(std::string_view text);

// Levenshtein distance, for did-you-mean suggestions.
[[nodiscard]] std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace tracefeed::config
