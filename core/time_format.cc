#include "core/time_format.h"


namespace tracefeed {
namespace {

// Howard Hinnant's days_from_civil / civil_from_days.
constexpr int64_t days_from_civil(int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Civil {
  int64_t y;
  unsigned m, d;
};

constexpr Civil civil_from_days(int64_t z) noexcept {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

bool digits(std::string_view s, size_t pos, size_t n, int& out) noexcept {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

constexpr int64_t kNsPerSec = 1'000'000'000;

// Appends v as exactly `width` decimal digits (v < 10^width).
void append_digits(std::string& out, uint64_t v, int width) {
  char buf[20];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  out.append(buf, static_cast<size_t>(width));
}

void append_fraction(std::string& out, int64_t nanos) {
  if (nanos == 0) return;
  out.push_back('.');
  if (nanos % 1'000'000 == 0) {
    append_digits(out, static_cast<uint64_t>(nanos / 1'000'000), 3);
  } else if (nanos % 1'000 == 0) {
    append_digits(out, static_cast<uint64_t>(nanos / 1'000), 6);
  } else {
    append_digits(out, static_cast<uint64_t>(nanos), 9);
  }
}

}  // namespace

std::optional<int64_t> parse_rfc3339_ns(std::string_view s) noexcept {
  int year, mon, day, hh, mm, ss;
  if (!digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, mon) ||
      s[7] != '-' || !digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !digits(s, 11, 2, hh) || s[13] != ':' || !digits(s, 14, 2, mm) || s[16] != ':' ||
      !digits(s, 17, 2, ss)) {
    return std::nullopt;
  }
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  size_t pos = 19;
  int64_t frac = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (n < 9) {
        frac = frac * 10 + (s[pos] - '0');
        ++n;
      }
      ++pos;
    }
    if (n == 0) return std::nullopt;
    for (; n < 9; ++n) frac *= 10;
  }
  int64_t offset_s = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(s, pos + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_s = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  const int64_t days = days_from_civil(year, static_cast<unsigned>(mon), static_cast<unsigned>(day));
  const int64_t secs = days * 86400 + hh * 3600 + mm * 60 + ss - offset_s;
  return secs * kNsPerSec + frac;
}

void append_rfc3339(std::string& out, int64_t unix_ns) {
  int64_t secs = unix_ns / kNsPerSec;
  int64_t nanos = unix_ns % kNsPerSec;
  if (nanos < 0) {
    nanos += kNsPerSec;
    --secs;
  }
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  const Civil c = civil_from_days(days);
  if (c.y < 0 || c.y > 9999) {  // outside RFC 3339's range: clamp rather than write garbage
    out += c.y < 0 ? "0000-01-01T00:00:00Z" : "9999-12-31T23:59:59Z";
    return;
  }
  append_digits(out, static_cast<uint64_t>(c.y), 4);
  out.push_back('-');
  append_digits(out, c.m, 2);
  out.push_back('-');
  append_digits(out, c.d, 2);
  out.push_back('T');
  append_digits(out, static_cast<uint64_t>(rem / 3600), 2);
  out.push_back(':');
  append_digits(out, static_cast<uint64_t>(rem / 60 % 60), 2);
  out.push_back(':');
  append_digits(out, static_cast<uint64_t>(rem % 60), 2);
  append_fraction(out, nanos);
  out.push_back('Z');
}

std::string format_rfc3339(int64_t unix_ns) {
  std::string out;
  append_rfc3339(out, unix_ns);
  return out;
}

std::optional<int64_t> parse_duration_ns(std::string_view s) noexcept {
  if (s.size() < 2 || s.back() != 's') return std::nullopt;
  s.remove_suffix(1);
  bool negative = false;
  if (s.front() == '-') {
    negative = true;
    s.remove_prefix(1);
  }
  int64_t secs = 0;
  size_t pos = 0;
  int int_digits = 0;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
    if (++int_digits > 12) return std::nullopt;  // proto Duration: ±315,576,000,000 s
    secs = secs * 10 + (s[pos] - '0');
    ++pos;
  }
  int64_t frac = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (++n > 9) return std::nullopt;
      frac = frac * 10 + (s[pos] - '0');
      ++pos;
    }
    if (n == 0 && int_digits == 0) return std::nullopt;
    for (; n < 9; ++n) frac *= 10;
  } else if (int_digits == 0) {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  const int64_t ns = secs * kNsPerSec + frac;
  return negative ? -ns : ns;
}

void append_duration(std::string& out, int64_t ns) {
  if (ns < 0) {
    out.push_back('-');
    ns = -ns;
  }
  out += std::to_string(ns / kNsPerSec);
  append_fraction(out, ns % kNsPerSec);
  out.push_back('s');
}

std::string format_duration(int64_t ns) {
  std::string out;
  append_duration(out, ns);
  return out;
}

}  // namespace tracefeed
