#include "processors/evaluate/verdict.h"

#include "core/json_tree.h"
#include "processors/evaluate/record.h"

namespace tracefeed::evaluate {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string quoted_start(std::string_view answer) { return "\"" + clip_utf8(answer, 200) + "\""; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (x != b[i]) return false;
  }
  return true;
}

}  // namespace

Result<Verdict> parse_verdict(std::string_view answer) {
  std::string_view body = trim(answer);
  if (body.starts_with("```")) {
    // One fence: ```json\n{...}\n``` (the language tag is optional).
    const size_t newline = body.find('\n');
    if (newline == std::string_view::npos || !body.ends_with("```") || body.size() < newline + 4) {
      return Status::invalid_argument("judge answer: unterminated code fence in " + quoted_start(answer));
    }
    body = trim(body.substr(newline + 1, body.size() - newline - 1 - 3));
  }
  if (body.empty()) return Status::invalid_argument("judge answer: empty");
  if (body.front() != '{') {
    return Status::invalid_argument("judge answer: expected a JSON object {\"rationale\", \"result\"}, got " + quoted_start(answer));
  }
  auto tree = parse_json(body);
  if (!tree.is_ok()) {
    return Status::invalid_argument("judge answer: " + tree.status().message() + " in " + quoted_start(answer));
  }
  const JsonTree* result = tree->find("result");
  if (!result) return Status::invalid_argument("judge answer: \"result\" is missing in " + quoted_start(answer));
  if (!result->is_string()) {
    return Status::invalid_argument("judge answer: \"result\": expected \"yes\" or \"no\", got " + std::string(result->type_name()));
  }
  Verdict v;
  if (iequals(result->as_string(), "yes")) {
    v.yes = true;
  } else if (iequals(result->as_string(), "no")) {
    v.yes = false;
  } else {
    return Status::invalid_argument("judge answer: \"result\": expected \"yes\" or \"no\", got " + quoted_start(result->as_string()));
  }
  const JsonTree* rationale = tree->find("rationale");
  if (!rationale) return Status::invalid_argument("judge answer: \"rationale\" is missing in " + quoted_start(answer));
  if (!rationale->is_string()) {
    return Status::invalid_argument("judge answer: \"rationale\": expected a string, got " + std::string(rationale->type_name()));
  }
  if (trim(rationale->as_string()).empty()) return Status::invalid_argument("judge answer: \"rationale\" is empty");
  v.rationale = rationale->as_string();
  return v;
}

Result<std::string> chat_completion_content(std::string_view body) {
  auto tree = parse_json(body);
  if (!tree.is_ok()) return Status::invalid_argument("chat completion: " + tree.status().message());
  const JsonTree* choices = tree->find("choices");
  if (!choices || !choices->is_array() || choices->as_array().empty()) {
    return Status::invalid_argument("chat completion: \"choices\" is missing or empty");
  }
  const JsonTree* message = choices->as_array().front().find("message");
  if (!message || !message->is_object()) return Status::invalid_argument("chat completion: choices[0].message is missing");
  const JsonTree* content = message->find("content");
  if (!content || !content->is_string()) {
    return Status::invalid_argument("chat completion: choices[0].message.content is missing or not a string");
  }
  return content->as_string();
}

}  // namespace tracefeed::evaluate
