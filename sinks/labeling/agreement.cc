#include "sinks/labeling/agreement.h"

#include <cmath>
#include <map>
#include <set>

namespace tracefeed::labeling {
namespace {

// Chance agreement this close to 1 makes kappa a ratio of rounding errors.
constexpr double kUndefinedEpsilon = 1e-12;

std::optional<double> kappa_of(double observed, double chance) {
  if (1.0 - chance < kUndefinedEpsilon) return std::nullopt;
  return (observed - chance) / (1.0 - chance);
}

}  // namespace

std::string_view to_string(AgreementMethod m) noexcept {
  return m == AgreementMethod::cohen ? "cohen_kappa" : "fleiss_kappa";
}

std::optional<double> cohen_kappa(const std::vector<std::pair<std::string, std::string>>& pairs,
                                  double* observed) {
  if (pairs.empty()) return std::nullopt;
  std::map<std::string_view, double> a, b;
  size_t agree = 0;
  for (const auto& [x, y] : pairs) {
    agree += x == y;
    a[x] += 1;
    b[y] += 1;
  }
  const double n = static_cast<double>(pairs.size());
  const double p_o = static_cast<double>(agree) / n;
  double p_e = 0;
  for (const auto& [category, count] : a) {
    auto it = b.find(category);
    if (it != b.end()) p_e += (count / n) * (it->second / n);
  }
  if (observed) *observed = p_o;
  return kappa_of(p_o, p_e);
}

std::optional<double> fleiss_kappa(const std::vector<std::vector<int>>& counts, double* observed) {
  if (counts.empty()) return std::nullopt;
  const size_t k = counts.front().size();
  std::vector<double> column(k, 0.0);
  double total = 0, sum_p = 0;
  for (const auto& row : counts) {
    double n = 0, same = 0;
    for (size_t j = 0; j < k && j < row.size(); ++j) {
      n += row[j];
      same += static_cast<double>(row[j]) * (row[j] - 1);
      column[j] += row[j];
    }
    if (n < 2) return std::nullopt;
    sum_p += same / (n * (n - 1));
    total += n;
  }
  const double p_bar = sum_p / static_cast<double>(counts.size());
  double p_e = 0;
  for (double c : column) p_e += (c / total) * (c / total);
  if (observed) *observed = p_bar;
  return kappa_of(p_bar, p_e);
}

std::optional<Agreement> compute_agreement(const std::vector<Ratings>& items) {
  // First answer per reviewer per item; items with at least two reviewers.
  std::vector<std::vector<std::pair<std::string_view, std::string_view>>> rated;
  std::set<std::string_view> reviewers;
  for (const auto& item : items) {
    std::vector<std::pair<std::string_view, std::string_view>> unique;
    for (const auto& [reviewer, category] : item) {
      bool seen = false;
      for (const auto& [r, c] : unique) seen |= r == reviewer;
      if (!seen) unique.emplace_back(reviewer, category);
    }
    if (unique.size() < 2) continue;
    for (const auto& [r, c] : unique) reviewers.insert(r);
    rated.push_back(std::move(unique));
  }
  if (rated.empty()) return std::nullopt;

  Agreement out;
  out.items = rated.size();
  out.reviewers = reviewers.size();
  for (const auto& item : rated) out.ratings += item.size();

  if (reviewers.size() == 2) {
    // Two reviewers, both on every counted item: Cohen's kappa with rater A = the first in
    // name order (kappa is symmetric in A and B, the order only has to be consistent).
    const std::string_view first = *reviewers.begin();
    std::vector<std::pair<std::string, std::string>> pairs;
    pairs.reserve(rated.size());
    for (const auto& item : rated) {
      const auto& [r0, c0] = item[0];
      const auto& [r1, c1] = item[1];
      if (r0 == first) {
        pairs.emplace_back(c0, c1);
      } else {
        pairs.emplace_back(c1, c0);
      }
    }
    out.method = AgreementMethod::cohen;
    out.kappa = cohen_kappa(pairs, &out.observed_agreement);
    return out;
  }

  std::map<std::string_view, size_t> category_index;
  for (const auto& item : rated) {
    for (const auto& [r, c] : item) category_index.emplace(c, category_index.size());
  }
  std::vector<std::vector<int>> counts(rated.size(), std::vector<int>(category_index.size(), 0));
  for (size_t i = 0; i < rated.size(); ++i) {
    for (const auto& [r, c] : rated[i]) ++counts[i][category_index[c]];
  }
  out.method = AgreementMethod::fleiss;
  out.kappa = fleiss_kappa(counts, &out.observed_agreement);
  return out;
}

}  // namespace tracefeed::labeling
