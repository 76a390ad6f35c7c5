#include "processors/evaluate/scorers.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "core/event_json.h"
#include "processors/evaluate/text_match.h"

namespace tracefeed::evaluate {
namespace {

constexpr size_t kMaxScorers = 32;

AssessmentSource code_source(const std::string& id) { return {SourceType::code, id}; }

// Fixed notation for rationales ("0.667"); to_chars, as snprintf's cost showed in profiles.
std::string format_number(double v, int precision = 3) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, precision);
  return ec == std::errc() ? std::string(buf, end) : std::string("?");
}

std::string quote(std::string_view s) { return "\"" + clip_utf8(s, 200) + "\""; }

// Per-thread scratch for the token scorers: no allocation per record once warm.
struct TokenScratch {
  Tokenizer output, expected, fact;
  std::vector<uint64_t> a, b, fact_hashes;
  std::string output_storage, expected_storage;  // for values that are not plain JSON strings
};
TokenScratch& scratch() {
  thread_local TokenScratch s;
  return s;
}

Score missing_expectation(const std::string& scorer, std::string_view what, AssessmentSource source) {
  return Score::error(scorer, kMissingExpectation,
                      scorer + " needs " + std::string(what) + " expectation on the record (none is valid)", std::move(source));
}

Score missing_outputs(const std::string& scorer, AssessmentSource source) {
  return Score::error(scorer, kMissingOutputs, scorer + " needs outputs: the record has none", std::move(source));
}

// ---- deterministic -----------------------------------------------------------------------

class ExactMatch final : public Scorer {
 public:
  using Scorer::Scorer;
  Score score(const EvalRecord& r) const override {
    const JsonText* exp = r.expectation("expected_response");
    if (!exp) return missing_expectation(name(), "an expected_response", code_source(name()));
    if (r.outputs.empty()) return missing_outputs(name(), code_source(name()));
    TokenScratch& s = scratch();
    const auto& out = s.output.tokenize(text_view(r.outputs, s.output_storage));
    const auto& want = s.expected.tokenize(text_view(*exp, s.expected_storage));
    if (out == want) {
      return Score::yes_no(name(), true, "The normalized output equals the normalized expected_response (" +
                                             std::to_string(out.size()) + " tokens).", code_source(name()));
    }
    size_t i = 0;
    while (i < out.size() && i < want.size() && out[i] == want[i]) ++i;
    std::string why = "The normalized output differs from the normalized expected_response at token " + std::to_string(i + 1) + ": ";
    why += i < out.size() ? quote(out[i]) : std::string("(end of output)");
    why += " instead of ";
    why += i < want.size() ? quote(want[i]) : std::string("(end of expected_response)");
    why += ".";
    return Score::yes_no(name(), false, std::move(why), code_source(name()));
  }
};

class TokenF1 final : public Scorer {
 public:
  using Scorer::Scorer;
  Score score(const EvalRecord& r) const override {
    const JsonText* exp = r.expectation("expected_response");
    if (!exp) return missing_expectation(name(), "an expected_response", code_source(name()));
    if (r.outputs.empty()) return missing_outputs(name(), code_source(name()));
    TokenScratch& s = scratch();
    s.output.tokenize(text_view(r.outputs, s.output_storage));
    s.expected.tokenize(text_view(*exp, s.expected_storage));
    s.a = s.output.hashes();
    s.b = s.expected.hashes();
    const TokenOverlap o = token_overlap(s.a, s.b);
    return Score::number(name(), o.f1(),
                         "Token F1 " + format_number(o.f1()) + ": precision " + format_number(o.precision()) + " (" +
                             std::to_string(o.common) + " of " + std::to_string(o.predicted) + " output tokens), recall " +
                             format_number(o.recall()) + " (" + std::to_string(o.common) + " of " + std::to_string(o.expected) +
                             " expected tokens).",
                         code_source(name()));
  }
};

