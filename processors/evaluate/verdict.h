#pragma once
// Strict parsing of a judge's answer. A judge is asked (prompts/*.txt) for exactly
//   {"rationale": "...", "result": "yes" | "no"}
// and anything else is an error, never a guess: a rationale that merely contains "yes" does not
// count. The only leniencies are ones that cannot change the meaning: surrounding whitespace, one
// markdown code fence around the object (```json ... ```), the case of "yes"/"no", and extra
// members (ignored).
//
// Pure functions, thread-safe.

#include <string>
#include <string_view>

#include "core/result.h"

namespace tracefeed::evaluate {

struct Verdict {
  bool yes = false;
  std::string rationale;
};

// Errors are invalid_argument naming what is wrong, with the start of the answer quoted.
[[nodiscard]] Result<Verdict> parse_verdict(std::string_view answer);

// The assistant message of an OpenAI chat-completions response body:
// choices[0].message.content. Errors name the missing or mistyped field.
[[nodiscard]] Result<std::string> chat_completion_content(std::string_view body);

}  // namespace tracefeed::evaluate
