#include "processors/evaluate/cli.h"

#include <httplib.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "core/json_tree.h"
#include "core/json_writer.h"
#include "processors/evaluate/http_endpoint.h"
#include "processors/evaluate/record.h"

namespace tracefeed::evaluate {
namespace {

std::string fmt_number(double v) {
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e12) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.3f", v);
  }
  return buf;
}

// Pads or cuts (on a UTF-8 boundary, marking the cut) to exactly `width` columns (bytes are
// close enough to columns for ids, numbers and yes/no).
std::string cell(std::string_view s, size_t width) {
  std::string out;
  if (s.size() > width) {
    size_t cut = width > 1 ? width - 1 : 0;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    out = std::string(s.substr(0, cut)) + "~";
  } else {
    out = std::string(s);
  }
  if (out.size() < width) out.append(width - out.size(), ' ');
  return out;
}

std::string error_text(const httplib::Result& res) {
  if (!res) return httplib::to_string(res.error());
  auto tree = parse_json(res->body);
  if (tree.is_ok()) {
    const JsonTree* code = tree->find("error_code");
    const JsonTree* msg = tree->find("message");
    if (code && code->is_string() && msg && msg->is_string()) {
      return "HTTP " + std::to_string(res->status) + " " + code->as_string() + ": " + msg->as_string();
    }
  }
  return "HTTP " + std::to_string(res->status) + ": " + clip_utf8(res->body, 300);
}

const JsonTree* get_path(const JsonTree& t, std::initializer_list<std::string_view> keys) {
  const JsonTree* cur = &t;
  for (auto k : keys) {
    cur = cur->find(k);
    if (!cur) return nullptr;
  }
  return cur;
}

double number_or(const JsonTree* t, double fallback) { return t && t->is_number() ? t->as_number() : fallback; }

class Progress {
 public:
  Progress(std::FILE* err, bool bar) : _err(err), _bar(bar) {}
  void update(const std::string& status, double completed, double total, double errors) {
    if (_bar) {
      constexpr int kWidth = 30;
      const int filled = total > 0 ? static_cast<int>(kWidth * completed / total) : 0;
      std::string bar(static_cast<size_t>(filled), '#');
      bar.append(static_cast<size_t>(kWidth - filled), '.');
      std::fprintf(_err, "\r[%s] %s/%s records, %s errors (%s)   ", bar.c_str(), fmt_number(completed).c_str(),
                   fmt_number(total).c_str(), fmt_number(errors).c_str(), status.c_str());
      std::fflush(_err);
      _drawn = true;
      return;
    }
    // Plain lines: on status changes and every 10 %.
    const int decile = total > 0 ? static_cast<int>(10 * completed / total) : 0;
    if (status != _last_status || decile != _last_decile) {
      std::fprintf(_err, "%s: %s/%s records, %s errors\n", status.c_str(), fmt_number(completed).c_str(), fmt_number(total).c_str(),
                   fmt_number(errors).c_str());
      _last_status = status;
      _last_decile = decile;
    }
  }
  void finish() {
    if (_drawn) std::fputs("\n", _err);
    _drawn = false;
  }

 private:
  std::FILE* _err;
  bool _bar;
  bool _drawn = false;
  std::string _last_status;
  int _last_decile = -1;
};

}  // namespace

CliRequest build_cli_request(const EvaluateCliOptions& o) {
  CliRequest r;
  const int sources = (o.session.empty() ? 0 : 1) + (o.dataset.empty() ? 0 : 1) + (o.filter ? 1 : 0);
  if (sources != 1) {
    r.error = "give exactly one of --session, --dataset or --filter";
    return r;
  }
  if (o.scorers.empty() && o.guidelines.empty()) {
    r.error = "give at least one --scorer (e.g. --scorer correctness)";
    return r;
  }
  JsonWriter w(r.body);
  w.begin_object();
  if (!o.session.empty()) w.field("labeling_session_id", o.session);
  if (!o.dataset.empty()) {
    w.key("dataset");
    w.begin_object();
    w.field("name", o.dataset);
    if (o.dataset_version) w.field_int("version", *o.dataset_version);
    w.end_object();
  }
  if (o.filter) w.field("filter", *o.filter);
  w.key("scorers");
  w.begin_array();
  bool has_guidelines = false;
  for (const auto& s : o.scorers) {
    if (!s.empty() && s.front() == '{') {
      auto tree = parse_json(s);
      if (!tree.is_ok() || !tree->is_object()) {
        r.error = "--scorer " + s + ": not a JSON object: " + tree.status().message();
        return r;
      }
      w.raw(tree->to_json());
    } else if ((s == "guidelines" || s == "Guidelines") && !o.guidelines.empty()) {
      has_guidelines = true;
      w.begin_object();
      w.field("name", "guidelines");
      w.key("guidelines");
      w.begin_array();
      for (const auto& g : o.guidelines) w.string(g);
      w.end_array();
      w.end_object();
    } else {
      w.string(s);
    }
  }
  if (!o.guidelines.empty() && !has_guidelines) {
    w.begin_object();
    w.field("name", "guidelines");
    w.key("guidelines");
    w.begin_array();
    for (const auto& g : o.guidelines) w.string(g);
    w.end_array();
    w.end_object();
  }
  w.end_array();
  if (!o.predict_url.empty()) w.field("predict_url", o.predict_url);
  if (!o.name.empty()) w.field("name", o.name);
  if (!o.evaluation_id.empty()) w.field("evaluation_id", o.evaluation_id);
  if (o.max_records) w.field_int("max_records", static_cast<int64_t>(*o.max_records));
  w.end_object();
  return r;
}