// Covered facts of the output; `missing` gets the facts not covered.
size_t count_covered(std::string_view output_text, const std::vector<std::string>& facts, double threshold,
                     std::vector<const std::string*>& missing) {
  TokenScratch& s = scratch();
  s.output.tokenize(output_text);
  s.a = s.output.hashes();
  std::sort(s.a.begin(), s.a.end());
  size_t covered = 0;
  for (const auto& f : facts) {
    if (fact_covered(s.a, f, threshold, s.fact, s.fact_hashes)) {
      ++covered;
    } else {
      missing.push_back(&f);
    }
  }
  return covered;
}

std::string list_missing(const std::vector<const std::string*>& missing) {
  std::string out;
  for (size_t i = 0; i < missing.size() && i < 10; ++i) {
    if (i) out += ", ";
    out += quote(*missing[i]);
  }
  if (missing.size() > 10) out += " and " + std::to_string(missing.size() - 10) + " more";
  return out;
}

class ExpectedFactsCoverage final : public Scorer {
 public:
  ExpectedFactsCoverage(std::string name, double threshold) : Scorer(std::move(name)), _threshold(threshold) {}
  Score score(const EvalRecord& r) const override {
    const JsonText* exp = r.expectation("expected_facts");
    if (!exp) return missing_expectation(name(), "an expected_facts", code_source(name()));
    if (r.outputs.empty()) return missing_outputs(name(), code_source(name()));
    const std::vector<std::string> facts = strings_of(*exp);
    if (facts.empty()) return missing_expectation(name(), "a non-empty expected_facts", code_source(name()));
    TokenScratch& s = scratch();
    std::vector<const std::string*> missing;
    const size_t covered = count_covered(text_view(r.outputs, s.output_storage), facts, _threshold, missing);
    std::string why = std::to_string(covered) + " of " + std::to_string(facts.size()) + " expected facts are stated in the output";
    why += missing.empty() ? "." : "; missing: " + list_missing(missing) + ".";
    return Score::number(name(), static_cast<double>(covered) / static_cast<double>(facts.size()), std::move(why),
                         code_source(name()));
  }

 private:
  double _threshold;
};

class LatencyMs final : public Scorer {
 public:
  using Scorer::Scorer;
  Score score(const EvalRecord& r) const override {
    if (!r.latency_ms) {
      return Score::error(name(), kMissingLatency, "the record has no duration (no execution_duration, no root span times)",
                          code_source(name()));
    }
    const double ms = std::round(*r.latency_ms * 1000) / 1000;
    return Score::number(name(), ms,
                         (r.outputs_predicted ? "The app's predict call took " : "The trace took ") + format_number(ms, 1) + " ms.",
                         code_source(name()));
  }
};

// ---- judges --------------------------------------------------------------------------------

class JudgeScorer : public Scorer {
 public:
  JudgeScorer(std::string name, const ScorerContext& ctx)
      : Scorer(std::move(name)), _judge(ctx.judge), _unavailable(ctx.judge_unavailable), _prompts(ctx.prompts),
        _scoring(ctx.scoring) {}

 protected:
  AssessmentSource source() const { return {SourceType::llm_judge, _judge ? _judge->model() : std::string("none")}; }
  std::string field(const JsonText& json) const { return clip_utf8(text_of(json), _scoring.max_prompt_field_bytes); }
  std::string clip(std::string_view text) const { return clip_utf8(text, _scoring.max_prompt_field_bytes); }

  Score not_configured() const { return Score::error(name(), kJudgeNotConfigured, _unavailable, source()); }

  Score ask(std::string_view prompt_name, const PromptVars& vars) const {
    auto prompt = _prompts->render(prompt_name, vars);
    if (!prompt.is_ok()) return Score::error(name(), kJudgeError, prompt.status().message(), source());
    auto verdict = _judge->ask(*prompt);
    if (!verdict.is_ok()) {
      const bool parse = verdict.status().code() == ErrorCode::invalid_argument;
      return Score::error(name(), parse ? kJudgeParseError : kJudgeError, verdict.status().message(), source());
    }
    return Score::yes_no(name(), verdict->yes, std::move(verdict->rationale), source());
  }

