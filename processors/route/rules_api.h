#pragma once
// The rules API (PRODUCT.md §4):
//   POST /api/v1/rules                     {name, filter, sample_rate, priority, backfill, actions}
//   GET  /api/v1/rules                     → {rules: [...]}
//   GET|DELETE /api/v1/rules/{name}         (GET adds backfill_progress {current_version, done,
//                                           evaluated, routed} once a backfill of the rule ran)
//   GET  /api/v1/traces/{trace_id}/decisions → {decisions: [{trace_id, rule, decision, reason, time}]}
//
// Rules from the config file are fixed (409 on an attempt to replace or delete them); rules
// created through the API are stored in state (Family::rules) and survive restarts. Every
// change republishes the whole RuleSet, which the join's owner thread picks up at its next batch.
// A rule with `backfill: true` is also evaluated over the traces already stored, once per rule
// version (load() asks for it for config and stored rules, add() for a new or changed one); the
// join's thread runs it in chunks (Router::backfill_step).

#include <mutex>
#include <string>
#include <vector>

#include "core/result.h"
#include "processors/route/router.h"

namespace tracefeed::http {
class Server;
}
namespace tracefeed::state {
class Store;
}

namespace tracefeed::route {

class RulesRegistry {
 public:
  // `config_rules` are compiled already (errors were reported at load with file:line:col).
  RulesRegistry(state::Store& store, RuleSet& rules, std::vector<Rule> config_rules);

  // Loads API-created rules from state and publishes config + stored rules.
  [[nodiscard]] Status load();
  // Adds a rule. already_exists when the name is taken (unless `overwrite` and not a config rule).
  [[nodiscard]] Status add(Rule rule, bool overwrite);
  [[nodiscard]] Status remove(const std::string& name);

  void register_routes(http::Server& server);

 private:
  void publish_locked();

  state::Store& _store;
  RuleSet& _rules;
  std::mutex _mu;  // guards the vectors below and serialises changes
  std::vector<Rule> _config_rules;
  std::vector<Rule> _api_rules;
};

}  // namespace tracefeed::route