int run_evaluate_cli(const EvaluateCliOptions& o, std::FILE* out, std::FILE* err) {
  CliRequest request = build_cli_request(o);
  if (!request.error.empty()) {
    std::fprintf(err, "tracefeed evaluate: %s\n", request.error.c_str());
    return 2;
  }
  auto url = parse_http_url(o.url);
  if (!url.is_ok()) {
    std::fprintf(err, "tracefeed evaluate: --url %s\n", url.status().message().c_str());
    return 2;
  }
  std::ofstream output_file;
  if (!o.output.empty()) {
    output_file.open(o.output, std::ios::binary | std::ios::trunc);
    if (!output_file) {
      std::fprintf(err, "tracefeed evaluate: --output %s: cannot open for writing\n", o.output.c_str());
      return 2;
    }
  }
  httplib::Client client(url->scheme_host_port);
  client.set_connection_timeout(std::chrono::seconds(10));
  client.set_read_timeout(std::chrono::seconds(60));
  client.set_keep_alive(true);
  httplib::Headers headers;
  std::string token = o.token;
  if (token.empty()) {
    if (const char* t = std::getenv("TRACEFEED_TOKEN")) token = t;
  }
  if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
  const std::string base = url->path + "/api/v1/evaluations";

  auto posted = client.Post(base, headers, request.body, "application/json");
  if (!posted || (posted->status != 200 && posted->status != 202)) {
    std::fprintf(err, "tracefeed evaluate: POST %s%s: %s\n", o.url.c_str(), "/api/v1/evaluations", error_text(posted).c_str());
    return 2;
  }
  auto created = parse_json(posted->body);
  const JsonTree* id_json = created.is_ok() ? created->find("evaluation_id") : nullptr;
  if (!id_json || !id_json->is_string()) {
    std::fprintf(err, "tracefeed evaluate: unexpected reply: %s\n", clip_utf8(posted->body, 300).c_str());
    return 2;
  }
  const std::string id = id_json->as_string();
  std::fprintf(err, "evaluation %s started\n", id.c_str());

  Progress progress(err, o.progress.value_or(isatty(fileno(err)) != 0));
  const auto started = std::chrono::steady_clock::now();
  JsonTree summary;
  int failures = 0;
  while (true) {
    auto res = client.Get(base + "/" + id + "?max_results=0", headers);
    if (!res || res->status != 200) {
      // The server may be restarting: runs survive it, so keep asking for a while.
      if (++failures >= 20 || (res && res->status >= 400 && res->status < 500)) {
        progress.finish();
        std::fprintf(err, "tracefeed evaluate: GET evaluation %s: %s\n", id.c_str(), error_text(res).c_str());
        return 2;
      }
    } else if (auto tree = parse_json(res->body); tree.is_ok()) {
      failures = 0;
      summary = std::move(tree).value();
      const JsonTree* status = summary.find("status");
      const std::string st = status && status->is_string() ? status->as_string() : "unknown";
      progress.update(st, number_or(get_path(summary, {"progress", "completed"}), 0),
                      number_or(get_path(summary, {"progress", "total"}), 0),
                      number_or(get_path(summary, {"progress", "record_errors"}), 0));
      if (st == "done" || st == "failed") break;
    }
    if (o.timeout.count() > 0 && std::chrono::steady_clock::now() - started > o.timeout) {
      progress.finish();
      std::fprintf(err, "tracefeed evaluate: still running after %lld ms; follow it with GET %s/api/v1/evaluations/%s\n",
                   static_cast<long long>(o.timeout.count()), o.url.c_str(), id.c_str());
      return 2;
    }
    std::this_thread::sleep_for(o.poll_interval);
  }
  progress.finish();

  const std::string status = summary.find("status")->as_string();
  if (const JsonTree* warnings = summary.find("warnings"); warnings && warnings->is_array()) {
    for (const auto& w : warnings->as_array()) {
      if (w.is_string()) std::fprintf(err, "warning: %s\n", w.as_string().c_str());
    }
  }
  if (status == "failed") {
    const JsonTree* code = get_path(summary, {"error", "error_code"});
    const JsonTree* msg = get_path(summary, {"error", "message"});
    std::fprintf(err, "evaluation %s failed: %s: %s\n", id.c_str(), code && code->is_string() ? code->as_string().c_str() : "?",
                 msg && msg->is_string() ? msg->as_string().c_str() : "?");
    return 1;
  }

  // Every result, page by page.
  std::vector<JsonTree> results;
  uint64_t page = 0;
  while (true) {
    auto res = client.Get(base + "/" + id + "?max_results=1000&page_token=" + std::to_string(page), headers);
    if (!res || res->status != 200) {
      std::fprintf(err, "tracefeed evaluate: reading results of %s: %s\n", id.c_str(), error_text(res).c_str());
      return 2;
    }
    auto tree = parse_json(res->body);
    if (!tree.is_ok()) {
      std::fprintf(err, "tracefeed evaluate: reading results of %s: %s\n", id.c_str(), tree.status().message().c_str());
      return 2;
    }
    if (const JsonTree* rs = tree->find("results"); rs && rs->is_array()) {
      for (const auto& r : rs->as_array()) {
        if (output_file) output_file << r.to_json() << '\n';
        if (results.size() < o.table_rows) results.push_back(r);
      }
    }
    const JsonTree* next = tree->find("next_page_token");
    if (!next || !next->is_string()) break;
    page = std::strtoull(next->as_string().c_str(), nullptr, 10);
  }
  if (output_file) {
    output_file.flush();
    if (!output_file) {
      std::fprintf(err, "tracefeed evaluate: --output %s: write failed\n", o.output.c_str());
      return 2;
    }
  }

  // Aggregates.
  std::vector<std::string> names;
  if (const JsonTree* scorers = get_path(summary, {"request", "scorers"}); scorers && scorers->is_array()) {
    for (const auto& s : scorers->as_array()) {
      if (const JsonTree* n = s.find("name"); n && n->is_string()) names.push_back(n->as_string());
    }
  }
  const JsonTree* agg = summary.find("aggregates");
  const double total = number_or(get_path(summary, {"progress", "total"}), 0);
  std::fprintf(out, "Evaluation %s: %s records, %s record errors, %s assessments written\n\n", id.c_str(), fmt_number(total).c_str(),
               fmt_number(number_or(get_path(summary, {"progress", "record_errors"}), 0)).c_str(),
               fmt_number(number_or(get_path(summary, {"assessments", "written"}), 0)).c_str());
  size_t name_width = 6;
  for (const auto& n : names) name_width = std::max(name_width, std::min<size_t>(n.size(), 32));
  std::fprintf(out, "%s  %8s  %6s  %6s  %6s  %6s\n", cell("scorer", name_width).c_str(), "mean", "count", "yes", "no", "errors");
  for (const auto& n : names) {
    auto field = [&](const char* suffix) -> std::string {
      const JsonTree* v = agg ? agg->find(n + "/" + suffix) : nullptr;
      return v && v->is_number() ? fmt_number(v->as_number()) : std::string("-");
    };
    std::string mean = "-";
    if (const JsonTree* m = agg ? agg->find(n + "/mean") : nullptr; m && m->is_number()) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.3f", m->as_number());
      mean = buf;
    }
    std::fprintf(out, "%s  %8s  %6s  %6s  %6s  %6s\n", cell(n, name_width).c_str(), mean.c_str(), field("count").c_str(),
                 field("yes").c_str(), field("no").c_str(), field("errors").c_str());
  }

  // Records.
  if (!results.empty()) {
    constexpr size_t kIdWidth = 35, kColWidth = 14;
    std::fprintf(out, "\n%s", cell("trace_id / record", kIdWidth).c_str());
    for (const auto& n : names) std::fprintf(out, "  %s", cell(n, kColWidth).c_str());
    std::fprintf(out, "\n");
    for (const auto& r : results) {
      const JsonTree* rid = r.find("trace_id") ? r.find("trace_id") : r.find("record_id");
      std::fprintf(out, "%s", cell(rid && rid->is_string() ? rid->as_string() : "?", kIdWidth).c_str());
      const JsonTree* rec_err = get_path(r, {"error", "error_code"});
      for (const auto& n : names) {
        std::string v;
        const JsonTree* s = get_path(r, {"scores", n});
        if (rec_err && rec_err->is_string()) {
          v = "! " + rec_err->as_string();
        } else if (!s) {
          v = "-";
        } else if (const JsonTree* e = get_path(*s, {"error", "error_code"}); e && e->is_string()) {
          v = "! " + e->as_string();
        } else if (const JsonTree* val = s->find("value")) {
          v = val->is_string() ? val->as_string() : val->is_number() ? fmt_number(val->as_number()) : val->to_json();
        }
        std::fprintf(out, "  %s", cell(v, kColWidth).c_str());
      }
      std::fprintf(out, "\n");
    }
    if (total > static_cast<double>(results.size())) {
      std::fprintf(out, "... %s more record(s)%s\n", fmt_number(total - static_cast<double>(results.size())).c_str(),
                   o.output.empty() ? "; write them all with --output FILE.jsonl" : (" in " + o.output).c_str());
    }
  }
  if (!o.output.empty()) std::fprintf(err, "results written to %s\n", o.output.c_str());
  std::fflush(out);
  return 0;
}

}  // namespace tracefeed::evaluate
