#pragma once
// Scorers with MLflow's names and contracts. Each turns an EvalRecord into a Score (MLflow's
// Feedback): "yes"/"no" or a number, with a rationale — or an error, never a crash.
//
//   LLM judges (source LLM_JUDGE, source_id = the judge model):
//     correctness              outputs vs the expected_response (or expected_facts) expectation
//     relevance_to_query       does the output address the inputs
//     retrieval_groundedness   is the output supported by the RETRIEVER spans' outputs
//     guidelines               does the output follow the spec's guideline text
//     expectations_guidelines  ... the guidelines in the record's `guidelines` expectation
//   Deterministic (source CODE, source_id = the scorer's name):
//     exact_match              "yes" when the normalized output equals expected_response
//     token_f1                 SQuAD token F1 of the output against expected_response (0..1)
//     expected_facts_coverage  share of expected_facts the output states (0..1)
//     latency_ms               the trace's duration (or the predict call's), in ms
//   Custom:
//     http                     POSTs {inputs, outputs, expectations, trace} to the spec's URL
//                              and reads back {value, rationale} (or {error}): scorers in any
//                              language. Source CODE, source_id = the scorer's name.
//
// Without a judge, the LLM scorers answer JUDGE_NOT_CONFIGURED with the reason — except
// correctness, which falls back to a deterministic method and says so (source CODE):
//   with expected_facts:     "yes" when every fact is covered (fact_covered at
//                            fact_token_threshold, default 0.8 of its tokens);
//   with expected_response:  "yes" when the output contains at least
//                            correctness_recall_threshold (default 0.8) of the reference's
//                            normalized tokens (multiset token recall). Recall, not F1, because
//                            correctness asks whether the answer states what the expert
//                            expected (MLflow's judge asks whether the reference is supported
//                            by the answer); extra detail in the answer is not penalized.
//
// Scorers are immutable after construction; score() is thread-safe.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/json_tree.h"
#include "core/json_writer.h"
#include "core/result.h"
#include "processors/evaluate/http_endpoint.h"
#include "processors/evaluate/judge.h"
#include "processors/evaluate/prompts.h"
#include "processors/evaluate/record.h"
#include "processors/evaluate/score.h"

namespace tracefeed::evaluate {

// The scorer types a spec may name, in documentation order.
[[nodiscard]] const std::vector<std::string_view>& scorer_types();
// Whether scorers of this type call the judge.
[[nodiscard]] bool uses_judge(std::string_view type) noexcept;

// What a request or a rule asks for:
//   "correctness"                                     (also MLflow's class name "Correctness")
//   {"name": "english", "type": "guidelines", "guidelines": ["The response is in English"]}
//   {"name": "my_check", "type": "http", "url": "http://127.0.0.1:9000/score"}
// `type` defaults to `name`. `name` is the assessment name: 1..256 bytes, no '.' (MLflow) and no
// '/' (aggregate keys are "<name>/mean"); unique within one evaluation.
struct ScorerSpec {
  std::string name;
  std::string type;
  std::vector<std::string> guidelines;  // type guidelines: required, non-empty
  std::string url;                      // type http: required

  void write(JsonWriter& w) const;
  bool operator==(const ScorerSpec&) const = default;
};

// Parses one spec; errors name `path` ("scorers[1].guidelines: ...").
[[nodiscard]] Result<ScorerSpec> parse_scorer_spec(const JsonTree& json, std::string_view path);
// Canonicalizes (MLflow class-name aliases, name defaults to type, type to name) and checks a
// spec built in code — the config's evaluation rules. Errors name `path`.
[[nodiscard]] Result<ScorerSpec> normalize_scorer_spec(ScorerSpec spec, std::string_view path);
// Parses a non-empty array of specs with unique names (at most 32).
[[nodiscard]] Result<std::vector<ScorerSpec>> parse_scorer_specs(const JsonTree& json, std::string_view path);

struct ScoringOptions {
  // correctness fallback: least share of expected_response's tokens the output must contain
  // for "yes"; (0, 1]. Default: 0.8.
  double correctness_recall_threshold = 0.8;
  // A fact counts as covered when this share of its tokens occur in the output; (0, 1].
  // Default: 0.8.
  double fact_token_threshold = 0.8;
  // Longest request, response, reference or context text put into a judge prompt (longer
  // ones are cut on a UTF-8 boundary and marked). Default: 32 KiB.
  size_t max_prompt_field_bytes = 32 * 1024;
};

// What scorers are built with. The pointers must outlive the scorers.
struct ScorerContext {
  // The judge, or nullptr (then judge_unavailable says why).
  Judge* judge = nullptr;
  std::string judge_unavailable;
  const PromptLibrary* prompts = nullptr;
  ScoringOptions scoring;
  // Timeout, retries and concurrency of HTTP scorers (the url comes from each spec).
  EndpointOptions http_scorer;
};

class Scorer {
 public:
  explicit Scorer(std::string name) : _name(std::move(name)) {}
  virtual ~Scorer() = default;
  Scorer(const Scorer&) = delete;
  Scorer& operator=(const Scorer&) = delete;

  // The assessment name.
  [[nodiscard]] const std::string& name() const noexcept { return _name; }
  // The score of one record. Thread-safe; never throws; a record it cannot score gets an error
  // Score naming what is missing.
  [[nodiscard]] virtual Score score(const EvalRecord& record) const = 0;
  // Interrupts in-flight HTTP calls (shutdown). Default: nothing to interrupt.
  virtual void cancel() {}

 private:
  std::string _name;
};

// Builds the scorer of a validated spec. Errors: an http scorer whose endpoint cannot be made.
[[nodiscard]] Result<std::unique_ptr<Scorer>> make_scorer(const ScorerSpec& spec, const ScorerContext& context);

}  // namespace tracefeed::evaluate