  Judge* _judge;
  std::string _unavailable;
  const PromptLibrary* _prompts;
  ScoringOptions _scoring;
};

class Correctness final : public JudgeScorer {
 public:
  using JudgeScorer::JudgeScorer;
  Score score(const EvalRecord& r) const override {
    const JsonText* response = r.expectation("expected_response");
    const JsonText* facts = r.expectation("expected_facts");
    if (!_judge) return fallback(r, response, facts);
    if (!response && !facts) return missing_expectation(name(), "an expected_response or expected_facts", source());
    if (r.outputs.empty()) return missing_outputs(name(), source());
    const std::string request = field(r.inputs), output = field(r.outputs);
    // The expert's answer is the stronger reference; facts are used when it is absent.
    if (response) {
      const std::string expected = field(*response);
      return ask("correctness", {{"request", request}, {"response", output}, {"expected_response", expected}});
    }
    const std::vector<std::string> fact_list = strings_of(*facts);
    if (fact_list.empty()) return missing_expectation(name(), "a non-empty expected_facts", source());
    std::string list;
    for (const auto& f : fact_list) list += "\n- " + f;
    list = clip(list);
    return ask("correctness_facts", {{"request", request}, {"response", output}, {"expected_facts", list}});
  }

 private:
  Score fallback(const EvalRecord& r, const JsonText* response, const JsonText* facts) const {
    const AssessmentSource src = code_source(name());
    if (!response && !facts) return missing_expectation(name(), "an expected_response or expected_facts", src);
    if (r.outputs.empty()) return missing_outputs(name(), src);
    const std::string prefix = "Deterministic fallback (" + _unavailable + "): ";
    TokenScratch& s = scratch();
    const std::string_view output_text = text_view(r.outputs, s.output_storage);
    if (facts) {
      const std::vector<std::string> list = strings_of(*facts);
      if (list.empty() && !response) return missing_expectation(name(), "a non-empty expected_facts", src);
      if (!list.empty()) {
        std::vector<const std::string*> missing;
        const size_t covered = count_covered(output_text, list, _scoring.fact_token_threshold, missing);
        std::string why = prefix + std::to_string(covered) + " of " + std::to_string(list.size()) +
                          " expected facts are stated in the output";
        why += missing.empty() ? "." : "; missing: " + list_missing(missing) + ".";
        return Score::yes_no(name(), missing.empty(), std::move(why), src);
      }
    }
    s.output.tokenize(output_text);
    s.expected.tokenize(text_view(*response, s.expected_storage));
    s.a = s.output.hashes();
    s.b = s.expected.hashes();
    const TokenOverlap o = token_overlap(s.a, s.b);
    const double recall = o.expected == 0 ? 1.0 : o.recall();
    const bool yes = recall >= _scoring.correctness_recall_threshold - 1e-9;
    return Score::yes_no(name(), yes,
                         prefix + "the output contains " + std::to_string(o.common) + " of the " + std::to_string(o.expected) +
                             " normalized tokens of expected_response (recall " + format_number(recall) + (yes ? " >= " : " < ") +
                             format_number(_scoring.correctness_recall_threshold) + ").",
                         src);
  }
};

class RelevanceToQuery final : public JudgeScorer {
 public:
  using JudgeScorer::JudgeScorer;
  Score score(const EvalRecord& r) const override {
    if (!_judge) return not_configured();
    if (r.inputs.empty()) return Score::error(name(), kMissingInputs, name() + " needs inputs: the record has none", source());
    if (r.outputs.empty()) return missing_outputs(name(), source());
    const std::string request = field(r.inputs), output = field(r.outputs);
    return ask("relevance_to_query", {{"request", request}, {"response", output}});
  }
};

