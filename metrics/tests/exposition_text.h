#pragma once
// Reading samples back out of Prometheus text exposition in tests.

#include <cmath>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>

namespace tracefeed::metrics::testing {

// The value of the sample whose series (name + labels as exposed) is exactly `series`, or NaN
// when there is none.
inline double sample_value(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ') {
      return std::strtod(line.c_str() + series.size() + 1, nullptr);
    }
  }
  return std::nan("");
}

// Sample lines of the family `name` (its own series only, not _bucket/_sum/_count).
inline size_t count_samples(const std::string& text, std::string_view name) {
  std::istringstream in(text);
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    if (line.size() > name.size() && line.compare(0, name.size(), name) == 0 &&
        (line[name.size()] == '{' || line[name.size()] == ' ')) {
      ++n;
    }
  }
  return n;
}

}  // namespace tracefeed::metrics::testing
