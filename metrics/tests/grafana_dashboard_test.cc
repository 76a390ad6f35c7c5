// deploy/grafana/tracefeed.json must stay a valid dashboard of metrics that exist: every PromQL
// expression (panel targets and template variables) may name only catalog families (histograms
// through _bucket/_sum/_count), select and group only by labels those families have, and the
// dashboard must show every family of PRODUCT.md §7.

#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/json_tree.h"
#include "metrics/metrics.h"

namespace tracefeed::metrics {
namespace {

// Labels Prometheus attaches to every scraped series.
const std::set<std::string> kTargetLabels = {"instance", "job", "role"};

struct Query {
  std::string where;  // "panel 'x' target A" — for failure messages
  std::string expr;
  std::string legend;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void collect_queries(const JsonTree& panel, std::vector<Query>& out) {
  const JsonTree* title = panel.find("title");
  const std::string name = title && title->is_string() ? title->as_string() : "?";
  if (const JsonTree* targets = panel.find("targets"); targets && targets->is_array()) {
    for (const JsonTree& t : targets->as_array()) {
      const JsonTree* expr = t.find("expr");
      const JsonTree* legend = t.find("legendFormat");
      const JsonTree* ref = t.find("refId");
      out.push_back({"panel '" + name + "' target " + (ref && ref->is_string() ? ref->as_string() : "?"),
                     expr && expr->is_string() ? expr->as_string() : "",
                     legend && legend->is_string() ? legend->as_string() : ""});
    }
  }
  if (const JsonTree* nested = panel.find("panels"); nested && nested->is_array()) {
    for (const JsonTree& p : nested->as_array()) collect_queries(p, out);
  }
}

bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':'; }
bool ident_char(char c) { return ident_start(c) || std::isdigit(static_cast<unsigned char>(c)); }

struct Analysis {
  std::set<std::string> families;         // catalog families referenced
  std::set<std::string> available_labels; // labels of those families (+ le for _bucket)
  std::vector<std::string> errors;
};

// Walks one PromQL expression: metric names, the label names of their selectors, and the label
// names of by/without/on/ignoring clauses and label_values(metric, label).
Analysis analyze(const std::string& expr) {
  Analysis a;
  std::vector<std::string> grouping;
  std::vector<std::pair<std::string, std::string>> selectors;  // (family, label)
  size_t i = 0;
  const size_t n = expr.size();
  auto skip_space = [&](size_t j) {
    while (j < n && std::isspace(static_cast<unsigned char>(expr[j]))) ++j;
    return j;
  };
  auto read_label_list = [&](size_t j, std::vector<std::string>& into) {  // j at '('
    ++j;
    while (j < n && expr[j] != ')') {
      j = skip_space(j);
      size_t s = j;
      while (j < n && ident_char(expr[j])) ++j;
      if (j > s) into.push_back(expr.substr(s, j - s));
      j = skip_space(j);
      if (j < n && expr[j] == ',') ++j;
      else if (j < n && expr[j] != ')') ++j;
    }
    return j + 1;
  };
  while (i < n) {
    const char c = expr[i];
    if (c == '"' || c == '\'') {  // string literal
      for (++i; i < n && expr[i] != c; ++i) {
        if (expr[i] == '\\') ++i;
      }
      ++i;
      continue;
    }
    if (c == '[') {  // range / subquery duration
      while (i < n && expr[i] != ']') ++i;
      ++i;
      continue;
    }
    if (!ident_start(c)) {
      ++i;
      continue;
    }
    size_t s = i;
    while (i < n && ident_char(expr[i])) ++i;
    std::string word = expr.substr(s, i - s);
    size_t j = skip_space(i);
    if ((word == "by" || word == "without" || word == "on" || word == "ignoring") && j < n && expr[j] == '(') {
      i = read_label_list(j, grouping);
      continue;
    }
    if (word == "label_values" && j < n && expr[j] == '(') {
      std::vector<std::string> args;
      i = read_label_list(j, args);
      if (args.size() == 2) {
        selectors.push_back({args[0], ""});
        grouping.push_back(args[1]);
      }
      continue;
    }
    if (word.rfind("tracefeed_", 0) != 0) continue;
    selectors.push_back({word, ""});
    if (j < n && expr[j] == '{') {
      i = j + 1;
      while (i < n && expr[i] != '}') {
        i = skip_space(i);
        size_t ls = i;
        while (i < n && ident_char(expr[i])) ++i;
        if (i > ls) selectors.push_back({word, expr.substr(ls, i - ls)});
        while (i < n && expr[i] != '"' && expr[i] != '}') ++i;  // the operator
        if (i < n && expr[i] == '"') {
          for (++i; i < n && expr[i] != '"'; ++i) {
            if (expr[i] == '\\') ++i;
          }
          ++i;
        }
        i = skip_space(i);
        if (i < n && expr[i] == ',') ++i;
      }
      ++i;
    }
  }

  for (const auto& [metric, label] : selectors) {
    std::string family = metric;
    bool bucket = false;
    const FamilyInfo* info = find_family(family);
    for (std::string suffix : {"_bucket", "_sum", "_count"}) {
      if (info || metric.size() <= suffix.size() || metric.compare(metric.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
      const FamilyInfo* base = find_family(metric.substr(0, metric.size() - suffix.size()));
      if (base && base->kind == Kind::histogram) {
        info = base;
        family = std::string(base->name);
        bucket = suffix == "_bucket";
      }
    }
    if (!info) {
      a.errors.push_back("unknown metric " + metric);
      continue;
    }
    if (info->kind == Kind::histogram && family == metric) a.errors.push_back(metric + " is a histogram: use _bucket/_sum/_count");
    a.families.insert(family);
    for (auto l : info->labels) a.available_labels.insert(std::string(l));
    if (bucket) a.available_labels.insert("le");
    if (!label.empty()) {
      const bool known = kTargetLabels.count(label) || (bucket && label == "le") ||
                         std::find(info->labels.begin(), info->labels.end(), label) != info->labels.end();
      if (!known) a.errors.push_back(metric + " has no label " + label);
    }
  }
  for (const auto& g : grouping) {
    if (!a.available_labels.count(g) && !kTargetLabels.count(g)) a.errors.push_back("grouping by unknown label " + g);
  }
  return a;
}

class GrafanaDashboard : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string text = read_file(std::string(TRACEFEED_SOURCE_DIR) + "/deploy/grafana/tracefeed.json");
    ASSERT_FALSE(text.empty()) << "deploy/grafana/tracefeed.json missing";
    auto parsed = parse_json(text);
    ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string();
    _dashboard = std::move(parsed).value();
  }
  JsonTree _dashboard;
};

TEST_F(GrafanaDashboard, IsADashboardWithUniquePanelIds) {
  ASSERT_TRUE(_dashboard.is_object());
  for (std::string key : {"uid", "title"}) {
    const JsonTree* v = _dashboard.find(key);
    ASSERT_TRUE(v && v->is_string() && !v->as_string().empty()) << key;
  }
  const JsonTree* panels = _dashboard.find("panels");
  ASSERT_TRUE(panels && panels->is_array() && !panels->as_array().empty());
  std::set<double> ids;
  for (const JsonTree& p : panels->as_array()) {
    const JsonTree* id = p.find("id");
    ASSERT_TRUE(id && id->is_number());
    EXPECT_TRUE(ids.insert(id->as_number()).second) << "duplicate panel id " << id->as_number();
    const JsonTree* grid = p.find("gridPos");
    ASSERT_TRUE(grid && grid->is_object());
    for (std::string k : {"h", "w", "x", "y"}) EXPECT_TRUE(grid->find(k) && grid->find(k)->is_number()) << k;
  }
}

TEST_F(GrafanaDashboard, QueriesNameOnlyExistingMetricsAndLabels) {
  std::vector<Query> queries;
  collect_queries(_dashboard, queries);
  if (const JsonTree* templ = _dashboard.find("templating"); templ && templ->find("list")) {
    for (const JsonTree& v : templ->find("list")->as_array()) {
      if (const JsonTree* def = v.find("definition"); def && def->is_string()) {
        queries.push_back({"variable " + v.find("name")->as_string(), def->as_string(), ""});
      }
    }
  }
  ASSERT_GE(queries.size(), catalog().size());
  std::set<std::string> shown;
  for (const Query& q : queries) {
    ASSERT_FALSE(q.expr.empty()) << q.where << ": empty expr";
    Analysis a = analyze(q.expr);
    EXPECT_TRUE(a.errors.empty()) << q.where << ": " << q.expr << "\n  " << (a.errors.empty() ? "" : a.errors.front());
    EXPECT_FALSE(a.families.empty()) << q.where << ": names no tracefeed metric: " << q.expr;
    shown.insert(a.families.begin(), a.families.end());
    // {{label}} in a legend must be a label the query's result can carry.
    for (size_t p = q.legend.find("{{"); p != std::string::npos; p = q.legend.find("{{", p + 2)) {
      const size_t e = q.legend.find("}}", p);
      ASSERT_NE(e, std::string::npos) << q.where;
      const std::string label = q.legend.substr(p + 2, e - p - 2);
      EXPECT_TRUE(a.available_labels.count(label) || kTargetLabels.count(label))
          << q.where << ": legend uses {{" << label << "}}";
    }
  }
  for (const FamilyInfo& f : catalog()) {
    EXPECT_TRUE(shown.count(std::string(f.name))) << "no panel shows " << f.name;
  }
}

TEST(GrafanaDashboardChecker, CatchesUnknownMetricsAndLabels) {
  // The checker itself must be able to fail.
  EXPECT_TRUE(analyze(R"(sum by (name) (rate(tracefeed_feedback_total{name=~"$name"}[5m])))").errors.empty());
  EXPECT_TRUE(analyze(R"(histogram_quantile(0.9, sum by (le) (rate(tracefeed_route_latency_seconds_bucket[5m]))))").errors.empty());
  EXPECT_FALSE(analyze("rate(tracefeed_feedbacks_total[5m])").errors.empty());
  EXPECT_FALSE(analyze(R"(tracefeed_feedback_total{session="x"})").errors.empty());
  EXPECT_FALSE(analyze("sum by (reviewer) (tracefeed_feedback_total)").errors.empty());
  EXPECT_FALSE(analyze("tracefeed_route_latency_seconds").errors.empty());
  EXPECT_FALSE(analyze("tracefeed_state_bytes_bucket").errors.empty());
  EXPECT_FALSE(analyze("label_values(tracefeed_review_queue_depth, scorer)").errors.empty());
}

TEST(PrometheusConfig, ScrapesTheMetricsPath) {
  const std::string yml = read_file(std::string(TRACEFEED_SOURCE_DIR) + "/deploy/prometheus/prometheus.yml");
  ASSERT_FALSE(yml.empty()) << "deploy/prometheus/prometheus.yml missing";
  EXPECT_NE(yml.find("job_name: tracefeed"), std::string::npos);
  EXPECT_NE(yml.find("metrics_path: " + config::MetricsOptions{}.path), std::string::npos);
}

}  // namespace
}  // namespace tracefeed::metrics