class RetrievalGroundedness final : public JudgeScorer {
 public:
  using JudgeScorer::JudgeScorer;
  Score score(const EvalRecord& r) const override {
    if (!_judge) return not_configured();
    if (r.retrievals.empty()) {
      return Score::error(name(), kMissingRetrieverSpan, name() + " needs a RETRIEVER span: the trace has none", source());
    }
    if (r.outputs.empty()) return missing_outputs(name(), source());
    std::string context;
    for (const auto& ret : r.retrievals) {
      if (!context.empty()) context += "\n\n";
      if (r.retrievals.size() > 1) context += "[span " + ret.span_id + "]\n";
      context += text_of(ret.outputs);
    }
    const std::string request = field(r.inputs), output = field(r.outputs), ctx = clip(context);
    Score s = ask("retrieval_groundedness", {{"request", request}, {"response", output}, {"context", ctx}});
    if (r.retrievals.size() == 1) s.span_id = r.retrievals.front().span_id;
    return s;
  }
};

std::string render_guidelines(const std::vector<std::string>& guidelines) {
  std::string out;
  for (const auto& g : guidelines) {
    if (!out.empty()) out += "\n";
    out += "- " + g;
  }
  return out;
}

class Guidelines final : public JudgeScorer {
 public:
  Guidelines(std::string name, const ScorerContext& ctx, std::vector<std::string> guidelines)
      : JudgeScorer(std::move(name), ctx), _guidelines(render_guidelines(guidelines)) {}
  Score score(const EvalRecord& r) const override {
    if (!_judge) return not_configured();
    if (r.outputs.empty()) return missing_outputs(name(), source());
    const std::string request = field(r.inputs), output = field(r.outputs);
    return ask("guidelines", {{"guidelines", _guidelines}, {"request", request}, {"response", output}});
  }

 private:
  std::string _guidelines;
};

class ExpectationsGuidelines final : public JudgeScorer {
 public:
  using JudgeScorer::JudgeScorer;
  Score score(const EvalRecord& r) const override {
    if (!_judge) return not_configured();
    const JsonText* g = r.expectation("guidelines");
    if (!g) return missing_expectation(name(), "a guidelines", source());
    const std::vector<std::string> list = strings_of(*g);
    if (list.empty()) return missing_expectation(name(), "a non-empty guidelines", source());
    if (r.outputs.empty()) return missing_outputs(name(), source());
    const std::string request = field(r.inputs), output = field(r.outputs), rendered = clip(render_guidelines(list));
    return ask("guidelines", {{"guidelines", rendered}, {"request", request}, {"response", output}});
  }
};

// ---- HTTP ----------------------------------------------------------------------------------

class HttpScorer final : public Scorer {
 public:
  HttpScorer(std::string name, std::unique_ptr<HttpEndpoint> endpoint) : Scorer(std::move(name)), _endpoint(std::move(endpoint)) {}

  void cancel() override { _endpoint->cancel(); }

