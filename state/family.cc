#include "state/family.h"

namespace tracefeed::state {

std::string_view family_name(Family family) noexcept {
  switch (family) {
    case Family::traces: return "traces";
    case Family::spans: return "spans";
    case Family::assessments: return "assessments";
    case Family::pending: return "pending";
    case Family::dedup: return "dedup";
    case Family::decisions: return "decisions";
    case Family::rules: return "rules";
    case Family::offsets: return "offsets";
    case Family::meta: return "meta";
    case Family::labeling: return "labeling";
    case Family::datasets: return "datasets";
  }
  return "unknown";
}

}  // namespace tracefeed::state
