#pragma once
// Inter-rater agreement of the reviewers of a labeling session, per label schema.
//
// Only items with two or more answers count. When exactly two reviewers answered those items,
// the figure is Cohen's kappa (each reviewer's own category distribution gives the chance
// agreement); with more reviewers it is Fleiss' kappa, in its form for a varying number of
// ratings per item (P_i = sum_j n_ij (n_ij - 1) / (n_i (n_i - 1)); the category shares p_j are
// over all ratings), which equals the textbook formula when every item has the same number.
// Categories are compared exactly: the canonical JSON of the answer.
//
// Kappa is undefined when chance agreement is 1 (everyone used one and the same category):
// `kappa` is then empty and `observed_agreement` (1.0 in that case) says what happened.
//
// Pure functions; thread-safe.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tracefeed::labeling {

enum class AgreementMethod { cohen, fleiss };
[[nodiscard]] std::string_view to_string(
    AgreementMethod m) noexcept;  // "cohen_kappa", "fleiss_kappa"

struct Agreement {
  AgreementMethod method = AgreementMethod::cohen;
  std::optional<double> kappa;    // empty when undefined (chance agreement = 1)
  double observed_agreement = 0;  // Cohen: share of items on which both agree; Fleiss: mean P_i
  size_t items = 0;               // items with two or more answers
  size_t reviewers = 0;           // distinct reviewers among them
  size_t ratings = 0;             // answers on those items
};

// One item's answers: (reviewer, category).
using Ratings = std::vector<std::pair<std::string, std::string>>;

// Agreement over `items` (items with fewer than two answers are ignored); nullopt when no item
// has two. A reviewer who answered one item twice counts once (the first answer).
[[nodiscard]] std::optional<Agreement> compute_agreement(const std::vector<Ratings>& items);

// The formulas, on plain tables (exposed for tests against hand-computed values).
// Cohen: `pairs[i]` = (category of rater A, category of rater B) on item i.
[[nodiscard]] std::optional<double> cohen_kappa(
    const std::vector<std::pair<std::string, std::string>>& pairs, double* observed = nullptr);
// Fleiss: `counts[i][j]` = how many raters put item i in category j (all rows the same width,
// each row summing to at least 2).
[[nodiscard]] std::optional<double> fleiss_kappa(const std::vector<std::vector<int>>& counts,
                                                 double* observed = nullptr);

}  // namespace tracefeed::labeling