  Score score(const EvalRecord& r) const override {
    const AssessmentSource src = code_source(name());
    std::string body;
    JsonWriter w(body);
    w.begin_object();
    w.field_raw("inputs", r.inputs);
    w.field_raw("outputs", r.outputs);
    w.key("expectations");
    w.begin_object();
    for (const auto& [n, v] : r.expectations) w.field_raw(n, v);
    w.end_object();
    w.key("trace");
    if (r.trace) {
      write_json(w, *r.trace);
    } else {
      w.null();
    }
    w.end_object();

    auto reply = _endpoint->post_json("", body);
    if (!reply.is_ok()) return Score::error(name(), kScorerError, reply.status().message(), src);
    if (reply->status < 200 || reply->status > 299) {
      return Score::error(name(), kScorerError,
                          "POST " + _endpoint->url() + ": HTTP " + std::to_string(reply->status) + ": " + clip_utf8(reply->body, 300), src);
    }
    auto tree = parse_json(reply->body);
    if (!tree.is_ok() || !tree->is_object()) {
      return Score::error(name(), kScorerError,
                          "POST " + _endpoint->url() + ": expected a JSON object {value, rationale} or {error}, got " +
                              quote(reply->body),
                          src);
    }
    if (const JsonTree* err = tree->find("error")) {
      std::string code(kScorerError), message;
      if (err->is_string()) {
        message = err->as_string();
      } else if (const JsonTree* m = err->find("error_message"); m && m->is_string()) {
        message = m->as_string();
        if (const JsonTree* c = err->find("error_code"); c && c->is_string() && !c->as_string().empty()) code = c->as_string();
      } else {
        message = err->to_json();
      }
      return Score::error(name(), code, clip_utf8(message, kMaxRationaleBytes / 2), src);
    }
    const JsonTree* value = tree->find("value");
    if (!value) return Score::error(name(), kScorerError, "POST " + _endpoint->url() + ": the reply has no \"value\"", src);
    if (value->is_object()) {
      return Score::error(name(), kScorerError, "POST " + _endpoint->url() + ": \"value\" must be a bool, number, string or list", src);
    }
    std::string rationale;
    if (const JsonTree* rat = tree->find("rationale")) {
      if (!rat->is_string()) return Score::error(name(), kScorerError, "POST " + _endpoint->url() + ": \"rationale\" must be a string", src);
      rationale = clip_utf8(rat->as_string(), kMaxRationaleBytes - 64);
    }
    Score s;
    s.name = name();
    s.feedback.value = value->to_json();
    if (s.feedback.value.size() > kMaxAssessmentValueBytes) {
      return Score::error(name(), kScorerError, "POST " + _endpoint->url() + ": \"value\" is larger than 64 KiB", src);
    }
    s.rationale = std::move(rationale);
    s.source = src;
    return s;
  }

 private:
  std::unique_ptr<HttpEndpoint> _endpoint;
};

struct Alias {
  std::string_view from, to;
};
constexpr Alias kAliases[] = {
    {"Correctness", "correctness"},
    {"RelevanceToQuery", "relevance_to_query"},
    {"RetrievalGroundedness", "retrieval_groundedness"},
    {"Guidelines", "guidelines"},
    {"ExpectationsGuidelines", "expectations_guidelines"},
};

std::string canonical_type(std::string_view t) {
  for (const auto& a : kAliases) {
    if (a.from == t) return std::string(a.to);
  }
  return std::string(t);
}

Status check_name(std::string_view name, const std::string& path) {
  if (name.empty()) return Status::invalid_argument(path + ": must not be empty");
  if (name.size() > kMaxNameBytes) return Status::invalid_argument(path + ": longer than 256 bytes");
  if (name.find('.') != std::string_view::npos || name.find('/') != std::string_view::npos) {
    return Status::invalid_argument(path + ": \"" + std::string(name) + "\" must not contain '.' or '/'");
  }
  if (!is_valid_utf8(name)) return Status::invalid_argument(path + ": not valid UTF-8");
  return Status::ok();
}

