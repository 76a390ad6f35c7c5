#pragma once
// Judge prompts: templates with {{placeholder}}s, one per file under processors/evaluate/prompts/.
//
// The files are compiled into the binary (embed_prompts.cmake), so an installed tracefeed needs
// no source tree; a directory given at load (evaluation.prompts_dir) replaces any of them by a
// file of the same name (`correctness.txt`, ...), for tuning a prompt without a rebuild.
//
// Every template is checked when loaded: it may use only its own placeholders and must use all
// of them, so a typo in a tuned prompt fails at startup, not as a silently empty field in every
// judge call. Rendering is one pass: text substituted for a placeholder is never re-scanned.
//
// Templates and placeholders:
//   correctness             request, response, expected_response
//   correctness_facts       request, response, expected_facts
//   relevance_to_query      request, response
//   retrieval_groundedness  request, response, context
//   guidelines              guidelines, request, response   (also expectations_guidelines)
//
// Immutable after load: thread-safe.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace tracefeed::evaluate {

using PromptVars = std::vector<std::pair<std::string_view, std::string_view>>;

// The compiled-in prompt files: name (file name without .txt) → text. Generated.
const std::vector<std::pair<std::string_view, std::string_view>>& builtin_prompt_texts();

class PromptLibrary {
 public:
  // The built-in prompts, each replaced by `dir`/<name>.txt when `dir` is non-empty and that
  // file exists. Errors name the file and the bad or missing placeholder.
  [[nodiscard]] static Result<PromptLibrary> load(const std::string& dir = "");

  // The template `name` with every placeholder replaced by its value in `vars`. Errors:
  // not_found for an unknown template; invalid_argument when `vars` lacks a placeholder.
  [[nodiscard]] Result<std::string> render(std::string_view name, const PromptVars& vars) const;

  // The template text, or nullptr.
  [[nodiscard]] const std::string* find(std::string_view name) const noexcept;

  // Where each template came from ("builtin" or a file path), for the startup log.
  [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& origins() const noexcept { return _origins; }

  // Checks `text` as the template `name` (its placeholders known and all present).
  [[nodiscard]] static Status check_template(std::string_view name, std::string_view text);

 private:
  std::vector<std::pair<std::string, std::string>> _templates;  // name → text
  std::vector<std::pair<std::string, std::string>> _origins;    // name → origin
};

}  // namespace tracefeed::evaluate