// Checks a canonicalized spec. `type_field` is where an unknown type was given (".type",
// ".name" or "" for a bare name); `untyped_object` adds the hint that a custom name needs a type.
Status check_spec(const ScorerSpec& spec, const std::string& path, std::string_view type_field, bool untyped_object) {
  const auto& types = scorer_types();
  if (std::find(types.begin(), types.end(), spec.type) == types.end()) {
    std::string known;
    for (auto t : types) known += (known.empty() ? "" : ", ") + std::string(t);
    return Status::invalid_argument(path + std::string(type_field) + ": unknown scorer \"" + spec.type + "\" (known: " + known + ")" +
                                    (untyped_object ? "; to name a scorer yourself, give its \"type\" too" : ""));
  }
  TF_RETURN_IF_ERROR(check_name(spec.name, path + (type_field.empty() ? "" : ".name")));
  if (spec.type == "guidelines" && spec.guidelines.empty()) {
    return Status::invalid_argument(path + ".guidelines: required for a guidelines scorer (the rules the output must follow)");
  }
  if (spec.type != "guidelines" && !spec.guidelines.empty()) {
    return Status::invalid_argument(path + ".guidelines: only a guidelines scorer takes guidelines");
  }
  for (size_t i = 0; i < spec.guidelines.size(); ++i) {
    if (spec.guidelines[i].empty()) return Status::invalid_argument(path + ".guidelines[" + std::to_string(i) + "]: must not be empty");
  }
  if (spec.type == "http") {
    if (spec.url.empty()) return Status::invalid_argument(path + ".url: required for an http scorer");
    if (auto u = parse_http_url(spec.url); !u.is_ok()) return Status::invalid_argument(path + ".url: " + u.status().message());
  } else if (!spec.url.empty()) {
    return Status::invalid_argument(path + ".url: only an http scorer takes a url");
  }
  return Status::ok();
}

}  // namespace

const std::vector<std::string_view>& scorer_types() {
  static const std::vector<std::string_view> types = {
      "correctness", "relevance_to_query", "retrieval_groundedness", "guidelines", "expectations_guidelines",
      "exact_match", "token_f1",           "expected_facts_coverage", "latency_ms", "http",
  };
  return types;
}

bool uses_judge(std::string_view type) noexcept {
  return type == "correctness" || type == "relevance_to_query" || type == "retrieval_groundedness" || type == "guidelines" ||
         type == "expectations_guidelines";
}

void ScorerSpec::write(JsonWriter& w) const {
  w.begin_object();
  w.field("name", name);
  w.field("type", type);
  if (!guidelines.empty()) {
    w.key("guidelines");
    w.begin_array();
    for (const auto& g : guidelines) w.string(g);
    w.end_array();
  }
  if (!url.empty()) w.field("url", url);
  w.end_object();
}

Result<ScorerSpec> parse_scorer_spec(const JsonTree& json, std::string_view path_view) {
  const std::string path(path_view);
  ScorerSpec spec;
  if (json.is_string()) {
    spec.type = canonical_type(json.as_string());
    spec.name = spec.type;
  } else if (json.is_object()) {
    for (const auto& [k, v] : json.as_object()) {
      if (k != "name" && k != "type" && k != "guidelines" && k != "url") {
        return Status::invalid_argument(path + "." + k + ": unknown field (expected name, type, guidelines, url)");
      }
    }
    const JsonTree* name = json.find("name");
    const JsonTree* type = json.find("type");
    if (name && !name->is_string()) return Status::invalid_argument(path + ".name: expected a string");
    if (type && !type->is_string()) return Status::invalid_argument(path + ".type: expected a string");
    if (!name && !type) return Status::invalid_argument(path + ".name: required");
    spec.type = canonical_type(type ? type->as_string() : name->as_string());
    spec.name = name ? name->as_string() : spec.type;
    if (!type) spec.name = spec.type;  // "Correctness" alone names the scorer "correctness"
    if (const JsonTree* g = json.find("guidelines")) {
      if (g->is_string()) {
        spec.guidelines.push_back(g->as_string());
      } else if (g->is_array()) {
        for (size_t i = 0; i < g->as_array().size(); ++i) {
          const JsonTree& e = g->as_array()[i];
          if (!e.is_string() || e.as_string().empty()) {
            return Status::invalid_argument(path + ".guidelines[" + std::to_string(i) + "]: expected a non-empty string");
          }
          spec.guidelines.push_back(e.as_string());
        }
      } else {
        return Status::invalid_argument(path + ".guidelines: expected a string or a list of strings");
      }
    }
    if (const JsonTree* u = json.find("url")) {
      if (!u->is_string()) return Status::invalid_argument(path + ".url: expected a string");
      spec.url = u->as_string();
    }
  } else {
    return Status::invalid_argument(path + ": expected a scorer name or {name, type, ...}, got " + std::string(json.type_name()));
  }
  TF_RETURN_IF_ERROR(check_spec(spec, path, json.is_string() ? "" : (json.find("type") ? ".type" : ".name"),
                                 json.is_object() && !json.find("type")));
  return spec;
}

Result<ScorerSpec> normalize_scorer_spec(ScorerSpec spec, std::string_view path_view) {
  const std::string path(path_view);
  const bool typed = !spec.type.empty();
  if (!typed && spec.name.empty()) return Status::invalid_argument(path + ".name: required");
  spec.type = canonical_type(typed ? spec.type : spec.name);
  if (!typed || spec.name.empty()) spec.name = spec.type;
  TF_RETURN_IF_ERROR(check_spec(spec, path, typed ? ".type" : ".name", !typed));
  return spec;
}

Result<std::vector<ScorerSpec>> parse_scorer_specs(const JsonTree& json, std::string_view path_view) {
  const std::string path(path_view);
  if (!json.is_array()) return Status::invalid_argument(path + ": expected a list of scorers");
  if (json.as_array().empty()) return Status::invalid_argument(path + ": at least one scorer is required");
  if (json.as_array().size() > kMaxScorers) return Status::invalid_argument(path + ": at most 32 scorers");
  std::vector<ScorerSpec> specs;
  for (size_t i = 0; i < json.as_array().size(); ++i) {
    const std::string item = path + "[" + std::to_string(i) + "]";
    TF_ASSIGN_OR_RETURN(ScorerSpec spec, parse_scorer_spec(json.as_array()[i], item));
    for (const auto& s : specs) {
      if (s.name == spec.name) {
        return Status::invalid_argument(item + ": scorer name \"" + spec.name + "\" is used twice; give one a different \"name\"");
      }
    }
    specs.push_back(std::move(spec));
  }
  return specs;
}

Result<std::unique_ptr<Scorer>> make_scorer(const ScorerSpec& spec, const ScorerContext& ctx) {
  const std::string& t = spec.type;
  if (uses_judge(t) && ctx.judge && !ctx.prompts) return Status::internal("make_scorer: a judge needs prompts");
  if (t == "exact_match") return std::unique_ptr<Scorer>(new ExactMatch(spec.name));
  if (t == "token_f1") return std::unique_ptr<Scorer>(new TokenF1(spec.name));
  if (t == "expected_facts_coverage") {
    return std::unique_ptr<Scorer>(new ExpectedFactsCoverage(spec.name, ctx.scoring.fact_token_threshold));
  }
  if (t == "latency_ms") return std::unique_ptr<Scorer>(new LatencyMs(spec.name));
  if (t == "correctness") return std::unique_ptr<Scorer>(new Correctness(spec.name, ctx));
  if (t == "relevance_to_query") return std::unique_ptr<Scorer>(new RelevanceToQuery(spec.name, ctx));
  if (t == "retrieval_groundedness") return std::unique_ptr<Scorer>(new RetrievalGroundedness(spec.name, ctx));
  if (t == "guidelines") return std::unique_ptr<Scorer>(new Guidelines(spec.name, ctx, spec.guidelines));
  if (t == "expectations_guidelines") return std::unique_ptr<Scorer>(new ExpectationsGuidelines(spec.name, ctx));
  if (t == "http") {
    EndpointOptions eo = ctx.http_scorer;
    eo.url = spec.url;
    TF_ASSIGN_OR_RETURN(auto endpoint, HttpEndpoint::create(std::move(eo)));
    return std::unique_ptr<Scorer>(new HttpScorer(spec.name, std::move(endpoint)));
  }
  return Status::invalid_argument("unknown scorer type \"" + t + "\"");
}

}  // namespace tracefeed::evaluate
